/**
 * The DynamoDB actions each runtime needs, derived from what shared/store/dynamodb/*.ts send (a test
 * scans those files' commands and transaction items and checks this list covers them):
 * - series table: reads (GetItem, BatchGetItem, Query, Scan) and writes (UpdateItem, PutItem, DeleteItem,
 *   BatchWriteItem; TransactWriteItems is authorised per item as Put/Update/Delete/ConditionCheckItem). Every runtime writes it:
 *   ingest applies deltas, the service stores pushes and deletes, the janitor expires groups.
 * - ledger table: only ingest writes it (PutItem with a condition, inside the transaction of a message's
 *   deltas); every runtime reads one item at start-up to check the table answers (GetItem).
 * No stream actions (the tables have no streams), no DescribeTable, no index ARNs (the tables have none).
 */
import type { aws_dynamodb as dynamodb, aws_iam as iam, aws_kms as kms } from 'aws-cdk-lib';

export const SERIES_TABLE_ACTIONS: readonly string[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

export const LEDGER_WRITER_ACTIONS: readonly string[] = ['dynamodb:GetItem', 'dynamodb:PutItem'];

export const LEDGER_READER_ACTIONS: readonly string[] = ['dynamodb:GetItem'];

/** The table actions plus, for a customer managed key, the key use DynamoDB needs for them. */
export function grantTable(
  table: dynamodb.ITable,
  grantee: iam.IGrantable,
  actions: readonly string[],
  key: kms.IKey | undefined,
): void {
  table.grant(grantee, ...actions);
  if (key === undefined) return;
  const writes = actions.some((a) => !/:(Get|BatchGet|Query|Scan)/.test(a));
  if (writes) key.grantEncryptDecrypt(grantee);
  else key.grantDecrypt(grantee);
}
