/** AWS SDK clients pointed at the emulators started by test/support/global-setup.mjs (or the user's endpoints). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
};
const region = process.env.AWS_REGION ?? 'us-east-1';

export function dynamoEndpoint(): string {
  const e = process.env.ACCRUE_TEST_DYNAMODB_ENDPOINT;
  if (!e)
    throw new Error(
      'ACCRUE_TEST_DYNAMODB_ENDPOINT is not set: run the tests through jest (globalSetup starts DynamoDB Local)',
    );
  return e;
}

export function sqsEndpoint(): string {
  const e = process.env.ACCRUE_TEST_SQS_ENDPOINT;
  if (!e)
    throw new Error(
      'ACCRUE_TEST_SQS_ENDPOINT is not set: run the tests through jest (globalSetup starts the SQS emulator)',
    );
  return e;
}

export function testDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: dynamoEndpoint(), region, credentials, maxAttempts: 1 });
}

export function testSqsClient(): SQSClient {
  return new SQSClient({ endpoint: sqsEndpoint(), region, credentials });
}

/** A name unique to this test run, for tables and queues. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
