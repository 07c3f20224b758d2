/**
 * MetricFamily[] → OpenMetrics 1.0 (`application/openmetrics-text; version=1.0.0; charset=utf-8`).
 *
 * Same assumptions as the text writer (text-create.ts): valid families, not re-checked. Differences from
 * text 0.0.4, following the OpenMetrics 1.0 specification and prometheus/common's `openmetrics_create.go`:
 * - counters: the family name has no `_total` (`# TYPE x counter`) and the sample is always `x_total`,
 *   whether or not the stored name ended in `_total`;
 * - `untyped` is written as `unknown`;
 * - HELP escapes `\`, newline and `"`;
 * - `le` and `quantile` values are written as Go's OpenMetrics writer does: `%g`, plus `.0` when the
 *   result has no `.` or exponent (`1.0`, `0.25`, `+Inf`);
 * - the body ends with `# EOF`. No `# UNIT`, no `_created`, no exemplars, no timestamps.
 */
import type { Labels, MetricFamily } from '../model/types';
import { escapeOpenMetricsHelp } from './escape';
import { counterSampleName, labelsText, openMetricsFamilyName, seriesLines } from './series-lines';
import { mergedLabelsText } from './text-create';

export interface OpenMetricsWriteOptions {
  /** Labels added to every series, overriding series labels of the same name. */
  readonly constLabels?: Labels;
  /** Leave out the final `# EOF` (to concatenate blocks; the caller appends it). @default false */
  readonly omitEof?: boolean;
}

export function openMetricsTypeName(type: MetricFamily['type']): string {
  return type === 'untyped' ? 'unknown' : type;
}

export function metricFamiliesToOpenMetrics(
  families: readonly MetricFamily[],
  opts?: OpenMetricsWriteOptions,
): string {
  const constLabels = opts?.constLabels;
  const constText = constLabels ? labelsText(constLabels) : '';
  let out = '';
  for (const f of families) {
    const fname = openMetricsFamilyName(f);
    if (f.help !== '') out += '# HELP ' + fname + ' ' + escapeOpenMetricsHelp(f.help) + '\n';
    out += '# TYPE ' + fname + ' ' + openMetricsTypeName(f.type) + '\n';
    const sample = f.type === 'counter' ? counterSampleName(f.name, true) : f.name;
    for (const s of f.series) {
      const lt = constLabels ? mergedLabelsText(constText, constLabels, s.labels) : labelsText(s.labels);
      out += seriesLines(f, sample, s, lt, true);
    }
  }
  if (!opts?.omitEof) out += '# EOF\n';
  return out;
}
