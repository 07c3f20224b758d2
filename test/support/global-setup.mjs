// jest globalSetup: starts DynamoDB Local and the SQS emulator once for the whole suite (unless the user
// gave endpoints), and publishes them to the test workers through the environment.
import { startDynamoDbLocal, startSqsEmulatorProcess } from './emulators.mjs';

export default async function globalSetup() {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= 'us-east-1';
  const started = [];
  const [ddb, sqs] = await Promise.all([
    process.env.ACCRUE_TEST_DYNAMODB_ENDPOINT ? null : startDynamoDbLocal(),
    process.env.ACCRUE_TEST_SQS_ENDPOINT ? null : startSqsEmulatorProcess(),
  ]);
  if (ddb) {
    process.env.ACCRUE_TEST_DYNAMODB_ENDPOINT = ddb.endpoint;
    started.push(ddb);
  }
  if (sqs) {
    process.env.ACCRUE_TEST_SQS_ENDPOINT = sqs.endpoint;
    started.push(sqs);
  }
  globalThis.__ACCRUE_EMULATORS__ = started;
}
