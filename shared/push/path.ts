/**
 * The Pushgateway's grouping-key path: `job/<JOB>{/<LABEL>/<VALUE>}` (what follows `/metrics/`).
 *
 * Rules (prometheus/pushgateway README "URL" and handler/push.go `splitLabels`):
 * - segments come in name/value pairs; an odd count is refused; a `/` right after the job is tolerated;
 * - the first pair must be `job` (or `job@base64`) with a non-empty value;
 * - a name suffixed `@base64` carries a value in URL-safe base64 (RFC 4648 §5), padding optional, `=` for
 *   the empty string; it is the only way to put `/` in a value;
 * - label names follow the data model and must not start with `__`;
 * - with UTF-8 names enabled (ACCRUE_UTF8_NAMES, the Pushgateway's `--push.enable-utf8-names`), a label
 *   name may be any UTF-8 name, written `U__` + value escaping (`U__my_2e_label` is `my.label`;
 *   shared/model/names.ts `unescapeValuesName`) or percent-encoded; values, the job included, use
 *   `@base64` or percent-encoding as always (U__ in a value is taken literally).
 *
 * Differences, all stricter or safer than the Pushgateway: each segment is percent-decoded on its own, so
 * `%2F` inside a segment stays part of the value (the Pushgateway splits on it); a label named twice is
 * refused (the Pushgateway keeps one silently); a base64 value must decode to valid UTF-8.
 * Empty values are dropped by `normalizeGroupingKey` (so `instance@base64/=` is the same group as no
 * instance, which avoids the Pushgateway's 500-forever bug).
 */
import { type Problem, RejectReason, ValidationError } from '../model/errors';
import {
  clip,
  escapeLabelName,
  isLegacyLabelName,
  labelNameProblem,
  type NameValidation,
  unescapeValuesName,
} from '../model/names';
import type { GroupingKey, ValidGroupingKey } from '../store/types';
import { validateGroupingKey } from '../store/valid';

export const BASE64_SUFFIX = '@base64';

/**
 * Longest raw (percent-encoded) grouping path accepted, in characters. Node refuses request heads over
 * 16 KiB anyway; this keeps the work per refused path small and the echo bounded.
 */
export const MAX_GROUPING_PATH_LENGTH = 8192;

const B64URL_RE = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes URL-safe base64 (trailing `=` ignored, like the Pushgateway; `=` alone is the empty string); undefined when invalid. */
export function decodeBase64Url(s: string): string | undefined {
  // A loop, not /=+$/: that regex retries from every `=` and is quadratic on `====…x`.
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 61 /* = */) end--;
  const trimmed = s.slice(0, end);
  if (!B64URL_RE.test(trimmed) || trimmed.length % 4 === 1) return undefined;
  try {
    return utf8.decode(Buffer.from(trimmed, 'base64url'));
  } catch {
    return undefined;
  }
}

/** URL-safe base64 without padding; `=` for the empty string (what the Pushgateway documents). */
export function encodeBase64Url(s: string): string {
  return s === '' ? '=' : Buffer.from(s, 'utf8').toString('base64url');
}

/** The path (after `/metrics/`) that addresses `group`, every value base64-encoded so any value is safe. */
export function groupingPath(group: GroupingKey): string {
  const names = Object.keys(group)
    .filter((n) => n !== 'job')
    .sort();
  let p = `job${BASE64_SUFFIX}/${encodeBase64Url(group['job'] ?? '')}`;
  for (const n of names) {
    // A UTF-8 label name (ACCRUE_UTF8_NAMES) is written U__-escaped, which parseGroupingPath reverses.
    const pn = isLegacyLabelName(n) ? n : escapeLabelName(n, 'values');
    p += `/${pn}${BASE64_SUFFIX}/${encodeBase64Url(group[n] ?? '')}`;
  }
  return p;
}

function percentDecode(segment: string): string | undefined {
  // Most segments have no escape: skip decodeURIComponent (and its copy) for them.
  if (segment.indexOf('%') < 0) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Parses the raw (still percent-encoded) grouping path, with or without a leading `/`, e.g.
 * `job/batch/instance@base64/=`. Returns the validated, normalized grouping key (`validateGroupingKey`:
 * null prototype, empty values dropped). Throws `ValidationError` listing every problem (reason `invalid_name` when only names are
 * wrong, `invalid` otherwise).
 */
export function parseGroupingPath(rawPath: string, names: NameValidation = 'legacy'): ValidGroupingKey {
  if (rawPath.length > MAX_GROUPING_PATH_LENGTH) {
    throw new ValidationError([
      {
        path: 'path',
        message: `grouping path is ${rawPath.length} characters, more than the limit of ${MAX_GROUPING_PATH_LENGTH}`,
      },
    ]);
  }
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const problems: Problem[] = [];
  let onlyNames = true;
  const fail = (p: Problem, nameProblem = false) => {
    problems.push(p);
    if (!nameProblem) onlyNames = false;
  };
  const segments = path === '' ? [] : path.split('/');
  // `job/x/` is `job/x` (the Pushgateway ignores a lone `/` after the job); `job/x/a/` is a=empty.
  if (segments.length === 3 && segments[2] === '') segments.pop();
  if (segments.length % 2 !== 0) {
    throw new ValidationError([
      {
        path: 'path',
        message: `odd number of segments in grouping path ${JSON.stringify(clip(rawPath))}: labels come in name/value pairs`,
      },
    ]);
  }
  const first = segments[0];
  if (first === undefined || (first !== 'job' && first !== `job${BASE64_SUFFIX}`)) {
    throw new ValidationError([{ path: 'path', message: 'must start with job/<JOB>: job name is required' }]);
  }
  const pairs: Record<string, string> = Object.create(null);
  for (let i = 0; i < segments.length; i += 2) {
    const rawName = percentDecode(segments[i]!);
    const rawValue = percentDecode(segments[i + 1]!);
    if (rawName === undefined || rawValue === undefined) {
      fail({ path: `path[${i / 2}]`, message: 'invalid percent-encoding' });
      continue;
    }
    const b64 = rawName.endsWith(BASE64_SUFFIX);
    const plain = b64 ? rawName.slice(0, -BASE64_SUFFIX.length) : rawName;
    const name = names === 'utf8' ? unescapeValuesName(plain) : plain;
    const np = labelNameProblem(name, names);
    if (np) {
      fail({ path: `path.${name}`, message: `label name ${np}` }, true);
      continue;
    }
    let value: string | undefined = rawValue;
    if (b64) {
      value = decodeBase64Url(rawValue);
      if (value === undefined) {
        fail({
          path: `path.${name}`,
          message: `invalid base64 value ${JSON.stringify(clip(rawValue, 64))}: must be URL-safe base64 (RFC 4648 §5) of UTF-8 text, "=" for empty`,
        });
        continue;
      }
    }
    if (Object.hasOwn(pairs, name)) {
      fail({ path: `path.${name}`, message: 'label appears more than once in the grouping path' });
      continue;
    }
    pairs[name] = value;
  }
  if (problems.length > 0)
    throw new ValidationError(problems, onlyNames ? RejectReason.invalidName : RejectReason.invalid);
  if (!Object.hasOwn(pairs, 'job') || pairs['job'] === '') {
    throw new ValidationError([{ path: 'path.job', message: 'job name is required and must not be empty' }]);
  }
  return validateGroupingKey(pairs, names);
}
