/**
 * The CDK tables must be the tables the DynamoDB store creates for itself: given `createTables()` run against
 * DynamoDB Local, when both are described, then key schemas, attribute types, billing mode and TTL agree.
 */
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { createTables, deleteTables } from '../../../shared/store/dynamodb/tables';
import { testDynamoClient, uniqueName } from '../../support/aws';
import { buildGateway, cleanup } from './helpers';

const client = testDynamoClient();
const names = { seriesTable: uniqueName('infra-series'), ledgerTable: uniqueName('infra-ledger') };

beforeAll(async () => {
  await createTables(client, names);
});
afterAll(async () => {
  await deleteTables(client, names);
  client.destroy();
  cleanup();
});

const { template } = buildGateway();
const cfnTables = Object.entries(template.findResources('AWS::DynamoDB::Table')).map(([id, r]) => ({
  id,
  props: (r as { Properties: Record<string, unknown> }).Properties,
}));

const sortBy = <T extends { AttributeName?: string }>(xs: T[]) =>
  [...xs].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName)));

describe.each([
  ['series', 'GatewaySeriesTable', () => names.seriesTable],
  ['ledger', 'GatewayLedgerTable', () => names.ledgerTable],
])('the %s table', (_kind, logicalPrefix, tableName) => {
  const cfn = cfnTables.find((t) => t.id.startsWith(logicalPrefix));

  it('exists in the template', () => {
    expect(cfn).toBeDefined();
  });

  it('has the key schema and attribute types createTables() uses', async () => {
    const live = (await client.send(new DescribeTableCommand({ TableName: tableName() }))).Table!;
    expect(cfn!.props['KeySchema']).toEqual(live.KeySchema);
    expect(sortBy(cfn!.props['AttributeDefinitions'] as { AttributeName: string }[])).toEqual(
      sortBy(live.AttributeDefinitions as { AttributeName: string }[]),
    );
    expect(cfn!.props['BillingMode']).toBe(live.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST');
  });

  it('has the TTL attribute createTables() enables', async () => {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName() }));
    expect(cfn!.props['TimeToLiveSpecification']).toEqual({
      AttributeName: ttl.TimeToLiveDescription?.AttributeName,
      Enabled: true,
    });
  });
});
