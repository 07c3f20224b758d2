import { type Problem, ValidationError } from '../model/errors';
import { labelNameProblem, type NameValidation } from '../model/names';
import type { GroupingKey } from './types';

/**
 * Normalizes and validates a grouping key: drops empty-valued labels (an empty label value means "no
 * label" in Prometheus, so `instance=""` and no `instance` are the same group), requires a non-empty
 * `job`, validates names, and refuses NUL in values. Returns a null-prototype object.
 *
 * Names are checked with the `utf8` rules by default: the store holds what the edges let in, and which
 * names they let in (legacy, or UTF-8 with ACCRUE_UTF8_NAMES) is the edges' decision (the HTTP push path
 * and the SQS decoder pass their own `validation`).
 */
export function normalizeGroupingKey(
  key: Readonly<Record<string, unknown>>,
  validation: NameValidation = 'utf8',
): GroupingKey {
  const problems: Problem[] = [];
  const out: Record<string, string> = Object.create(null);
  for (const name of Object.keys(key)) {
    const value = key[name];
    const np = labelNameProblem(name, validation);
    if (np) problems.push({ path: `grouping_key.${name}`, message: `label name ${np}` });
    if (typeof value !== 'string') {
      problems.push({ path: `grouping_key.${name}`, message: 'must be a string' });
      continue;
    }
    if (value.includes('\u0000'))
      problems.push({ path: `grouping_key.${name}`, message: 'must not contain NUL' });
    if (value !== '') out[name] = value;
  }
  if (!Object.hasOwn(out, 'job'))
    problems.push({ path: 'grouping_key.job', message: 'is required and must not be empty' });
  if (problems.length > 0) throw new ValidationError(problems);
  return out;
}
