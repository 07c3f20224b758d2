/**
 * The janitor's work, free of Lambda and AWS: expire groups whose last update is older than the group TTL
 * (`store.expire(now, ttlMs)`) and log what went. A TTL of 0 means groups never expire: nothing is done.
 */
import type { GroupingKey, Store } from './types';

/** At most this many expired keys are written into one log entry (the count is always exact). */
export const MAX_LOGGED_KEYS = 100;

export interface JanitorLog {
  info(message: string, fields: Record<string, unknown>): void;
}

export interface JanitorDeps {
  readonly store: Store;
  /** Group TTL in milliseconds; 0 = off. */
  readonly ttlMs: number;
  readonly now: () => number;
  readonly log: JanitorLog;
}

export interface JanitorResult {
  readonly skipped: boolean;
  readonly expired: number;
  readonly groups: readonly GroupingKey[];
}

export async function runJanitor(deps: JanitorDeps): Promise<JanitorResult> {
  if (!Number.isFinite(deps.ttlMs) || deps.ttlMs < 0)
    throw new RangeError(
      `ACCRUE_GROUP_TTL_SECONDS: must be a non-negative number of seconds, got ${deps.ttlMs / 1000}`,
    );
  if (deps.ttlMs === 0) {
    deps.log.info('group TTL is off (ACCRUE_GROUP_TTL_SECONDS=0): nothing to expire', { ttlMs: 0 });
    return { skipped: true, expired: 0, groups: [] };
  }
  const nowMs = deps.now();
  const groups = await deps.store.expire(nowMs, deps.ttlMs);
  deps.log.info(`expired ${groups.length} group(s)`, {
    ttlMs: deps.ttlMs,
    cutoffMs: nowMs - deps.ttlMs,
    expired: groups.length,
    groups: groups.slice(0, MAX_LOGGED_KEYS),
    truncated: groups.length > MAX_LOGGED_KEYS,
  });
  return { skipped: false, expired: groups.length, groups };
}
