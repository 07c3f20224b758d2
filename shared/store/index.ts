/**
 * The store's public surface: the interface and contract (./types), the grouping-key rule, the shared
 * consistency/limit helpers, and `createStore`, which picks the implementation from configuration.
 */
import type { AwsConfig, StoreConfig } from '../config';
import { MemoryStore } from './memory';
import type { Store } from './types';

export { normalizeGroupingKey } from './grouping';
export { MemoryStore, type MemoryStoreOptions } from './memory';
export * from './types';

/**
 * Opens the configured store: `memory` (embedded, durable in `config.dataDir`) or `dynamodb` (tables
 * `config.seriesTable` / `config.ledgerTable`, endpoint from `aws`; see shared/store/dynamodb/from-config.ts).
 * The caller owns the store and must `close()` it.
 */
export async function createStore(config: StoreConfig, aws: AwsConfig): Promise<Store> {
  switch (config.kind) {
    case 'memory':
      return MemoryStore.open({
        dir: config.dataDir,
        limits: config.limits,
        ledgerRetentionMs: config.ledgerTtlSeconds * 1000,
      });
    case 'dynamodb': {
      // Loaded on demand: the memory path (npm start, tests) does not load the AWS SDK.
      const { openDynamoStore } = await import('./dynamodb');
      return openDynamoStore(config, aws);
    }
  }
}
