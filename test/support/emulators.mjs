// Starts the emulators the integration tests talk to, on free loopback ports, and stops them by PID.
// Used by jest's globalSetup and by the bench/soak scripts.
// - DynamoDB: the official DynamoDB Local jar (shipped in the npm package amplify-dynamodb-simulator).
// - SQS: fauxqs 1.9.2 through service/local/sqs-emulator.mjs (loopback only).
// When the user points the suite at real endpoints (ACCRUE_TEST_DYNAMODB_ENDPOINT / ACCRUE_TEST_SQS_ENDPOINT,
// e.g. LocalStack's http://localhost:4566), nothing is started.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(import.meta.url);

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, ms, child) {
  const deadline = Date.now() + ms;
  let lastErr;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`emulator exited with code ${child.exitCode} before answering ${url}`);
    try {
      await fetch(url, { method: 'POST', signal: AbortSignal.timeout(1000) });
      return;
    } catch (e) {
      lastErr = e;
      await sleep(100);
    }
  }
  throw new Error(`no answer from ${url} within ${ms} ms: ${lastErr}`);
}

/** Starts DynamoDB Local on a free loopback port. Returns { endpoint, pid, stop }. */
export async function startDynamoDbLocal() {
  const dir = path.join(path.dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const port = await freePort();
  const child = spawn(
    'java',
    [
      '-Xmx512m',
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      '-inMemory',
      '-port',
      String(port),
      '-disableTelemetry',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], detached: false },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(endpoint, 30000, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`DynamoDB Local did not start: ${e.message}\n${stderr}`);
  }
  return { endpoint, pid: child.pid, stop: () => stopChild(child) };
}

/** Starts the SQS emulator in a child process on a free loopback port. Returns { endpoint, pid, stop }. */
export async function startSqsEmulatorProcess() {
  const port = await freePort();
  const script = path.join(
    path.dirname(new URL(import.meta.url).pathname),
    '..',
    '..',
    'service',
    'local',
    'sqs-emulator.mjs',
  );
  const child = spawn(process.execPath, [script, String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForHttp(`${endpoint}/health`, 15000, child);
  return { endpoint, pid: child.pid, stop: () => stopChild(child) };
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    process.kill(child.pid, 'SIGTERM');
  });
}
