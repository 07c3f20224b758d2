import { type Problem, ValidationError } from '../model/errors';
import { labelNameProblem } from '../model/names';
import type { GroupingKey } from './types';

/**
 * Normalizes and validates a grouping key: drops empty-valued labels (an empty label value means "no
 * label" in Prometheus, so `instance=""` and no `instance` are the same group), requires a non-empty
 * `job`, validates names, and refuses NUL in values. Returns a null-prototype object.
 */
export function normalizeGroupingKey(key: Readonly<Record<string, unknown>>): GroupingKey {
  const problems: Problem[] = [];
  const out: Record<string, string> = Object.create(null);
  for (const name of Object.keys(key)) {
    const value = key[name];
    const np = labelNameProblem(name);
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
