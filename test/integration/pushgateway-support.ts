/**
 * The real Pushgateway for differential tests: Debian's /usr/bin/prometheus-pushgateway on a free
 * loopback port, no persistence file (Debian's default is a shared file under /var/lib), TZ=UTC so its
 * JSON times read like Accrue's; stopped by PID. A port taken by someone else between the probe and the
 * bind makes the child exit: then another port is tried, and an answer from a foreign process is refused
 * (the child must still be alive and hold no groups).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './service-support';

export const PUSHGATEWAY_BIN = '/usr/bin/prometheus-pushgateway';

export interface RunningPushgateway {
  readonly base: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function ready(base: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`pushgateway exited with ${child.exitCode}: ${log()}`);
    const ok = await fetch(`${base}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`pushgateway not ready: ${log()}`);
}

/** Starts the Pushgateway with `extraArgs`; fails (never skips) when the binary is missing. */
export async function startPushgateway(extraArgs: readonly string[] = []): Promise<RunningPushgateway> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(
      PUSHGATEWAY_BIN,
      [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn', ...extraArgs],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TZ: 'UTC' } },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    try {
      await spawned;
      await ready(base, child, () => stderr);
      const groups = (await (await fetch(`${base}/api/v1/metrics`)).json()) as { data: unknown[] };
      if (child.exitCode !== null || groups.data.length !== 0)
        throw new Error(`port ${port} answered, but not from our pushgateway`);
      return { base, pid: child.pid!, stop: () => stopChild(child) };
    } catch (err) {
      lastErr = err;
      await stopChild(child);
      if ((err as { code?: string }).code === 'ENOENT') break;
    }
  }
  throw lastErr;
}
