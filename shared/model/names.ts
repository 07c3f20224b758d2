/**
 * Name rules of the Prometheus data model, quoted from
 * https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels :
 *
 * - "Metric names may contain ASCII letters and digits, as well as underscores and colons.
 *    It must match the regex [a-zA-Z_:][a-zA-Z0-9_:]*."
 * - "Label names may contain ASCII letters, numbers, as well as underscores.
 *    They must match the regex [a-zA-Z_][a-zA-Z0-9_]*."
 * - "Label names beginning with __ (two underscores) are reserved for internal use."
 *
 * The Pushgateway additionally refuses pushed label names starting with `__` and a missing or empty `job`.
 */

export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

/** True when `name` is syntactically a label name and not reserved (`__` prefix). */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name) && !name.startsWith('__');
}

/** Returns why `name` is not a valid metric name, or undefined when it is. */
export function metricNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length === 0) return 'must not be empty';
  if (!METRIC_NAME_RE.test(name)) return 'must match [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus data model)';
  return undefined;
}

/** Returns why `name` is not a valid (non-reserved) label name, or undefined when it is. */
export function labelNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length === 0) return 'must not be empty';
  if (!LABEL_NAME_RE.test(name)) return 'must match [a-zA-Z_][a-zA-Z0-9_]* (Prometheus data model)';
  if (name.startsWith('__')) return 'must not start with "__" (reserved for internal use)';
  return undefined;
}

/**
 * Metric names starting with this prefix belong to Accrue's own metrics: pushes, events and profiles
 * can't use it, so Accrue's metrics never collide with its users' (docs/architecture.md).
 */
export const RESERVED_PREFIX = 'accrue_';
