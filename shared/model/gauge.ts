/**
 * The gauge last-writer-wins rule, in one home: a gauge set wins over the stored (or already aggregated)
 * set when its event time is later; on equal event times the larger value wins, so the outcome does not
 * depend on the order in which redeliveries and retries arrive (shared/store/types.ts, point 3).
 *
 * The in-process aggregation (shared/ingest/aggregate.ts) and the memory store call `gaugeSetWins`; the
 * DynamoDB store evaluates the same rule as a condition expression (its apply writer cites this module).
 */

/** A gauge set: its event time (ms) and value. */
export interface GaugeSet {
  readonly timeMs: number;
  readonly value: number;
}

/** True when a set at `timeMs` with `value` replaces the set at `storedTimeMs` with `storedValue`. */
export function gaugeSetWins(
  timeMs: number,
  value: number,
  storedTimeMs: number,
  storedValue: number,
): boolean {
  return timeMs > storedTimeMs || (timeMs === storedTimeMs && value > storedValue);
}

/** `gaugeSetWins` for two sets. */
export function newerSet(a: GaugeSet, b: GaugeSet): boolean {
  return gaugeSetWins(a.timeMs, a.value, b.timeMs, b.value);
}
