/**
 * Escaping rules of the exposition formats (prometheus-facts.md):
 * - label values escape `\` as `\\`, `"` as `\"` and newline as `\n`;
 * - HELP text in text format 0.0.4 escapes only `\` and newline;
 * - HELP text in OpenMetrics 1.0 escapes `\`, newline and `"` (the spec's "escaped-string").
 */

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
