/**
 * Pure packing rules of the publisher: events into message bodies, messages into SendMessageBatch calls.
 *
 * A body is built by concatenating already-encoded events, so its UTF-8 size is known exactly without
 * re-encoding: `{"v":1,"id":"<id>","group":<group>,"events":[` + e1 + `,` + e2 … + `]}`.
 */
import { isTransientAwsError } from '../aws/retry';
import { ENVELOPE_VERSION } from '../model/envelope-constants';

export { SQS_MAX_BATCH_ENTRIES, SQS_MAX_BYTES } from '../aws/retry';

/** Length of the idempotency keys the publisher generates (`crypto.randomUUID()`). */
export const ID_LENGTH = 36;

export interface EncodedEvent {
  readonly json: string;
  readonly bytes: number;
}

export function encodeEvent(event: object): EncodedEvent {
  const json = JSON.stringify(event);
  return { json, bytes: Buffer.byteLength(json, 'utf8') };
}

export function bodyPrefix(id: string, groupJson: string): string {
  return `{"v":${ENVELOPE_VERSION},"id":${JSON.stringify(id)},"group":${groupJson},"events":[`;
}
export const BODY_SUFFIX = ']}';

/** Bytes of a body with `id` of `idLength` characters (ASCII) and no events. */
export function envelopeOverhead(groupJson: string, idLength = ID_LENGTH): number {
  return Buffer.byteLength(bodyPrefix('x'.repeat(idLength), groupJson), 'utf8') + BODY_SUFFIX.length;
}

export function buildBody(id: string, groupJson: string, events: readonly EncodedEvent[]): string {
  let s = bodyPrefix(id, groupJson);
  for (let i = 0; i < events.length; i++) {
    if (i > 0) s += ',';
    s += events[i]!.json;
  }
  return s + BODY_SUFFIX;
}

/** SendMessageBatch chunking, backoff and transient errors: the one AWS retry toolkit (shared/aws/retry.ts). */
export { chunkSqsBatches as packBatches, fullJitterBackoffMs as backoffMs } from '../aws/retry';

/**
 * Whether a failed SendMessageBatch call is worth retrying: throttling, 5xx, and network errors (no HTTP
 * response at all: connection refused/reset, DNS, timeouts). Other 4xx (queue doesn't exist, access
 * denied, invalid parameters) are permanent.
 */
export function isTransientError(err: unknown): boolean {
  return isTransientAwsError(err, { unansweredIsTransient: true });
}
