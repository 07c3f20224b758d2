/**
 * An aggregating push (docs/service.md "Aggregating pushes") as the store's apply request: the same ops
 * SQS events become, so it is applied exactly once per key through the same ledger and the same rules.
 *
 * - counter: the sample is an increment (`counter_inc`, >= 0), summed into the series;
 * - histogram: its buckets are this push's observations (cumulative in the body; `histogram_observe` with
 *   per-bucket counts, whole numbers), summed into the series with the same bucket layout;
 * - gauge: the sample is the new value (`gauge_set`), last writer wins by event time: the sample's
 *   timestamp when the body has one (clamped to the clock plus the allowed skew), else the arrival time,
 *   as for SQS gauge events;
 * - native histograms (protobuf): their buckets are this push's observations too (`histogram_observe` with
 *   `native`; whole-number populations adding up to the count), added into the series by the spec (a
 *   different schema reduces to the lower one), with or without classic buckets beside them; a series
 *   keeps native buckets for its whole life or never has them (docs/store.md);
 * - summary and untyped are refused: quantiles can't be summed, and an untyped sample doesn't say whether
 *   to sum or to replace it.
 *
 * Every op is checked with the op rule (`opProblems`, shared/store/valid.ts) here, at the edge, so a body is
 * applied whole or refused whole, with paths naming the family and series, not the op; the request is then
 * a `ValidApplyRequest`, which the store checks against its state only. The grouping key must have legacy
 * label names, as for SQS events.
 */
import { ENVELOPE_LIMITS } from '../model/envelope-constants';
import { type Problem, RejectReason, ValidationError } from '../model/errors';
import type { HistogramSeries, Labels, MetricFamily, ScalarSeries } from '../model/types';
import { normalizeGroupingKey } from '../store/grouping';
import type { GroupingKey, MetricOp, ValidApplyRequest } from '../store/types';
import { brandCheckedApply, opProblems } from '../store/valid';

export interface DeltaOptions {
  /** Arrival time: a gauge sample's event time when it has no timestamp. */
  readonly nowMs: number;
  /** How far a sample timestamp may lie ahead of `nowMs`; later ones are clamped (the SQS path's rule). */
  readonly maxFutureMs: number;
}

/** Finite bucket bounds one aggregated histogram may have (as a generic SQS histogram event). */
export const MAX_BUCKETS = 64;

/** The apply request of prepared families (`prepareTimedFamilies`); throws ValidationError, nothing applied. */
export function deltaRequest(
  id: string,
  group: GroupingKey,
  families: readonly MetricFamily[],
  options: DeltaOptions,
): ValidApplyRequest {
  // Aggregated like SQS events, so legacy names in the grouping key too (docs/exposition.md "UTF-8 names").
  normalizeGroupingKey(group, 'legacy');
  const ops: MetricOp[] = [];
  const problems: Problem[] = [];
  let eventTimeMs = -1;
  for (const f of families) {
    if (f.type === 'summary' || f.type === 'untyped') {
      problems.push({
        path: f.name,
        message:
          f.type === 'summary'
            ? 'summaries are refused by aggregating pushes (quantiles cannot be summed; push a histogram)'
            : 'untyped samples are refused by aggregating pushes (declare # TYPE counter, gauge or histogram)',
      });
      continue;
    }
    const help = f.help ? { help: f.help } : {};
    for (const sr of f.series as readonly (ScalarSeries | HistogramSeries)[]) {
      const path = `${f.name}${labelText(sr.labels)}`;
      let t = sr.timestampMs;
      if (t !== undefined) {
        if (!(t >= 0 && t <= ENVELOPE_LIMITS.maxTimeMs)) {
          problems.push({
            path: `${path} timestamp`,
            message: `must be >= 0 and at most ${ENVELOPE_LIMITS.maxTimeMs} (the end of the Date range, ms)`,
          });
          continue;
        }
        // The SQS path's rule (appliedTime in shared/ingest/map.ts): a time ahead of the clock by more
        // than the allowed skew is clamped to it, so no producer pins a gauge ahead of everyone else.
        t = Math.min(t, options.nowMs + options.maxFutureMs);
        eventTimeMs = Math.max(eventTimeMs, t);
      }
      const op = opOf(f, sr, help, t ?? options.nowMs, path, problems);
      if (!op) continue;
      for (const p of opProblems(op, ops.length, group))
        problems.push({ path: p.path.replace(/^ops\[\d+\]/, path), message: p.message });
      ops.push(op);
    }
  }
  if (problems.length > 0) throw new ValidationError(problems, RejectReason.invalid);
  // Every op passed `opProblems` above.
  return brandCheckedApply(eventTimeMs >= 0 ? { id, group, ops, eventTimeMs } : { id, group, ops });
}

function opOf(
  f: MetricFamily,
  sr: ScalarSeries | HistogramSeries,
  help: { help?: string },
  timeMs: number,
  path: string,
  problems: Problem[],
): MetricOp | undefined {
  const base = { name: f.name, labels: sr.labels, ...help };
  if (f.type === 'counter') return { kind: 'counter_inc', ...base, value: (sr as ScalarSeries).value };
  if (f.type === 'gauge') return { kind: 'gauge_set', ...base, value: (sr as ScalarSeries).value, timeMs };
  const h = sr as HistogramSeries;
  if (h.buckets.length > MAX_BUCKETS) {
    problems.push({ path, message: `must have at most ${MAX_BUCKETS} finite buckets` });
    return undefined;
  }
  const counts: number[] = [];
  let prev = 0;
  for (const b of h.buckets) {
    counts.push(b.count - prev);
    prev = b.count;
  }
  counts.push(h.count - prev);
  return {
    kind: 'histogram_observe',
    ...base,
    bounds: h.buckets.map((b) => b.le),
    counts,
    sum: h.sum,
    count: h.count,
    ...(h.native !== undefined ? { native: h.native } : {}),
  };
}

/** `{a="x",b="y"}` for error paths (values JSON-quoted, so newlines and quotes stay visible). */
function labelText(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',')}}`;
}
