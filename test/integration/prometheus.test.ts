/**
 * A real Prometheus (Debian's /usr/bin/prometheus) scrapes the service with `honor_labels: true`; PromQL
 * over data applied to the store (histogram observations, twice, with scrapes in between) and pushed over
 * HTTP answers as expected, and pushed job/instance labels are kept (no exported_job/exported_instance).
 */
import type { ApplyRequest } from '../../shared/store/types';
import { validApplies } from '../support/edge';
import { type PromResult, type RunningPrometheus, startPrometheus } from '../support/prometheus';
import { http, type Running, startService } from './service-support';

describe('Prometheus scraping the service', () => {
  let svc: Running;
  let prom: RunningPrometheus | undefined;

  beforeAll(async () => {
    svc = await startService({ snapshotRefreshMs: 0 });
    prom = await startPrometheus(new URL(svc.base).host);
  });

  afterAll(async () => {
    await prom?.stop();
    await svc?.stop();
  });

  const query = (q: string) => prom!.query(q);
  const waitFor = (q: string, pred: (r: PromResult[]) => boolean) => prom!.waitFor(q, pred);

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
    const [r1] = await svc.store.apply(validApplies([observe('prom-1', [10, 80, 0, 10, 0, 0], 3)]));
    expect(r1!.status).toBe('applied');
    // Wait until Prometheus has at least two scrapes of the first state, then add more observations.
    await waitFor(
      'count_over_time(aria_execution_latency_seconds_count[1m])',
      (r) => Number(r[0]?.value[1] ?? 0) >= 2,
    );
    const [r2] = await svc.store.apply(validApplies([observe('prom-2', [10, 80, 0, 10, 0, 0], 3)]));
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
