/**
 * `npm run test:endpoints` (scripts/test-endpoints.mjs), the LocalStack path, tested here against the
 * emulators this suite already runs: given only AWS_ENDPOINT_URL_* (as a LocalStack user would), it runs
 * an integration suite against them without starting emulators of its own; without endpoints it refuses.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { dynamoEndpoint, sqsEndpoint } from '../support/aws';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'test-endpoints.mjs');

function run(args: string[], env: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const clean = { ...process.env };
  for (const k of [
    'ACCRUE_TEST_DYNAMODB_ENDPOINT',
    'ACCRUE_TEST_SQS_ENDPOINT',
    'AWS_ENDPOINT_URL',
    'JEST_WORKER_ID',
  ])
    delete clean[k];
  const r = spawnSync(process.execPath, [SCRIPT, ...args], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('npm run test:endpoints', () => {
  it('runs the integration suites against the endpoints in the environment', () => {
    const r = run(['test/integration/ingest-dlq.test.ts', '--maxWorkers=1'], {
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
      AWS_ENDPOINT_URL_SQS: sqsEndpoint(),
    });
    expect(r.out).toContain(`DynamoDB ${dynamoEndpoint()}, SQS ${sqsEndpoint()} (from the environment`);
    expect(r.out).toMatch(/Tests:\s+\d+ passed, \d+ total/);
    expect(r.status).toBe(0);
  }, 240_000);

  it('refuses to run without endpoints, saying which variables to set', () => {
    const r = run([], {});
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/no endpoints: set AWS_ENDPOINT_URL/);
  });
});
