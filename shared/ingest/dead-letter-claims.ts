/**
 * One DLQ copy per message across concurrent deliveries (docs/ingest.md "One DLQ copy per message"): before
 * sending a message's dead letters, the pipeline claims them in the store's ledger (`Store.claimDeadLetters`)
 * under the message's dead-letter key, and settles the claim once the DLQ answered.
 */
import { createHash } from 'node:crypto';
import type { DeadLetterClaim, Store } from '../store/types';
import { errMessage } from './errors';

/** How long a claim stays another delivery's before a later one takes it over (a claimer that died). */
export const DEAD_LETTER_LEASE_MS = 60_000;

/**
 * The key of a message's dead letters. A decoded message: its (producer-scoped) idempotency key and the hash
 * of its bytes, so a producer's re-send of the same bytes shares the key while a different message under the
 * same id (`redelivery_mismatch`) has its own. An undecodable one: its SQS message id, so every delivery of
 * that SQS message shares the key, while a DLQ redrive (a new message id) is dead-lettered again if still bad.
 */
export function deadLetterKey(messageId: string, body: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return `sqs:${messageId}#dlq`;
  return `${idempotencyKey}#dlq-${createHash('sha256').update(body).digest('base64url')}`;
}

/** A claim per key, in parallel; a store error is returned as the key's answer (the record is then retried). */
export function claimEach(
  store: Store,
  keys: readonly string[],
  leaseMs: number,
): Promise<(DeadLetterClaim | { readonly state: 'error'; readonly error: string })[]> {
  return Promise.all(
    keys.map((key) =>
      store.claimDeadLetters(key, leaseMs).catch((err: unknown) => ({
        state: 'error' as const,
        error: errMessage(err),
      })),
    ),
  );
}

/**
 * Settles claims; a failure is returned, not thrown: a claim left `pending` lapses after its lease, and a
 * `sent` that was not recorded lets a later delivery send again (a copy, never a loss).
 */
export async function settleEach(
  store: Store,
  settled: readonly { readonly key: string; readonly token: string; readonly sent: boolean }[],
): Promise<number> {
  const out = await Promise.allSettled(settled.map((c) => store.settleDeadLetters(c.key, c.token, c.sent)));
  return out.filter((r) => r.status === 'rejected').length;
}
