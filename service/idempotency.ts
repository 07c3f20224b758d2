/**
 * Exactly-once HTTP writes (docs/service.md "Idempotency-Key"): the optional `Idempotency-Key` header of
 * pushes and aggregating pushes, validated once here, scoped per caller, and the answer of a replay.
 *
 * The key goes to the store as the request's ledger id (`PushRequest.id` / `ApplyRequest.id`), the same
 * ledger the SQS path uses, as `http <caller>/<key>`: the caller (credential name, or `anonymous` when
 * pushes are open) is percent-encoded, and the space can occur neither in an encoded caller nor in an SQS
 * message key, so no caller's key can ever match another caller's key or a message of the queue.
 */
import type { FastifyRequest } from 'fastify';
import { AccrueError, RejectReason, ValidationError } from '../shared/model/errors';
import type { RouteContext } from './routes/context';
import type { IdempotentRoute } from './stats';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set to `true` on the answer to a request whose key was already applied with the same content. */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** Characters of a key (as the SQS envelope's `id`). */
export const MAX_KEY_LENGTH = 128;
const KEY_RE = /^[A-Za-z0-9_.:/@+=-]+$/;

/** A refused `Idempotency-Key` header: says nothing about the group's data, so it is never recorded on it. */
export class IdempotencyKeyError extends ValidationError {}

/**
 * The request's key, or undefined when the header is absent. One optional pair of double quotes around
 * it is removed (the IETF draft sends the key as a structured-field string).
 */
export function idempotencyKeyOf(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    throw refuse('must be sent once');
  }
  const raw = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (raw.length === 0 || raw.length > MAX_KEY_LENGTH)
    throw refuse(`must be 1 to ${MAX_KEY_LENGTH} characters (got ${raw.length})`);
  if (!KEY_RE.test(raw)) throw refuse("must match [A-Za-z0-9_.:/@+=-]+ (no spaces, quotes or '#')");
  return raw;
}

function refuse(rule: string): IdempotencyKeyError {
  return new IdempotencyKeyError([{ path: 'Idempotency-Key header', message: rule }]);
}

/** The ledger id of `key` sent by `caller`. */
export function ledgerId(caller: string, key: string): string {
  return `http ${encodeURIComponent(caller)}/${key}`;
}

/** The 409 of a key that was already used for a different request. */
export function keyReused(key: string, what: string): AccrueError {
  return new AccrueError(
    RejectReason.redeliveryMismatch,
    `Idempotency-Key "${key}" was already used for a different request (${what}); nothing was applied`,
  );
}

/** True when `err` is the store's refusal of a ledger id whose committed content differs. */
function isMismatch(err: unknown): boolean {
  return err instanceof AccrueError && err.reason === RejectReason.redeliveryMismatch;
}

/** The scope of the request's keys: its credential's name (`anonymous` when pushes are open). */
export function callerOf(ctx: RouteContext, req: FastifyRequest): string {
  return ctx.callers.of(req)?.name ?? 'anonymous';
}

/**
 * Runs the store write of a request with key `key` (or without one), counts the key's outcome and turns
 * the store's `redelivery_mismatch` into the 409 naming the key. `what` says what the key covers.
 */
export async function keyed<T extends { readonly status: string }>(
  ctx: RouteContext,
  route: IdempotentRoute,
  key: string | undefined,
  what: string,
  write: () => Promise<T>,
): Promise<T> {
  if (key === undefined) return write();
  let result: T;
  try {
    result = await write();
  } catch (err) {
    if (!isMismatch(err)) throw err;
    ctx.stats.countIdempotency(route, 'mismatch');
    throw keyReused(key, what);
  }
  ctx.stats.countIdempotency(route, result.status === 'duplicate' ? 'replayed' : 'first');
  return result;
}
