/**
 * Table definitions, for local use and tests (in the cloud, infra/ creates the same tables with CDK).
 * - series table: pk (S) + sk (S), TTL attribute `expiresAt` (change-index items);
 * - ledger table: pk `id` (S), TTL attribute `ttl` (epoch seconds).
 * Both on-demand (PAY_PER_REQUEST).
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

export interface TableNames {
  readonly seriesTable: string;
  readonly ledgerTable: string;
}

export const SERIES_TTL_ATTRIBUTE = 'expiresAt';
export const LEDGER_TTL_ATTRIBUTE = 'ttl';

/** Creates both tables if they don't exist (an existing table is left as it is) and enables TTL. */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all([
    createOne(client, names.seriesTable, [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]),
    createOne(client, names.ledgerTable, [{ AttributeName: 'id', KeyType: 'HASH' }]),
  ]);
  await Promise.all([
    enableTtl(client, names.seriesTable, SERIES_TTL_ATTRIBUTE),
    enableTtl(client, names.ledgerTable, LEDGER_TTL_ATTRIBUTE),
  ]);
}

async function createOne(
  client: DynamoDBClient,
  table: string,
  keys: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[],
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.AttributeName, AttributeType: 'S' })),
        KeySchema: keys,
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: table });
}

async function enableTtl(client: DynamoDBClient, table: string, attribute: string): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (e) {
    // Already enabled (AWS answers ValidationException "TimeToLive is already enabled").
    if (!(e instanceof Error && /already enabled/i.test(e.message))) throw e;
  }
}

/** Deletes both tables (tests). Missing tables are ignored. */
export async function deleteTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  await Promise.all(
    [names.seriesTable, names.ledgerTable].map(async (t) => {
      try {
        await client.send(new DeleteTableCommand({ TableName: t }));
      } catch (e) {
        if (!(e instanceof Error && e.name === 'ResourceNotFoundException')) throw e;
      }
    }),
  );
}

/** The tables of `names` that don't exist (DescribeTable answers ResourceNotFoundException). */
export async function missingTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const out: string[] = [];
  for (const t of [names.seriesTable, names.ledgerTable]) {
    try {
      await client.send(new DescribeTableCommand({ TableName: t }));
    } catch (e) {
      if (e instanceof Error && e.name === 'ResourceNotFoundException') out.push(t);
      else throw e;
    }
  }
  return out;
}
