/**
 * Test helper (not a test): runs the local gateway through the CLI (`accrue start`, i.e. `npm start`)
 * as a child process on free ports with a temporary data folder, and reads the URLs from its banner.
 * Stopped by PID with SIGTERM (the CLI forwards it to the gateway).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const TSX = `file://${require.resolve('tsx')}`;

export interface LocalGateway {
  readonly sqsEndpoint: string;
  readonly queueUrl: string;
  readonly metricsUrl: string;
  /** Base URL of the service (metricsUrl without /metrics). */
  readonly baseUrl: string;
  stop(): Promise<void>;
}

export async function startGateway(): Promise<LocalGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'accrue-gw-'));
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin/accrue.js'), 'start'], {
    cwd: dir,
    env: {
      ...process.env,
      ACCRUE_PORT: '0',
      ACCRUE_LOCAL_SQS_PORT: '0',
      ACCRUE_DATA_DIR: path.join(dir, 'data'),
      ACCRUE_STORE: 'memory',
      ACCRUE_WAIT_TIME_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const urls = await new Promise<{ sqsEndpoint: string; queueUrl: string; metricsUrl: string }>(
      (resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`accrue start printed no banner in 45 s:\n${out}\n${err}`)),
          45_000,
        );
        child.once('exit', (code) => reject(new Error(`accrue start exited with ${code}:\n${out}\n${err}`)));
        child.stdout!.on('data', (d) => {
          out += d;
          const e = /SQS endpoint\s+(\S+)/.exec(out);
          const q = /queue\s+(http\S+)/.exec(out);
          const m = /metrics\s+(http\S+)/.exec(out);
          if (e && q && m) {
            clearTimeout(timer);
            resolve({ sqsEndpoint: e[1]!, queueUrl: q[1]!, metricsUrl: m[1]! });
          }
        });
      },
    );
    return { ...urls, baseUrl: urls.metricsUrl.replace(/\/metrics$/, ''), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Runs scripts/demo.ts as a process. */
export function runDemo(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'scripts/demo.ts'), ...args], {
      cwd: ROOT,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}
