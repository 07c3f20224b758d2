export { type OpenFromConfigOptions, openDynamoStore } from './from-config';
export { DEFAULT_RETRY, type RetryPolicy } from './retry';
export { DynamoStore, type DynamoStoreOptions, type DynamoStoreStats } from './store';
export { createTables, deleteTables, type TableNames } from './tables';
