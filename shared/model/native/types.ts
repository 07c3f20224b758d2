/**
 * Native (sparse, exponential) histograms: the data model of the Prometheus native histogram spec
 * (prometheus/docs `specs/native_histograms.md`) in the form Accrue stores and merges.
 *
 * Only the standard exponential schemas -4..8 are supported (schema -53, custom buckets, is refused).
 * Bucket populations are kept ABSOLUTE (not the protobuf integer variant's deltas) and as numbers, so one
 * shape carries both the integer and the float variant; a histogram whose populations are all safe
 * integers is written back as the integer variant (see `isIntegerNative`).
 *
 * The observation count and sum are not part of this shape: they live on the HistogramSeries beside it,
 * shared with the classic buckets when a family carries both (as client_golang sends them).
 */

/** Lowest and highest standard exponential schema (spec: "-4 and +8"). */
export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;
/** The custom-bucket schema (NHCB); refused with its own message. */
export const CUSTOM_BUCKETS_SCHEMA = -53;

/**
 * Most populated buckets one native histogram may carry (positive and negative together). A bound on
 * memory per series: a push above it is refused; a merge above it is reduced to a lower schema, as
 * client_golang does when its bucket limit is reached. client_golang's default limit is 160.
 */
export const MAX_NATIVE_BUCKETS = 4096;

/** A run of consecutive bucket indices (metrics.proto `BucketSpan`). */
export interface BucketSpan {
  /** Gap to the previous span's end; for the first span, the index of its first bucket. int32. */
  readonly offset: number;
  /** Buckets in the run. uint32. */
  readonly length: number;
}

/** One side (positive or negative) of a native histogram: spans and the absolute population of each bucket. */
export interface NativeBuckets {
  readonly spans: readonly BucketSpan[];
  /** Absolute populations, one per bucket the spans cover (sum of lengths), each finite and >= 0. */
  readonly counts: readonly number[];
}

export interface NativeHistogram {
  /** -4..8: bucket boundaries are powers of 2^(2^-schema). */
  readonly schema: number;
  /** Observations with |v| <= zeroThreshold go to the zero bucket. Finite, >= 0. */
  readonly zeroThreshold: number;
  /** Population of the zero bucket. Finite, >= 0. */
  readonly zeroCount: number;
  readonly positive: NativeBuckets;
  readonly negative: NativeBuckets;
}

/** Sparse absolute form used while computing: bucket index → population (ascending indices). */
export type SparseBuckets = Map<number, number>;

export const EMPTY_BUCKETS: NativeBuckets = Object.freeze({
  spans: Object.freeze([]) as readonly BucketSpan[],
  counts: Object.freeze([]) as readonly number[],
});
