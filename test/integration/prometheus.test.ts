/**
 * A real Prometheus (Debian's /usr/bin/prometheus) scrapes the service with `honor_labels: true`; PromQL
 * over data applied to the store (histogram observations, twice, with scrapes in between) and pushed over
 * HTTP answers as expected, and pushed job/instance labels are kept (no exported_job/exported_instance).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApplyRequest } from '../../shared/store/types';
import { freePort, http, type Running, startService } from './service-support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

describe('Prometheus scraping the service', () => {
  let svc: Running;
  let prom: ChildProcess | undefined;
  let promBase: string;
  let dir: string;

  beforeAll(async () => {
    svc = await startService({ snapshotRefreshMs: 0 });
    dir = mkdtempSync(join(tmpdir(), 'accrue-prom-'));
    const target = new URL(svc.base).host;
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
    promBase = `http://127.0.0.1:${port}`;
    prom = spawn(
      '/usr/bin/prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        // Makes Prometheus 2.42 ask for protobuf first (as 3.x always does): the scrape reads Accrue's protobuf exposition.
        '--enable-feature=native-histograms',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    prom.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    for (let i = 0; ; i++) {
      if (prom.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
      const ok = await fetch(`${promBase}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 150) throw new Error(`prometheus not ready: ${stderr}`);
      await sleep(200);
    }
  });

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const p = prom;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    }
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<PromResult[]> {
    const r = await fetch(`${promBase}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = (await r.json()) as { status: string; data: { result: PromResult[] } };
    expect(j.status).toBe('success');
    return j.data.result;
  }

  async function waitFor(
    q: string,
    pred: (r: PromResult[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<PromResult[]> {
    const until = Date.now() + timeoutMs;
    let last: PromResult[] = [];
    while (Date.now() < until) {
      last = await query(q);
      if (pred(last)) return last;
      await sleep(500);
    }
    throw new Error(`timed out waiting for ${q}; last: ${JSON.stringify(last)}`);
  }

  const group = { job: 'aria', instance: 'exec-1' };
  const observe = (id: string, counts: number[], sum: number): ApplyRequest => ({
    id,
    group,
    ops: [
      {
        kind: 'histogram_observe',
        name: 'aria_execution_latency_seconds',
        help: 'Order execution latency.',
        labels: { venue: 'XNAS' },
        bounds: [0.01, 0.05, 0.1, 0.5, 1],
        counts,
        sum,
        count: counts.reduce((a, b) => a + b, 0),
      },
    ],
  });

  it('answers histogram_quantile over applied observations; job/instance are honored', async () => {
    const [r1] = await svc.store.apply([observe('prom-1', [10, 80, 0, 10, 0, 0], 3)]);
    expect(r1!.status).toBe('applied');
    // Wait until Prometheus has at least two scrapes of the first state, then add more observations.
    await waitFor(
      'count_over_time(aria_execution_latency_seconds_count[1m])',
      (r) => Number(r[0]?.value[1] ?? 0) >= 2,
    );
    const [r2] = await svc.store.apply([observe('prom-2', [10, 80, 0, 10, 0, 0], 3)]);
    expect(r2!.status).toBe('applied');
    await waitFor('aria_execution_latency_seconds_count', (r) => r[0]?.value[1] === '200');

    const p95 = await waitFor(
      'histogram_quantile(0.95, rate(aria_execution_latency_seconds_bucket[1m]))',
      (r) => r.length === 1 && Number(r[0]!.value[1]) > 0,
    );
    // 95th of 100 new observations: 90 are <= 0.05, the next 10 are in (0.1, 0.5].
    const v = Number(p95[0]!.value[1]);
    expect(v).toBeGreaterThan(0.1);
    expect(v).toBeLessThanOrEqual(0.5);
    expect(p95[0]!.metric).toEqual({ job: 'aria', instance: 'exec-1', venue: 'XNAS' });

    const count = await query('aria_execution_latency_seconds_count');
    expect(count[0]!.metric).toEqual({
      __name__: 'aria_execution_latency_seconds_count',
      job: 'aria',
      instance: 'exec-1',
      venue: 'XNAS',
    });
  });

  it('a pushed group without instance keeps an empty instance, not the gateway address', async () => {
    const r = await http(
      svc.base,
      'PUT',
      '/metrics/job/nightly',
      '# HELP nightly_ok Last run.\n# TYPE nightly_ok gauge\nnightly_ok 1\n',
    );
    expect(r.status).toBe(200);
    const res = await waitFor('nightly_ok', (x) => x.length === 1);
    expect(res[0]!.metric).toEqual({ __name__: 'nightly_ok', job: 'nightly' });
    const pt = await waitFor('push_time_seconds{job="nightly"}', (x) => x.length === 1);
    expect(Number(pt[0]!.value[1])).toBeGreaterThan(1e9);
    expect(Object.keys(pt[0]!.metric).some((k) => k.startsWith('exported_'))).toBe(false);
    // Accrue's own metrics get the scrape's job and instance.
    const own = await waitFor('accrue_scrapes_total', (x) => x.length === 1);
    expect(own[0]!.metric['job']).toBe('accrue');
    expect(own[0]!.metric['instance']).toBe(new URL(svc.base).host);
  });
});
