/**
 * Janitor Lambda (EventBridge schedule): expires groups past ACCRUE_GROUP_TTL_SECONDS. Wiring only; the
 * work is `runJanitor` (./janitor.ts) against the Store interface.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig } from '../../shared/config';
import { type JanitorResult, runJanitor } from '../../shared/store/janitor';
import type { Store } from '../../shared/store/types';
import { createStore } from '../../shared/wiring/store';

const logger = new Logger({ serviceName: 'accrue-janitor' });
let store: Promise<Store> | undefined;

export async function handler(): Promise<JanitorResult> {
  const config = loadConfig();
  store ??= createStore(config.store, config.aws).catch((err: unknown) => {
    store = undefined; // a failed cold start is retried on the next run
    throw err;
  });
  return runJanitor({
    store: await store,
    ttlMs: config.store.groupTtlSeconds * 1000,
    now: Date.now,
    log: { info: (message, fields) => logger.info(message, fields) },
  });
}
