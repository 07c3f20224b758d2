/**
 * Native histograms from raw observations (what the event path aggregates), following the spec's
 * "Special cases of observed values": |v| <= zero threshold → zero bucket; NaN → counted, no bucket;
 * ±Inf → the positive / negative overflow bucket; the sum follows float arithmetic.
 */
import { bucketIndex } from './buckets';
import { fromSparse } from './spans';
import type { NativeHistogram, SparseBuckets } from './types';

/** The layout a profile declares for a native histogram: a standard schema and a zero threshold. */
export interface NativeLayout {
  readonly schema: number;
  readonly zeroThreshold: number;
}

/** Buckets of observations, one at a time (the ingest's per-series accumulator). */
export class NativeObserver {
  zeroCount = 0;
  readonly positive: SparseBuckets = new Map();
  readonly negative: SparseBuckets = new Map();
  constructor(readonly layout: NativeLayout) {}

  observe(v: number): void {
    if (Number.isNaN(v)) return;
    if (Math.abs(v) <= this.layout.zeroThreshold) {
      this.zeroCount++;
      return;
    }
    const side = v > 0 ? this.positive : this.negative;
    const i = bucketIndex(Math.abs(v), this.layout.schema);
    side.set(i, (side.get(i) ?? 0) + 1);
  }

  histogram(): NativeHistogram {
    return {
      schema: this.layout.schema,
      zeroThreshold: this.layout.zeroThreshold,
      zeroCount: this.zeroCount,
      positive: fromSparse(this.positive),
      negative: fromSparse(this.negative),
    };
  }
}

export interface ObservedNative {
  readonly native: NativeHistogram;
  readonly count: number;
  readonly sum: number;
}

export function observeNative(
  values: readonly number[],
  schema: number,
  zeroThreshold: number,
): ObservedNative {
  const o = new NativeObserver({ schema, zeroThreshold });
  let sum = 0;
  for (const v of values) {
    sum += v;
    o.observe(v);
  }
  return { native: o.histogram(), count: values.length, sum };
}
