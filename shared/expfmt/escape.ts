/**
 * Escaping rules of the exposition formats (prometheus-facts.md):
 * - label values escape `\` as `\\`, `"` as `\"` and newline as `\n`;
 * - HELP text in text format 0.0.4 escapes only `\` and newline;
 * - HELP text in OpenMetrics 1.0 escapes `\`, newline and `"` (the spec's "escaped-string");
 * - a name outside the legacy character set (only ever written when the scraper asked for
 *   `escaping=allow-utf-8`) is quoted, with the label-value escapes: `{"my.metric","my.label"="x"}`,
 *   `# TYPE "my.metric" counter` (https://prometheus.io/docs/instrumenting/escaping_schemes/).
 */
import { isLegacyLabelName, isLegacyMetricName } from '../model/names';

const LABEL_VALUE_SPECIAL = /[\\"\n]/;
const LABEL_VALUE_ALL = /[\\"\n]/g;
const HELP_SPECIAL = /[\\\n]/;
const HELP_ALL = /[\\\n]/g;

function replaceChar(c: string): string {
  return c === '\n' ? '\\n' : '\\' + c;
}

export function escapeLabelValue(v: string): string {
  return LABEL_VALUE_SPECIAL.test(v) ? v.replace(LABEL_VALUE_ALL, replaceChar) : v;
}

export function escapeHelp(h: string): string {
  return HELP_SPECIAL.test(h) ? h.replace(HELP_ALL, replaceChar) : h;
}

/** OpenMetrics HELP: same escapes as label values. */
export function escapeOpenMetricsHelp(h: string): string {
  return escapeLabelValue(h);
}

/** A metric name as written in HELP/TYPE lines: itself, or quoted when it is not a legacy name. */
export function metricNameText(name: string): string {
  return isLegacyMetricName(name) ? name : `"${escapeLabelValue(name)}"`;
}

/** Label names → their written form followed by `="` (memo: a deployment uses few names). */
const LABEL_PREFIX = new Map<string, string>();

/** `name="` for a label: the name itself, or quoted when it is not a legacy label name. */
export function labelPrefix(name: string): string {
  let p = LABEL_PREFIX.get(name);
  if (p === undefined) {
    p = (isLegacyLabelName(name) ? name : `"${escapeLabelValue(name)}"`) + '="';
    if (LABEL_PREFIX.size >= 10_000) LABEL_PREFIX.clear();
    LABEL_PREFIX.set(name, p);
  }
  return p;
}
