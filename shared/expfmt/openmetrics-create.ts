/**
 * MetricFamily[] → OpenMetrics 1.0 (`application/openmetrics-text; version=1.0.0; charset=utf-8`).
 *
 * Same assumptions as the text writer (text-create.ts): valid families, not re-checked. Differences from
 * text 0.0.4, following the OpenMetrics 1.0 specification and prometheus/common's `openmetrics_create.go`:
 * - counters: the family name has no `_total` (`# TYPE x counter`) and the sample is always `x_total`,
 *   whether or not the stored name ended in `_total`;
 * - `untyped` is written as `unknown`;
 * - HELP escapes `\`, newline and `"`;
 * - `le` and `quantile` values are written exactly as in text (Go's %g: `1`, `0.25`, `+Inf`), not with
 *   client_golang's OpenMetrics `.0` suffix, so that a series keeps its identity whichever format
 *   Prometheus 2.x negotiates (it keeps `le` as a string) and matches what the Pushgateway wrote;
 * - a counter, histogram or summary series whose start is known (`createdMs`) gets `<family>_created`
 *   (seconds) after its other samples, unless `created: false`;
 * - the body ends with `# EOF`. No `# UNIT`, no exemplars, no timestamps.
 */
import { counterSampleName, openMetricsFamilyName } from '../model/exposed-names';
import type { Labels, MetricFamily } from '../model/types';
import { ByteSink } from './byte-sink';
import { escapeOpenMetricsHelp, metricNameText } from './escape';
import { type BoundCache, labelsText, writeSeries } from './series-lines';
import { mergedLabelsText } from './text-create';

export interface OpenMetricsWriteOptions {
  /** Labels added to every series, overriding series labels of the same name. */
  readonly constLabels?: Labels;
  /** Leave out the final `# EOF` (to concatenate blocks; the caller appends it). @default false */
  readonly omitEof?: boolean;
  /** Write `_created` lines where a series' start is known (docs/exposition.md). @default true */
  readonly created?: boolean;
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
  const out = new ByteSink();
  const bounds: BoundCache = new Map();
  const created = opts?.created ?? true;
  for (const f of families) {
    const fname = metricNameText(openMetricsFamilyName(f.name, f.type));
    if (f.help !== '') out.str('# HELP ' + fname + ' ' + escapeOpenMetricsHelp(f.help) + '\n');
    out.str('# TYPE ' + fname + ' ' + openMetricsTypeName(f.type) + '\n');
    const sample = f.type === 'counter' ? counterSampleName(f.name, true) : f.name;
    for (const s of f.series) {
      const lt = constLabels ? mergedLabelsText(constText, constLabels, s.labels) : undefined;
      writeSeries(out, f, sample, s, lt, true, bounds, created);
    }
  }
  if (!opts?.omitEof) out.str('# EOF\n');
  return out.toString();
}
