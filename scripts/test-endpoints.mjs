// `npm run test:endpoints [-- <jest args>]`: the integration suites that talk to AWS (DynamoDB store, SQS
// ingest, producers, service HA) against endpoints from the environment — LocalStack
// (AWS_ENDPOINT_URL=http://localhost:4566) or a real account — instead of the emulators jest starts itself.
// Endpoints: AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL (the SDK's own names).
// Extra arguments go to jest (e.g. a test path to run one suite). Exit code: jest's; 2 without endpoints.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The suites that use the AWS endpoints (test/support/aws.ts clients). */
export const ENDPOINT_SUITES = [
  'test/integration/dynamo-store.test.ts',
  'test/integration/ingest-dlq.test.ts',
  'test/integration/ingest-lambda.test.ts',
  'test/integration/ingest-lambda-outage.test.ts',
  'test/integration/ingest-pipeline.test.ts',
  'test/integration/ingest-runner.test.ts',
  'test/integration/client-publisher.test.ts',
  'test/integration/client-cli.test.ts',
  'test/integration/service-ha.test.ts',
];

const env = { ...process.env };
const dynamodb = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL;
const sqs = env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL;
if (!dynamodb || !sqs) {
  process.stderr.write(
    'test:endpoints: no endpoints: set AWS_ENDPOINT_URL (e.g. http://localhost:4566 for LocalStack), or AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS\n',
  );
  process.exit(2);
}
// test/support/global-setup.mjs starts no emulator when these are set.
env.ACCRUE_TEST_DYNAMODB_ENDPOINT = dynamodb;
env.ACCRUE_TEST_SQS_ENDPOINT = sqs;
env.AWS_ACCESS_KEY_ID ??= 'test';
env.AWS_SECRET_ACCESS_KEY ??= 'test';
env.AWS_REGION ??= 'us-east-1';
process.stdout.write(
  `test:endpoints: DynamoDB ${dynamodb}, SQS ${sqs} (from the environment; no emulator started)\n`,
);

const args = process.argv.slice(2);
const paths = args.some((a) => !a.startsWith('-')) ? [] : ENDPOINT_SUITES;
const child = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...paths, ...args], {
  cwd: root,
  env,
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
