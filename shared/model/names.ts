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
 * Those are the `legacy` rules. Prometheus 3 accepts any UTF-8 string as a name, and the Pushgateway does
 * so behind `--push.enable-utf8-names`; Accrue does behind `ACCRUE_UTF8_NAMES` (`utf8` rules: any
 * well-formed Unicode, same length cap, `__` still reserved for label names). The escaping schemes that
 * turn such names back into legacy names on output, and `U__` decoding of grouping paths, are here too
 * (https://prometheus.io/docs/instrumenting/escaping_schemes/).
 *
 * The Pushgateway additionally refuses pushed label names starting with `__` and a missing or empty `job`.
 */

import { longerThan } from './lengths';

/** Which names are accepted: the data model's regexes (`legacy`) or any well-formed Unicode (`utf8`). */
export type NameValidation = 'legacy' | 'utf8';

/**
 * Longest metric or label name, in code points (model/lengths.ts), on every path (HTTP pushes, SQS events, grouping keys):
 * Prometheus sets no bound, but a name is an identity and appears in every sample line, so a 2 MB name
 * would be stored, rendered and echoed in errors. 256 is the bound the SQS envelope always had.
 */
export const MAX_NAME_LENGTH = 256;

export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True when `name` matches the legacy metric-name regex (whatever its length). */
export function isLegacyMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

/** True when `name` matches the legacy label-name regex (whatever its length; `__` not checked). */
export function isLegacyLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}

/** Returns why `name` is not a valid metric name under `validation`, or undefined when it is. */
export function metricNameProblem(name: unknown, validation: NameValidation = 'legacy'): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length === 0) return 'must not be empty';
  if (longerThan(name, MAX_NAME_LENGTH)) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (validation === 'utf8') return utf8NameProblem(name);
  if (!METRIC_NAME_RE.test(name)) return LEGACY_METRIC_RULE;
  return undefined;
}

/** Returns why `name` is not a valid (non-reserved) label name under `validation`, or undefined when it is. */
export function labelNameProblem(name: unknown, validation: NameValidation = 'legacy'): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length === 0) return 'must not be empty';
  if (longerThan(name, MAX_NAME_LENGTH)) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (validation === 'utf8') {
    const p = utf8NameProblem(name);
    if (p) return p;
  } else if (!LABEL_NAME_RE.test(name)) return LEGACY_LABEL_RULE;
  if (name.startsWith('__')) return 'must not start with "__" (reserved for internal use)';
  return undefined;
}

/** UTF-8 names: well-formed Unicode without NUL (NUL separates the parts of identity keys, model/identity.ts). */
function utf8NameProblem(name: string): string | undefined {
  if (name.includes('\u0000')) return 'must not contain NUL';
  return loneSurrogateProblem(name);
}

const UTF8_HINT = '; UTF-8 names need ACCRUE_UTF8_NAMES=true';
const LEGACY_METRIC_RULE = `must match [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus data model${UTF8_HINT})`;
const LEGACY_LABEL_RULE = `must match [a-zA-Z_][a-zA-Z0-9_]* (Prometheus data model${UTF8_HINT})`;

/**
 * The `escaping` values of an Accept header (https://prometheus.io/docs/instrumenting/escaping_schemes/):
 * `allow-utf-8` writes names as they are (quoted in text where they are not legacy names); the others
 * turn every name that is not a legacy name into one.
 */
export type EscapingScheme = 'allow-utf-8' | 'underscores' | 'dots' | 'values';
export const ESCAPING_SCHEMES: readonly EscapingScheme[] = ['allow-utf-8', 'underscores', 'dots', 'values'];
/** What a scraper that names no scheme gets (the spec's default, and client_golang's). */
export const DEFAULT_ESCAPING: EscapingScheme = 'underscores';

export function isEscapingScheme(s: string): s is EscapingScheme {
  return (ESCAPING_SCHEMES as readonly string[]).includes(s);
}

/**
 * `name` as a legacy metric name under `scheme`. Names that already are legacy names are returned
 * unchanged under every scheme (as client_golang's `EscapeMetricFamily` does), so output for legacy
 * names never depends on what the scraper asked:
 * - `underscores`: each character outside the legacy set (digits count as outside in first place) → `_`;
 * - `dots`: `.` → `_dot_`, `_` → `__`, any other character outside the set → `_`;
 * - `values`: `U__` + the name with `_` → `__` and each character outside the set → `_<hex code point>_`
 *   (lowercase hex; a leading digit too), which `unescapeValuesName` reverses exactly. `dots` writes `_`
 *   for other characters as the spec says (newer client_golang writes `__`; both unescape alike).
 */
export function escapeMetricName(name: string, scheme: EscapingScheme): string {
  if (scheme === 'allow-utf-8' || name === '' || METRIC_NAME_RE.test(name)) return name;
  return escapeName(name, scheme, true);
}

/**
 * `escapeMetricName` for label names: the legacy label set has no `:`, so `:` is escaped too, and an
 * escaped label name never starts with `__`, the prefix the data model reserves (`unreserved`). Prometheus'
 * `EscapeName` has no such step: under `underscores` and `dots` it turns `üüx` into `__x`, `ü.x` into
 * `__dot_x` and `..name..` into `__name__`, which Prometheus' text parsers refuse ("label name "__name__" is
 * reserved"), failing the scrape of every group. Decision and reasons: docs/exposition.md "UTF-8 names".
 */
export function escapeLabelName(name: string, scheme: EscapingScheme): string {
  if (scheme === 'allow-utf-8' || name === '' || LABEL_NAME_RE.test(name)) return name;
  return unreserved(escapeName(name, scheme, false));
}

/** An escaped label name with its leading run of underscores cut to one when it has two or more: `__x` → `_x`. */
function unreserved(escaped: string): string {
  if (!escaped.startsWith('__')) return escaped;
  let i = 2;
  while (escaped.charCodeAt(i) === 95 /* _ */) i++;
  return escaped.slice(i - 1);
}

function isLegacyChar(c: number, first: boolean, colon: boolean): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    c === 95 ||
    (colon && c === 58) ||
    (!first && c >= 48 && c <= 57)
  );
}

function escapeName(name: string, scheme: Exclude<EscapingScheme, 'allow-utf-8'>, colon: boolean): string {
  let out = scheme === 'values' ? 'U__' : '';
  let first = true;
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c === 95 && scheme !== 'underscores') out += '__';
    else if (scheme === 'dots' && c === 46) out += '_dot_';
    else if (isLegacyChar(c, first, colon)) out += ch;
    else if (scheme === 'values') out += `_${(c >= 0xd800 && c <= 0xdfff ? 0xfffd : c).toString(16)}_`;
    else out += '_';
    first = false;
  }
  return out;
}

/**
 * Reverses the `values` escaping: `U__foo_2e_bar` → `foo.bar`. A name without the `U__` prefix, or
 * with an invalid escape (unterminated, more than 6 hex digits, not a Unicode scalar value), is
 * returned unchanged, as Prometheus' `UnescapeName` does, and is then validated as it stands.
 */
export function unescapeValuesName(name: string): string {
  if (!name.startsWith('U__')) return name;
  let out = '';
  const s = name.slice(3);
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '_') {
      out += s[i];
      continue;
    }
    i++;
    if (i >= s.length) return name;
    if (s[i] === '_') {
      out += '_';
      continue;
    }
    const end = s.indexOf('_', i);
    if (end === -1 || end - i > 6 || !/^[0-9a-fA-F]+$/.test(s.slice(i, end))) return name;
    const cp = Number.parseInt(s.slice(i, end), 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return name;
    out += String.fromCodePoint(cp);
    i = end;
  }
  return out;
}

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
