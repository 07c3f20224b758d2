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
