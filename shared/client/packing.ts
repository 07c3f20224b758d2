/**
 * Pure packing rules of the publisher: events into message bodies, messages into SendMessageBatch calls.
 *
 * A body is built by concatenating already-encoded events, so its UTF-8 size is known exactly without
 * re-encoding: `{"v":1,"id":"<id>","group":<group>,"events":[` + e1 + `,` + e2 … + `]}`.
 */
import { ENVELOPE_VERSION } from '../ingest/envelope';

/** SQS limits: 10 entries per SendMessageBatch, 256 KiB per message and per call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BYTES = 262_144;

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

/**
 * Splits `items` (each with a byte size) into batches of at most `maxEntries` and at most `maxBytes`
 * total, in order. An item larger than `maxBytes` goes alone (the caller keeps items below the limit).
 */
export function packBatches<T extends { readonly bytes: number }>(
  items: readonly T[],
  maxEntries = SQS_MAX_BATCH_ENTRIES,
  maxBytes = SQS_MAX_BYTES,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    if (cur.length > 0 && (cur.length >= maxEntries || bytes + it.bytes > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += it.bytes;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base·2^attempt)). `attempt` starts at 0. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'KmsThrottled',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);

/**
 * Whether a failed SendMessageBatch call is worth retrying: throttling, 5xx, and network errors (no HTTP
 * response at all: connection refused/reset, DNS, timeouts). Other 4xx (queue doesn't exist, access
 * denied, invalid parameters) are permanent.
 */
export function isTransientError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as {
    name?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    code?: unknown;
  };
  if (e.$retryable) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 429;
  // No HTTP status: the request never got an answer (ECONNREFUSED, ECONNRESET, ENOTFOUND, socket timeout).
  return true;
}
