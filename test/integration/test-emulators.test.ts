/**
 * The test setup's emulator starts (test/support/emulators.mjs) on a loaded machine: a start that doesn't
 * answer in time is killed by PID and tried again on a fresh port; when one emulator still fails, the ones
 * that did start are stopped by PID, so a failed jest global setup leaves nothing running. Real child
 * processes on 127.0.0.1: a "slow" emulator that never answers and a quick one that does.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const EMULATORS = pathToFileURL(join(__dirname, '..', 'support', 'emulators.mjs')).href;

/** Node children: one that never answers HTTP, one that answers on the port it is given. */
const SILENT = `spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: ['ignore', 'ignore', 'pipe'] })`;
const ANSWERING = (port: string) =>
  `spawn(process.execPath, ['-e', "require('node:http').createServer((q, r) => r.end('ok')).listen(" + ${port} + ", '127.0.0.1')"], { stdio: ['ignore', 'ignore', 'pipe'] })`;

/** Runs `body` as an ES module beside emulators.mjs; returns what it printed as JSON. */
function run(body: string): Record<string, unknown> {
  const code = `import { spawn } from 'node:child_process';
import { startAll, startEmulator } from '${EMULATORS}';
const pids = [];
const track = (child) => { pids.push(child.pid); return child; };
const out = { pids };
try { ${body} } catch (e) { out.error = e.message; }
process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The PIDs still running (killed here, so a failing case leaves nothing behind either). */
function leftRunning(pids: readonly number[]): number[] {
  const left = pids.filter(alive);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  return left;
}

describe('emulator starts in the test setup', () => {
  it('kills a start that does not answer in time and tries again on a fresh port, then reports every attempt', () => {
    const out = run(`await startEmulator('slow', () => track(${SILENT}), { waitMs: 800, attempts: 2 });`);
    const pids = out.pids as number[];
    expect(pids).toHaveLength(2);
    expect(String(out.error)).toMatch(
      /^slow did not start:\nattempt 1 \(pid \d+\): no answer .*\nattempt 2 /s,
    );
    expect(leftRunning(pids)).toEqual([]);
  });

  it('answers with the endpoint of a start that answers, and stop() ends it by PID', () => {
    const out = run(
      `const e = await startEmulator('quick', (port) => track(${ANSWERING('port')}), { waitMs: 10000 });
out.endpoint = e.endpoint; out.pid = e.pid; await e.stop(); out.stopped = true;`,
    );
    expect(out.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out.stopped).toBe(true);
    expect(leftRunning([out.pid as number])).toEqual([]);
  });

  it('stops the emulators that started when another one fails (nothing left behind)', () => {
    const out = run(
      `await startAll([
  () => startEmulator('quick', (port) => track(${ANSWERING('port')}), { waitMs: 10000 }),
  () => startEmulator('slow', () => track(${SILENT}), { waitMs: 800, attempts: 1 }),
]);`,
    );
    const pids = out.pids as number[];
    expect(pids).toHaveLength(2);
    expect(String(out.error)).toMatch(/^slow did not start/);
    expect(leftRunning(pids)).toEqual([]);
  });
});
