/**
 * Composition root for the store: picks the implementation from configuration. It lives here, not in
 * shared/store, because it reads `shared/config` (which itself depends on the store's types): the store
 * never imports configuration (docs/architecture.md, "Layers").
 */
import type { AwsConfig, StoreConfig } from '../config';
import { MemoryStore } from '../store/memory';
import type { Store } from '../store/types';

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
      const { openDynamoStore } = await import('../store/dynamodb');
      return openDynamoStore(config, aws);
    }
  }
}
