/**
 * Opens the DynamoDB store from Accrue's configuration (shared/config.ts): region and endpoint from
 * `AwsConfig` (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, so the same code runs on AWS,
 * LocalStack or DynamoDB Local), table names, ledger TTL and limits from `StoreConfig`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsConfig, StoreConfig } from '../../config';
import { DynamoStore, type DynamoStoreOptions } from './store';
import { createTables } from './tables';

export interface OpenFromConfigOptions {
  /** Create the tables when missing (local runs against DynamoDB Local). @default false */
  readonly createTables?: boolean;
  readonly now?: () => number;
  readonly retry?: DynamoStoreOptions['retry'];
}

export async function openDynamoStore(
  store: StoreConfig,
  aws: AwsConfig,
  o: OpenFromConfigOptions = {},
): Promise<DynamoStore> {
  const client = new DynamoDBClient({
    region: aws.region,
    ...(aws.dynamodbEndpoint ? { endpoint: aws.dynamodbEndpoint } : {}),
  });
  try {
    const tables = { seriesTable: store.seriesTable, ledgerTable: store.ledgerTable };
    if (o.createTables) await createTables(client, tables);
    return await DynamoStore.open({
      client,
      ...tables,
      ledgerTtlSeconds: store.ledgerTtlSeconds,
      limits: store.limits,
      ...(o.now ? { now: o.now } : {}),
      ...(o.retry ? { retry: o.retry } : {}),
      ownsClient: true,
    });
  } catch (e) {
    client.destroy();
    throw e;
  }
}
