/**
 * The two encodings of one side of a native histogram and the sparse map Accrue computes on:
 * - spans + absolute populations (`NativeBuckets`, the float variant and Accrue's stored form);
 * - spans + deltas (the integer variant: each delta relative to the previous bucket in the list, the
 *   first relative to zero);
 * - `SparseBuckets`, index → population.
 *
 * Callers validate first (validate.ts): these functions assume the sum of span lengths equals the number
 * of populations, and they never iterate over a span's offset (only over populations), so a hostile
 * offset of 2^31 costs nothing.
 */
import type { BucketSpan, NativeBuckets, SparseBuckets } from './types';
import { EMPTY_BUCKETS } from './types';

/** Absolute populations from integer-variant deltas. */
export function deltasToCounts(deltas: readonly number[]): number[] {
  const out: number[] = [];
  let running = 0;
  for (const d of deltas) {
    running += d;
    out.push(running);
  }
  return out;
}

/** Integer-variant deltas from absolute populations. */
export function countsToDeltas(counts: readonly number[]): number[] {
  const out: number[] = [];
  let prev = 0;
  for (const c of counts) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

/** Visits every bucket as (absolute index, population), ascending. */
export function forEachBucket(b: NativeBuckets, visit: (index: number, count: number) => void): void {
  let index = 0;
  let at = 0;
  for (let s = 0; s < b.spans.length; s++) {
    const span = b.spans[s]!;
    index += span.offset;
    for (let k = 0; k < span.length; k++) {
      visit(index, b.counts[at++]!);
      index++;
    }
  }
}

export function toSparse(b: NativeBuckets): SparseBuckets {
  const out: SparseBuckets = new Map();
  forEachBucket(b, (index, count) => {
    if (count !== 0) out.set(index, (out.get(index) ?? 0) + count);
  });
  return out;
}

/**
 * Spans + populations from a sparse map: empty buckets dropped, one span per run of consecutive indices
 * (a gap of one or two empty buckets is written as explicit zeros instead of a new span, as client_golang
 * does, which keeps the span list short).
 */
export function fromSparse(sparse: SparseBuckets): NativeBuckets {
  const indices = [...sparse.keys()].filter((i) => sparse.get(i) !== 0).sort((a, b) => a - b);
  return fromAscending(
    indices,
    indices.map((i) => sparse.get(i)!),
  );
}

/**
 * Spans + populations (as `fromSparse` writes them) from bucket indices in ascending order, each with its
 * population `counts[k]` (> 0), or 1 each when `counts` is left out: then `indices` is a sorted list of
 * observed bucket indices, and a repeated index adds to its bucket.
 */
export function fromAscending(indices: readonly number[], counts?: readonly number[]): NativeBuckets {
  if (indices.length === 0) return EMPTY_BUCKETS;
  const spans: BucketSpan[] = [];
  const out: number[] = [];
  let spanLength = 0;
  let spanOffset = indices[0]!;
  let next = spanOffset;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    const c = counts === undefined ? 1 : counts[k]!;
    if (spanLength > 0 && i === next - 1) {
      out[out.length - 1]! += c;
      continue;
    }
    const gap = i - next;
    if (spanLength > 0 && gap > 2) {
      spans.push({ offset: spanOffset, length: spanLength });
      spanOffset = gap;
      spanLength = 0;
    } else {
      for (let g = 0; g < gap; g++) out.push(0);
      spanLength += gap;
    }
    out.push(c);
    spanLength++;
    next = i + 1;
  }
  spans.push({ offset: spanOffset, length: spanLength });
  return { spans, counts: out };
}

/** Number of populated buckets of one side. */
export function populatedBuckets(b: NativeBuckets): number {
  let n = 0;
  for (const c of b.counts) if (c !== 0) n++;
  return n;
}
