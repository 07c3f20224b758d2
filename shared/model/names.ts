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

/**
 * Longest metric or label name, in characters, on every path (HTTP pushes, SQS events, grouping keys):
 * Prometheus sets no bound, but a name is an identity and appears in every sample line, so a 2 MB name
 * would be stored, rendered and echoed in errors. 256 is the bound the SQS envelope always had.
 */
export const MAX_NAME_LENGTH = 256;

export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidMetricName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && METRIC_NAME_RE.test(name);
}

/** True when `name` is syntactically a label name and not reserved (`__` prefix). */
export function isValidLabelName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && LABEL_NAME_RE.test(name) && !name.startsWith('__');
}

/** Returns why `name` is not a valid metric name, or undefined when it is. */
export function metricNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (!METRIC_NAME_RE.test(name)) return 'must match [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus data model)';
  return undefined;
}

/** Returns why `name` is not a valid (non-reserved) label name, or undefined when it is. */
export function labelNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (!LABEL_NAME_RE.test(name)) return 'must match [a-zA-Z_][a-zA-Z0-9_]* (Prometheus data model)';
  if (name.startsWith('__')) return 'must not start with "__" (reserved for internal use)';
  return undefined;
}

/**
 * Metric names starting with this prefix belong to Accrue's own metrics: pushes, events and profiles
 * can't use it, so Accrue's metrics never collide with its users' (docs/architecture.md).
 */
export const RESERVED_PREFIX = 'accrue_';

/**
 * Label values (and every other pushed string) must be well-formed Unicode. A lone UTF-16 surrogate
 * (`"A\ud800B"`, possible in JSON, never in valid UTF-8) is rendered as U+FFFD, so two different stored
 * values would become identical series lines. Accrue refuses them on every path (reason `invalid`):
 * the HTTP path already refuses invalid UTF-8, the SQS path checks with this.
 */
export function loneSurrogateProblem(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    return `must be valid Unicode: lone UTF-16 surrogate \\u${c.toString(16)} at character ${i}`;
  }
  return undefined;
}

/** `s` cut to `max` characters for echoing in errors and logs, saying how much was left out. */
export function clip(s: string, max = 128): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max)}…(${s.length - max} more characters)`;
}
