/**
 * `npm start`'s stand-in for the janitor Lambda: runs `runJanitor` (shared/store/janitor.ts) on a timer
 * when ACCRUE_GROUP_TTL_SECONDS is set, so groups expire locally as they do in the cloud.
 * The period is a quarter of the TTL, between 1 s and 60 s (the cloud schedule is 5 minutes; locally the
 * expiry of a short test TTL should be visible soon).
 */
import type { PipelineLogger } from '../../shared/ingest/pipeline';
import { runJanitor } from '../../shared/store/janitor';
import type { Store } from '../../shared/store/types';

export interface LocalJanitorOptions {
  readonly store: Store;
  /** 0 = off. */
  readonly ttlSeconds: number;
  readonly logger: Pick<PipelineLogger, 'info' | 'warn'>;
}

export function localJanitorPeriodMs(ttlSeconds: number): number {
  return Math.min(60_000, Math.max(1_000, (ttlSeconds * 1000) / 4));
}

export function startLocalJanitor(o: LocalJanitorOptions): { stop(): void } {
  if (o.ttlSeconds <= 0) return { stop() {} };
  let running = false;
  const tick = () => {
    if (running) return; // a slow expire is never overlapped by the next one
    running = true;
    runJanitor({
      store: o.store,
      ttlMs: o.ttlSeconds * 1000,
      now: Date.now,
      log: { info: (message, fields) => o.logger.info(message, fields) },
    })
      .catch((err: unknown) => o.logger.warn('janitor failed', { error: String(err) }))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(tick, localJanitorPeriodMs(o.ttlSeconds));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
