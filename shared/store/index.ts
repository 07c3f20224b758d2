/**
 * The store's public surface: the interface and contract (./types), the grouping-key rule and the memory
 * store. Opening the configured store is the composition root's job (shared/wiring/store.ts `createStore`).
 */
export { normalizeGroupingKey } from './grouping';
export { MemoryStore, type MemoryStoreOptions } from './memory';
export * from './types';
