/**
 * A native histogram from raw observations (what the event path aggregates), following the spec's
 * "Special cases of observed values": |v| <= zero threshold → zero bucket; NaN → counted, no bucket;
 * ±Inf → the positive / negative overflow bucket; the sum follows float arithmetic.
 */
import { bucketIndex } from './buckets';
import { fromSparse } from './spans';
import type { NativeHistogram, SparseBuckets } from './types';

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
  const positive: SparseBuckets = new Map();
  const negative: SparseBuckets = new Map();
  let zeroCount = 0;
  let sum = 0;
  for (const v of values) {
    sum += v;
    if (Number.isNaN(v)) continue;
    if (Math.abs(v) <= zeroThreshold) zeroCount++;
    else {
      const side = v > 0 ? positive : negative;
      const i = bucketIndex(Math.abs(v), schema);
      side.set(i, (side.get(i) ?? 0) + 1);
    }
  }
  return {
    native: {
      schema,
      zeroThreshold,
      zeroCount,
      positive: fromSparse(positive),
      negative: fromSparse(negative),
    },
    count: values.length,
    sum,
  };
}
