/**
 * DynamoDB's retry policy over the shared AWS retry toolkit (shared/aws/retry.ts: full-jitter backoff,
 * transient errors): what it adds is a transaction cancelled for a transient reason (TransactionConflict,
 * throttling) counting as transient, and a condition failure never.
 */
import { fullJitterBackoffMs, isTransientAwsError } from '../../aws/retry';

export interface RetryPolicy {
  /** Attempts in total, the first included. @default 8 */
  readonly attempts: number;
  /** First backoff ceiling (ms); doubles per attempt. @default 20 */
  readonly baseMs: number;
  /** Largest backoff ceiling (ms). @default 1000 */
  readonly capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseMs: 20, capMs: 1000 };

const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
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

/**
 * True for errors worth retrying (shared/aws/retry.ts); a cancelled transaction is transient only when a
 * reason says so.
 */
export function isTransient(e: unknown): boolean {
  const reasons = cancellationReasons(e);
  if (reasons) {
    const codes = reasons.map((r) => r.Code ?? 'None');
    // A condition failure is an answer, not a transient problem: the caller handles those.
    if (codes.includes('ConditionalCheckFailed')) return false;
    return codes.some((c) => TRANSIENT_REASONS.has(c));
  }
  return isTransientAwsError(e);
}

/** The wait before retry `attempt` under `policy` (full jitter, shared/aws/retry.ts). */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return fullJitterBackoffMs(attempt, policy.baseMs, policy.capMs, random);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function describe(e: unknown): string {
  if (e instanceof Error) {
    const reasons = cancellationReasons(e);
    return reasons
      ? `${e.name} [${reasons.map((r) => r.Code ?? 'None').join(', ')}]`
      : `${e.name}: ${e.message}`;
  }
  return String(e);
}
