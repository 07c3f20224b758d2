/**
 * MetricFamily[] → text exposition format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`).
 *
 * Assumptions, as prometheus/common's `MetricFamilyToText` states its own: the families are valid (the
 * parser, ingest or the store checked them): valid and distinct family names, series unique within a
 * family, histogram buckets cumulative with `le` ascending and without `+Inf`. The writer does not check
 * them again. Output:
 * - one block per family in the given order: `# HELP` (only when the help is non-empty; `\` and newline
 *   escaped), `# TYPE`, then the samples of each series in the given order;
 * - labels in each series' own key order; `constLabels` (if given) come first and win over a series label
 *   of the same name;
 * - values, `le` and `quantile` formatted like Go's `strconv.FormatFloat(f, 'g', -1, 64)`; `NaN`, `+Inf`,
 *   `-Inf`; the `+Inf` bucket is written from the series' count;
 * - no timestamps, ever (they defeat staleness handling in Prometheus).
 */
import type { Labels, MetricFamily } from '../model/types';
import { ByteSink } from './byte-sink';
import { escapeHelp, escapeLabelValue, labelPrefix, metricNameText } from './escape';
import { type BoundCache, labelsText, writeSeries } from './series-lines';

export interface TextWriteOptions {
  /** Labels added to every series, overriding series labels of the same name. */
  readonly constLabels?: Labels;
}

export function metricFamiliesToText(families: readonly MetricFamily[], opts?: TextWriteOptions): string {
  const constText = opts?.constLabels ? labelsText(opts.constLabels) : '';
  const constLabels = opts?.constLabels;
  const out = new ByteSink();
  const bounds: BoundCache = new Map();
  for (const f of families) {
    const fname = metricNameText(f.name);
    if (f.help !== '') out.str('# HELP ' + fname + ' ' + escapeHelp(f.help) + '\n');
    out.str('# TYPE ' + fname + ' ' + f.type + '\n');
    for (const s of f.series) {
      const lt = constLabels ? mergedLabelsText(constText, constLabels, s.labels) : undefined;
      writeSeries(out, f, f.name, s, lt, false, bounds);
    }
  }
  return out.toString();
}

/** `constText` followed by the series labels that `constLabels` does not override. */
export function mergedLabelsText(constText: string, constLabels: Labels, labels: Labels): string {
  let s = constText;
  for (const k in labels) {
    if (!Object.hasOwn(labels, k) || Object.hasOwn(constLabels, k)) continue;
    s += (s === '' ? '' : ',') + labelPrefix(k) + escapeLabelValue(labels[k]!) + '"';
  }
  return s;
}
