/**
 * What makes a message's effect a pure function of its bytes (issue 11, docs/events.md "Idempotency"):
 *
 * - `messageClock`: the decoder's clock (the future-time bound) is the message's SQS `SentTimestamp`, the
 *   same on every delivery, not the ingest clock. Records without it (tests, tools) use the ingest clock.
 * - `bodyKey`: the idempotency key of a message without an envelope `id` is a hash of its body, so a
 *   producer's re-send and a DLQ redrive of the same bytes are the same message (the SQS message id
 *   changes on both).
 * - `scopeToProducer`: keys are scoped per producer (the SQS `SenderId`, when SQS reports one), so one
 *   producer's ids can never make another producer's messages `duplicate`.
 */
import { createHash } from 'node:crypto';
import type { DecodedMessage, DecodeOptions } from './decode';

/** The decode options of one record: its SentTimestamp as the clock when present. */
export function messageClock(
  record: { readonly attributes?: Readonly<Record<string, string | undefined>> },
  options: DecodeOptions,
): DecodeOptions {
  const sent = Number(record.attributes?.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? { ...options, nowMs: sent } : options;
}

/** The key of a message without `id`: `b:` + SHA-256 of the body (base64url). */
export function bodyKey(body: string): string {
  return `b:${createHash('sha256')
    .update(typeof body === 'string' ? body : String(body))
    .digest('base64url')}`;
}

/**
 * The decoded message with its idempotency key scoped to the producer: `<sender>/<id>`, the sender
 * percent-encoded (no `/` or `#` from it), and so are the keys of its push events (`<key>#push-<n>`,
 * which the store's ledger keeps too). Without a sender the keys are unchanged.
 */
export function scopeToProducer(decoded: DecodedMessage, senderId: string | undefined): DecodedMessage {
  if (!senderId) return decoded;
  const scope = `${encodeURIComponent(senderId)}/`;
  const id = `${scope}${decoded.id}`;
  const pushes = decoded.pushes.map((p) => (p.id === undefined ? p : { ...p, id: `${scope}${p.id}` }));
  return { ...decoded, id, apply: { ...decoded.apply, id }, pushes };
}
