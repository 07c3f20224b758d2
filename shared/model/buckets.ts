/**
 * Classic histogram bucket layouts: the one home of their identity rules (shared/model/types.ts states the
 * bucket invariants: finite `le`, strictly ascending, `+Inf` implied). The stores, the SQS decoder and the
 * aggregation compare layouts with these, never with their own loops.
 */

/** Element-wise equality of two bucket layouts (`undefined` only equals itself). */
export function sameBounds(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Canonical text of histogram bounds (shortest round-trip number text), as stores keep and compare it. */
export function boundsKey(bounds: readonly number[]): string {
  return bounds.join(',');
}

/** Rules for one bound of a layout (histogram_observe bounds, profile and event buckets). */
export const BOUND_RULES = {
  finite: 'must be a finite number (+Inf is implied)',
  ascending: 'must be greater than the previous bound (strictly ascending)',
} as const;

/** One broken layout rule: the index of the bound and the rule's text (the caller adds its path). */
export interface BoundProblem {
  readonly index: number;
  readonly message: string;
}

const NO_BOUND_PROBLEMS: readonly BoundProblem[] = Object.freeze([]);

/**
 * Every bound of a bucket layout that breaks its rules: each finite (`+Inf` is implied, never listed)
 * and greater than the bound before it. O(bounds); no allocation when the layout is valid.
 */
export function layoutProblems(bounds: ArrayLike<unknown>): readonly BoundProblem[] {
  let out: BoundProblem[] | undefined;
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i];
    let message: string | undefined;
    if (typeof b !== 'number' || !Number.isFinite(b)) message = BOUND_RULES.finite;
    else if (i > 0) {
      const prev = bounds[i - 1];
      if (typeof prev === 'number' && !(b > prev)) message = BOUND_RULES.ascending;
    }
    if (message === undefined) continue;
    if (out === undefined) out = [];
    out.push({ index: i, message });
  }
  return out ?? NO_BOUND_PROBLEMS;
}

/**
 * A classic histogram's cumulative buckets broke a rule. `index` is the bucket's position in the order
 * given to `checkCumulativeBuckets` (-1 for the series' count). `rule`:
 * - `bound`: an upper bound that is NaN or infinite (the `+Inf` bucket is given apart, as `inf`);
 * - `duplicate`: the same upper bound twice; `ascending`: bounds out of order;
 * - `bucketCount`: a bucket count that is not a finite number >= 0;
 * - `cumulative`: a bucket count below the count of a lower bucket;
 * - `noCount`: neither a count nor a `+Inf` bucket; `inf`: the `+Inf` bucket differs from the count;
 * - `count`: a count that is not a finite number >= 0; `countBelow`: a count below the highest bucket's.
 */
export interface BucketProblem {
  readonly rule:
    | 'bound'
    | 'duplicate'
    | 'ascending'
    | 'bucketCount'
    | 'cumulative'
    | 'noCount'
    | 'inf'
    | 'count'
    | 'countBelow';
  readonly index: number;
  readonly le?: number;
  readonly value?: number;
  readonly other?: number;
}

/**
 * The one check of a classic histogram's buckets (text and protobuf parsers, the push validator, the
 * store): bounds finite and strictly ascending, counts finite, >= 0 and cumulative, and the series count
 * settled: the `+Inf` bucket stands for it when it is missing and must equal it when both are given; the
 * count is finite, >= 0 and not below the highest bucket. Buckets are read through `le(i)`/`count(i)`
 * (i in 0..n-1, ascending order) so each caller keeps its own layout. Returns the settled count, or the
 * first broken rule. O(n), no allocation on success.
 */
export function checkCumulativeBuckets(
  n: number,
  le: (i: number) => number,
  count: (i: number) => number,
  seriesCount: number | undefined,
  inf: number | undefined,
): { readonly count: number } | BucketProblem {
  let prevLe = Number.NEGATIVE_INFINITY;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const at = le(i);
    const v = count(i);
    if (!Number.isFinite(at)) return { rule: 'bound', index: i, le: at };
    if (i > 0 && at === prevLe) return { rule: 'duplicate', index: i, le: at };
    if (i > 0 && at < prevLe) return { rule: 'ascending', index: i, le: at };
    if (!(v >= 0) || v === Number.POSITIVE_INFINITY)
      return { rule: 'bucketCount', index: i, le: at, value: v };
    if (v < prev) return { rule: 'cumulative', index: i, le: at, value: v, other: prev };
    prevLe = at;
    prev = v;
  }
  let total = seriesCount;
  if (total === undefined) {
    if (inf === undefined) return { rule: 'noCount', index: -1 };
    total = inf;
  } else if (inf !== undefined && inf !== total) return { rule: 'inf', index: -1, value: inf, other: total };
  if (!(total >= 0) || total === Number.POSITIVE_INFINITY) return { rule: 'count', index: -1, value: total };
  if (total < prev) return { rule: 'countBelow', index: -1, value: total, other: prev };
  return { count: total };
}

/** True when `checkCumulativeBuckets` refused. */
export function isBucketProblem(r: { readonly count: number } | BucketProblem): r is BucketProblem {
  return (r as BucketProblem).rule !== undefined;
}

/**
 * The text of a broken bucket rule, without where it happened (callers prefix their series or path).
 * `countName` names the series count as the caller's format does (`x_count`, `sample_count`, `count`).
 */
export function bucketProblemText(
  p: BucketProblem,
  countName: string,
  fmt: (v: number) => string = String,
): string {
  const le = p.le === undefined ? '' : fmt(p.le);
  switch (p.rule) {
    case 'bound':
      return `bucket upper bound must be finite (the +Inf bucket is the count), got ${le}`;
    case 'duplicate':
      return `duplicate bucket upper bound ${le}`;
    case 'ascending':
      return `bucket upper bounds must be strictly ascending (le=${le})`;
    case 'bucketCount':
      return `bucket count must be a finite number >= 0, got ${p.value}`;
    case 'cumulative':
      return `buckets are not cumulative (le="${le}" has ${p.value} < ${p.other} of a lower bucket)`;
    case 'noCount':
      return `has neither ${countName} nor a le="+Inf" bucket`;
    case 'inf':
      return `le="+Inf" bucket (${p.value}) differs from ${countName} (${p.other})`;
    case 'count':
      return `${countName} must be a finite number >= 0, got ${p.value}`;
    case 'countBelow':
      return `${countName} ${p.value} is below the highest bucket's ${p.other}`;
  }
}
