/**
 * Opens the DynamoDB store from Accrue's configuration (shared/config.ts): region and endpoint from
 * `AwsConfig` (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, so the same code runs on AWS,
 * LocalStack or DynamoDB Local), table names, ledger TTL and limits from `StoreConfig`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loopbackCredentials } from '../../client/local';
import type { AwsConfig, StoreConfig } from '../../config';
import { AccrueError } from '../../model/errors';
import { DynamoStore, type DynamoStoreOptions } from './store';
import { createTables, missingTables, type TableNames } from './tables';

/** The store's tables are not there: the message names them and the command that creates them. */
export class MissingTablesError extends AccrueError {
  constructor(
    readonly tables: readonly string[],
    where: string,
  ) {
    super(
      'internal',
      `DynamoDB table${tables.length > 1 ? 's' : ''} ${tables.join(', ')} not found at ${where}: create ${tables.length > 1 ? 'them' : 'it'} with \`npx accrue tables create\` (same environment: AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, ACCRUE_SERIES_TABLE, ACCRUE_LEDGER_TABLE), or deploy the CDK stack (docs/store-dynamodb.md)`,
    );
    this.name = 'MissingTablesError';
  }
}

/**
 * A client for Accrue's configuration: region and endpoint, and dummy credentials when the endpoint is on
 * loopback (DynamoDB Local accepts any), so that nothing needs AWS credentials on a laptop.
 */
export function dynamoClientFromConfig(aws: AwsConfig): DynamoDBClient {
  const credentials = loopbackCredentials(aws.dynamodbEndpoint);
  return new DynamoDBClient({
    region: aws.region,
    ...(aws.dynamodbEndpoint ? { endpoint: aws.dynamodbEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

/** Where the tables were looked for, for messages. */
export function dynamoWhere(aws: AwsConfig): string {
  return aws.dynamodbEndpoint ?? `AWS region ${aws.region}`;
}

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
  const client = dynamoClientFromConfig(aws);
  const tables: TableNames = { seriesTable: store.seriesTable, ledgerTable: store.ledgerTable };
  try {
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
    const hint = await missingTablesHint(client, tables, aws);
    client.destroy();
    throw hint ?? e;
  }
}

/** After a failed open: a MissingTablesError when tables are missing (asked only then: no extra round trip on a good start). */
async function missingTablesHint(
  client: DynamoDBClient,
  tables: TableNames,
  aws: AwsConfig,
): Promise<MissingTablesError | undefined> {
  try {
    const missing = await missingTables(client, tables);
    return missing.length > 0 ? new MissingTablesError(missing, dynamoWhere(aws)) : undefined;
  } catch {
    return undefined; // no DescribeTable permission or no answer: the original error says what is wrong
  }
}
