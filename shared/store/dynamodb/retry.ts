/**
 * Retry with full-jitter exponential backoff for DynamoDB's transient failures: throttling
 * (ProvisionedThroughputExceeded, ThrottlingException, RequestLimitExceeded), transaction conflicts
 * (TransactionConflict as an error or as a cancellation reason), 5xx and network errors.
 */
import { TransientError } from '../../model/errors';

export interface RetryPolicy {
  /** Attempts in total, the first included. @default 8 */
  readonly attempts: number;
  /** First backoff ceiling (ms); doubles per attempt. @default 20 */
  readonly baseMs: number;
  /** Largest backoff ceiling (ms). @default 1000 */
  readonly capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseMs: 20, capMs: 1000 };

const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'LimitExceededException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

export interface CancellationReason {
  readonly Code?: string;
  readonly Message?: string;
  readonly Item?: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>;
}

export function cancellationReasons(e: unknown): CancellationReason[] | undefined {
  if (e && typeof e === 'object' && (e as { name?: string }).name === 'TransactionCanceledException') {
    return ((e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ??
      []) as CancellationReason[];
  }
  return undefined;
}

/** True for errors worth retrying; a cancelled transaction is transient only when a reason says so. */
export function isTransient(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const err = e as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const reasons = cancellationReasons(e);
  if (reasons) {
    const codes = reasons.map((r) => r.Code ?? 'None');
    // A condition failure is an answer, not a transient problem: the caller handles those.
    if (codes.includes('ConditionalCheckFailed')) return false;
    return codes.some((c) => TRANSIENT_REASONS.has(c));
  }
  if (err.name && TRANSIENT_NAMES.has(err.name)) return true;
  if (err.code && NETWORK_CODES.has(err.code)) return true;
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (err.$retryable) return true;
  return false;
}

export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RetryStats {
  retries: number;
}

/**
 * Runs `fn` until it succeeds, fails with a non-transient error (rethrown as is), or runs out of
 * attempts (a TransientError naming `what` and carrying the last error as `cause`).
 */
export async function withRetry<T>(
  what: string,
  fn: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  stats?: RetryStats,
): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    if (attempt > 0) {
      if (stats) stats.retries++;
      await sleep(backoffMs(attempt, policy));
    }
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e)) throw e;
      last = e;
    }
  }
  throw new TransientError(`${what}: still failing after ${policy.attempts} attempts: ${describe(last)}`, {
    cause: last,
  });
}

export function describe(e: unknown): string {
  if (e instanceof Error) {
    const reasons = cancellationReasons(e);
    return reasons
      ? `${e.name} [${reasons.map((r) => r.Code ?? 'None').join(', ')}]`
      : `${e.name}: ${e.message}`;
  }
  return String(e);
}
