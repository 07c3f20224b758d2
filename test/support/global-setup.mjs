// jest globalSetup: starts DynamoDB Local and the SQS emulator once for the whole suite (unless the user
// gave endpoints), and publishes them to the test workers through the environment. Each start waits up to
// START_WAIT_MS and is tried again on a fresh port (emulators.mjs); when one still fails, the other is
// stopped by PID before the error goes to jest, so a failed setup leaves no emulator behind.
import { startAll, startDynamoDbLocal, startSqsEmulatorProcess } from './emulators.mjs';

export default async function globalSetup() {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= 'us-east-1';
  const wanted = [
    ['ACCRUE_TEST_DYNAMODB_ENDPOINT', startDynamoDbLocal],
    ['ACCRUE_TEST_SQS_ENDPOINT', startSqsEmulatorProcess],
  ].filter(([env]) => !process.env[env]);
  const started = await startAll(
    wanted.map(
      ([, start]) =>
        () =>
          start(),
    ),
  );
  wanted.forEach(([env], i) => {
    process.env[env] = started[i].endpoint;
  });
  globalThis.__ACCRUE_EMULATORS__ = started;
}
