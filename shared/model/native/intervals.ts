/**
 * The populated buckets of a native histogram as intervals, in the order and with the boundary codes of
 * Prometheus' HTTP API (and the Pushgateway's `/api/v1/metrics`): negative buckets from the most negative
 * up, then the zero bucket, then the positive buckets. Boundary codes: 0 = (lower, upper], 1 = [lower,
 * upper), 3 = [lower, upper] (the zero bucket). Empty buckets are left out.
 */
import { bucketLowerBound, bucketUpperBound } from './buckets';
import { forEachBucket } from './spans';
import type { NativeHistogram } from './types';

export interface BucketInterval {
  readonly boundaries: 0 | 1 | 2 | 3;
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
}

export function bucketIntervals(h: NativeHistogram): BucketInterval[] {
  const negative: BucketInterval[] = [];
  forEachBucket(h.negative, (i, count) => {
    if (count === 0) return;
    negative.push({
      boundaries: 1,
      lower: -bucketUpperBound(i, h.schema),
      upper: -bucketLowerBound(i, h.schema),
      count,
    });
  });
  const out = negative.reverse();
  if (h.zeroCount !== 0) {
    out.push({ boundaries: 3, lower: -h.zeroThreshold, upper: h.zeroThreshold, count: h.zeroCount });
  }
  forEachBucket(h.positive, (i, count) => {
    if (count === 0) return;
    out.push({
      boundaries: 0,
      lower: bucketLowerBound(i, h.schema),
      upper: bucketUpperBound(i, h.schema),
      count,
    });
  });
  return out;
}
