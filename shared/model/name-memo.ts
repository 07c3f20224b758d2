/**
 * Name checks run per label of every event and op, and the set of names a deployment uses is small: the
 * one memo of names already found valid (shared/model/names.ts decides; this only remembers). Bounded, so
 * hostile input can't grow it without limit; one set per name kind and rule set (`legacy` / `utf8`).
 */
import { labelNameProblem, metricNameProblem, type NameValidation } from './names';

/** Most names remembered per kind and rule set; names beyond it are checked every time. */
export const NAME_MEMO_MAX = 4096;

const memo = {
  label: { legacy: new Set<string>(), utf8: new Set<string>() },
  metric: { legacy: new Set<string>(), utf8: new Set<string>() },
};

/** `labelNameProblem`, remembering valid names. */
export function labelNameProblemMemo(
  name: string,
  validation: NameValidation = 'legacy',
): string | undefined {
  const valid = memo.label[validation];
  if (valid.has(name)) return undefined;
  const p = labelNameProblem(name, validation);
  if (p === undefined && valid.size < NAME_MEMO_MAX) valid.add(name);
  return p;
}

/** `metricNameProblem`, remembering valid names. */
export function metricNameProblemMemo(
  name: unknown,
  validation: NameValidation = 'legacy',
): string | undefined {
  const valid = memo.metric[validation];
  if (typeof name === 'string' && valid.has(name)) return undefined;
  const p = metricNameProblem(name, validation);
  if (p === undefined && valid.size < NAME_MEMO_MAX) valid.add(name as string);
  return p;
}
