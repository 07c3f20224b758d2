/**
 * The one retry toolkit for AWS calls (DynamoDB, SQS) and the publisher: full-jitter exponential backoff,
 * the classification of transient errors, and SendMessageBatch chunking. Pure: no SDK import, no clock.
 *
 * Backoff follows AWS's "Exponential Backoff and Jitter" (full jitter): the wait before retry `attempt` is
 * uniform in [0, min(cap, base·2^attempt)).
 */

/** Full-jitter exponential backoff: uniform in [0, min(capMs, baseMs·2^attempt)). `attempt` starts at 0. */
export function fullJitterBackoffMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Error names AWS services use for throttling, transient server trouble and timeouts. */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  // throttling
  'ThrottlingException',
  'Throttling',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'KmsThrottled',
  // DynamoDB transactions
  'TransactionConflictException',
  'TransactionInProgressException',
  // server side
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  // timeouts
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);

/** Node / undici codes of a request that never got an answer. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

export interface TransientOptions {
  /**
   * How to judge an error without an HTTP status, a known name or a network code. The publisher retries
   * it (the request may never have been answered); the store does not (it may be a bug, not an outage).
   * @default false
   */
  readonly unansweredIsTransient?: boolean;
}

/**
 * Whether a failed AWS SDK call is worth retrying: throttling, 5xx and 429, errors the SDK marks
 * `$retryable`, and network errors. Other 4xx (missing queue or table, access denied, validation) are
 * permanent.
 */
export function isTransientAwsError(err: unknown, options: TransientOptions = {}): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as {
    name?: unknown;
    code?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.$retryable) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 429;
  return options.unansweredIsTransient === true;
}

/** SQS limits: 10 entries per SendMessageBatch, 256 KiB per message and per call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BYTES = 262_144;

/**
 * Splits `items` (each with a byte size) into SendMessageBatch calls of at most `maxEntries` entries and
 * `maxBytes` bytes, in order, greedily. An item larger than `maxBytes` goes alone (and may fail).
 */
export function chunkSqsBatches<T extends { readonly bytes: number }>(
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
