/**
 * The edge, for tests that write to a store directly: every request goes through the edge validators
 * (shared/store/valid.ts) as the SQS decoder and the HTTP push path send them, so a test can never hand a
 * store what no edge would.
 */
import { ValidationError } from '../../shared/model/errors';
import type { Store, ValidApplyRequest, ValidGroupingKey, ValidPush } from '../../shared/store/types';
import { validateApplyRequest, validateGroupingKey, validatePushRequest } from '../../shared/store/valid';

/** Each request validated (throws the first request's `ValidationError`). */
export const validApplies = (requests: readonly unknown[]): ValidApplyRequest[] =>
  requests.map(validateApplyRequest);

/** The push validated (throws its `ValidationError`). */
export const validPush = (request: unknown): ValidPush => validatePushRequest(request);

/** The grouping key validated and normalized (for `deleteGroup` / `recordPushFailure`; throws its `ValidationError`). */
export const validGroup = (key: unknown): ValidGroupingKey => validateGroupingKey(key);

/**
 * A batch as the pipeline sends it: each request through the edge validator; the refused ones (with their
 * index and error) never reach the store, the valid ones are what `store.apply` gets.
 */
export function atEdge(requests: readonly unknown[]): {
  readonly valid: ValidApplyRequest[];
  readonly refused: { readonly index: number; readonly error: ValidationError }[];
} {
  const valid: ValidApplyRequest[] = [];
  const refused: { index: number; error: ValidationError }[] = [];
  requests.forEach((r, index) => {
    try {
      valid.push(validateApplyRequest(r));
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      refused.push({ index, error: e });
    }
  });
  return { valid, refused };
}

/** The ids of every request `store.apply` receives from now on (to show a refused one never reached it). */
export function appliedIds(store: Store): string[] {
  const ids: string[] = [];
  const apply = store.apply.bind(store);
  store.apply = (requests) => {
    for (const r of requests) ids.push(r.id);
    return apply(requests);
  };
  return ids;
}
