/**
 * Pushes seen whole (docs/store-dynamodb.md, "What a reader may see"). A push too large for one
 * transaction is written in several; readers must see the group as it was before the push or after it,
 * never between. The rule, shared by the writer (./push.ts, ./delete.ts) and the reader
 * (./snapshot-reader.ts):
 *
 * - every push transaction sets a new revision token `rv` on the group's meta item;
 * - the transactions before the last mark the group `pending` (with `pendingAt`, the writer's wall clock);
 *   the last clears both and, when there were several, sets `mx` (a multi-transaction push ended);
 * - a reader reads a group's partition with the meta item last (a descending Query): a fresh `pending`
 *   means "in flight": it keeps the state it had (the before state) and reads the group again at its next
 *   refresh; an `mx` revision it has not adopted yet is read once more, and the second read is adopted
 *   only if the revision did not change in between (a Query is not isolated from a transaction that
 *   commits while it runs, so the first read may hold part of the last transaction);
 * - a `pending` older than PENDING_STALE_MS is a push that died half-way: the group is read as stored
 *   (its counters are exact, ./counted-chunks.ts) until the next push of the group replaces it.
 */
import { randomBytes } from 'node:crypto';
import { type Item, readNumber, readString } from './codec';

/** A push whose transactions stopped for this long is taken as dead (its client gave up or crashed). */
export const PENDING_STALE_MS = 30_000;

/** A new revision token, one per push transaction. */
export function revisionToken(): string {
  return randomBytes(6).toString('base64url');
}

/** What a reader does with a group read with its meta item last. */
export type Readiness = 'adopt' | 'defer' | 'verify';

export function readiness(
  meta: Item | undefined,
  wallNowMs: number,
  adoptedRv: string | undefined,
): Readiness {
  if (!meta || meta.deleted !== undefined) return 'adopt';
  if (meta.pending !== undefined) {
    const at = readNumber(meta.pendingAt);
    if (at !== undefined && at > wallNowMs - PENDING_STALE_MS) return 'defer';
  }
  if (meta.mx !== undefined && revisionOf(meta) !== adoptedRv) return 'verify';
  return 'adopt';
}

export function revisionOf(meta: Item | undefined): string | undefined {
  return readString(meta?.rv);
}

/** The meta item shows a push newer than t: a finished PUT (`putTs`) or one in flight (`pending`). */
export function newerPushThan(meta: Item | undefined, t: number): boolean {
  const putTs = readNumber(meta?.putTs);
  const pending = readNumber(meta?.pending);
  return (putTs !== undefined && putTs > t) || (pending !== undefined && pending > t);
}
