export {
  dynamoClientFromConfig,
  dynamoWhere,
  MissingTablesError,
  type OpenFromConfigOptions,
  openDynamoStore,
} from './from-config';
export { DEFAULT_RETRY, type RetryPolicy } from './retry';
export { DynamoStore, type DynamoStoreOptions, type DynamoStoreStats } from './store';
export { createTables, deleteTables, missingTables, type TableNames } from './tables';
