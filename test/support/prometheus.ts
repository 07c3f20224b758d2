/**
 * A real Prometheus (Debian's /usr/bin/prometheus, 2.42) for integration tests: scrapes one target every
 * second with `honor_labels: true` and `--enable-feature=native-histograms` (which also makes it ask for
 * the protobuf exposition first, as 3.x does), on a free loopback port, stopped by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../integration/service-support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  readonly base: string;
  query(q: string): Promise<PromResult[]>;
  /** Polls `q` until `pred` holds; throws with the last answer after `timeoutMs`. */
  waitFor(q: string, pred: (r: PromResult[]) => boolean, timeoutMs?: number): Promise<PromResult[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'accrue-prom-'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: accrue',
      '    honor_labels: true',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const prom: ChildProcess = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      '--enable-feature=native-histograms',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prom.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const stop = async () => {
    if (prom.exitCode === null && prom.signalCode === null) {
      await new Promise<void>((resolve) => {
        prom.once('exit', () => resolve());
        prom.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (prom.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited: ${stderr}`);
    }
    const ok = await fetch(`${base}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 150) {
      await stop();
      throw new Error(`prometheus not ready: ${stderr}`);
    }
    await sleep(200);
  }
  const query = async (q: string): Promise<PromResult[]> => {
    const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = (await r.json()) as { status: string; error?: string; data: { result: PromResult[] } };
    if (j.status !== 'success') throw new Error(`query ${q} failed: ${j.error}`);
    return j.data.result;
  };
  const waitFor = async (q: string, pred: (r: PromResult[]) => boolean, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    let last: PromResult[] = [];
    while (Date.now() < until) {
      last = await query(q);
      if (pred(last)) return last;
      await sleep(500);
    }
    throw new Error(
      `timed out waiting for ${q}; last: ${JSON.stringify(last)}; prometheus log: ${stderr.slice(-2000)}`,
    );
  };
  return { base, query, waitFor, stop };
}
