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

/**
 * How long an emulator may take to answer, per attempt, and how many attempts (each on a fresh port).
 * A JVM starting on a loaded 2-core machine (load 25) took over 30 s; env ACCRUE_TEST_EMULATOR_START_MS
 * and ACCRUE_TEST_EMULATOR_ATTEMPTS override.
 */
export const START_WAIT_MS = Number(process.env.ACCRUE_TEST_EMULATOR_START_MS ?? 120_000);
export const START_ATTEMPTS = Number(process.env.ACCRUE_TEST_EMULATOR_ATTEMPTS ?? 2);

async function waitForHttp(url, ms, child) {
  const deadline = Date.now() + ms;
  let lastErr;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null))
      throw new Error(`emulator exited (${child.exitCode ?? child.signalCode}) before answering ${url}`);
    try {
      // A loaded machine answers slowly: give each try up to 5 s, within the deadline.
      const wait = Math.max(100, Math.min(5000, deadline - Date.now()));
      await fetch(url, { method: 'POST', signal: AbortSignal.timeout(wait) });
      return;
    } catch (e) {
      lastErr = e;
      await sleep(100);
    }
  }
  throw new Error(`no answer from ${url} within ${ms} ms: ${lastErr}`);
}

/**
 * Starts a child process (`spawnOn(port)`) on a free loopback port and waits until `healthPath` answers;
 * a child that exits or doesn't answer within `waitMs` is killed by PID (and awaited), and the start is
 * tried again on a fresh port, `attempts` times in all. Returns { endpoint, pid, stop }; nothing is left
 * running when it throws.
 */
export async function startEmulator(name, spawnOn, options = {}) {
  const { healthPath = '', waitMs = START_WAIT_MS, attempts = START_ATTEMPTS } = options;
  const errors = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = await freePort();
    const child = spawnOn(port);
    let stderr = '';
    child.stderr?.on('data', (d) => {
      if (stderr.length < 4000) stderr += d;
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${endpoint}${healthPath}`, waitMs, child);
      return { endpoint, pid: child.pid, stop: () => stopChild(child) };
    } catch (e) {
      await stopChild(child, 0);
      errors.push(`attempt ${attempt} (pid ${child.pid}): ${e.message}${stderr ? `\n${stderr}` : ''}`);
    }
  }
  throw new Error(`${name} did not start:\n${errors.join('\n')}`);
}

/** Starts DynamoDB Local on a free loopback port. Returns { endpoint, pid, stop }. */
export function startDynamoDbLocal(options) {
  const dir = path.join(path.dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const args = [
    '-Xmx512m',
    '-Djava.library.path=./DynamoDBLocal_lib',
    '-jar',
    'DynamoDBLocal.jar',
    '-inMemory',
  ];
  return startEmulator(
    'DynamoDB Local',
    (port) =>
      spawn('java', [...args, '-port', String(port), '-disableTelemetry'], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    options,
  );
}

/** Starts the SQS emulator in a child process on a free loopback port. Returns { endpoint, pid, stop }. */
export function startSqsEmulatorProcess(options) {
  const script = path.join(
    path.dirname(new URL(import.meta.url).pathname),
    '..',
    '..',
    'service',
    'local',
    'sqs-emulator.mjs',
  );
  return startEmulator(
    'SQS emulator',
    (port) => spawn(process.execPath, [script, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] }),
    { healthPath: '/health', ...options },
  );
}

/**
 * Starts every emulator `starters` names at once; when any fails, stops the ones that did start (by PID)
 * before throwing, so a failed jest global setup leaves nothing behind. Returns the started ones.
 */
export async function startAll(starters) {
  const settled = await Promise.allSettled(starters.map((start) => start()));
  const started = settled.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const failed = settled.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (failed.length === 0) return started;
  await Promise.all(started.map((s) => s.stop()));
  throw new Error(failed.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
function stopChild(child, graceMs = 5000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      process.kill(child.pid, graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
    } catch {
      // Already gone.
    }
  });
}
