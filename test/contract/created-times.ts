/**
 * Contract cases: a series' start (`createdMs`, OpenMetrics `_created`), on every store. Registered by
 * store-contract.ts. The store knows a start only for series it accumulates itself (applies): the store
 * clock of the apply that created the series. Redeliveries, retries in other batches, other processes
 * with other clocks and the later parts of a request that failed part-way never move it; a series removed
 * (DELETE, a PUT without its family, expiry) and written again starts again. Pushed series carry the start
 * the push gave (a protobuf `created_timestamp`), or none; gauges never have one.
 */
import { labelsKey } from '../../shared/model/identity';
import type { Labels, MetricFamily } from '../../shared/model/types';
import type { MetricOp, Store, StoreSnapshot } from '../../shared/store/types';
import { validApplies, validPush } from '../support/edge';
import { add, counterFamily, FakeClock, findFamily, gaugeFamily, inc, observe, req, set } from './helpers';
import type { StoreFactoryOptions } from './store-contract';

const G = { job: 'trading', instance: 'created-1' } as const;
const B = [0.01, 0.1, 1] as const;

export interface CreatedTimeCaseOptions {
  readonly c: (title: string, fn: () => Promise<void>) => void;
  readonly newStore: (o?: StoreFactoryOptions) => Promise<Store>;
  readonly injectApplyFault?: (store: Store, id: string) => void;
  readonly openPeer?: (store: Store, o?: { readonly now?: () => number }) => Promise<Store>;
}

/** The series' start in the snapshot: a number, `undefined` (none), or `'absent'` (no such series). */
function startOf(
  snap: StoreSnapshot,
  name: string,
  labels: Labels = {},
  group: Labels = G,
): number | undefined | 'absent' {
  const f = findFamily(snap, group, name);
  const k = labelsKey(labels);
  const s = (f?.series as readonly { labels: Labels; createdMs?: number }[] | undefined)?.find(
    (x) => labelsKey(x.labels) === k,
  );
  return s === undefined ? 'absent' : s.createdMs;
}

/** One counter, one histogram and two gauges (set and add) in one request. */
function mixed(id: string, venue: string): ReturnType<typeof req> {
  const ops: MetricOp[] = [
    inc('aria_orders_total', { venue }, 2),
    observe('aria_latency_seconds', { venue }, B, [0.005, 0.5]),
    add('aria_exposure', { venue }, 3),
    set('aria_position', { venue }, 7, 1_000),
  ];
  return req(id, G, ops);
}

export function createdTimeCases(o: CreatedTimeCaseOptions): void {
  const { c } = o;
  describe('series start (createdMs, OpenMetrics _created)', () => {
    c(
      'an applied counter or histogram starts at the store clock of its first apply; gauges have no start',
      async () => {
        const clock = new FakeClock();
        const s = await o.newStore({ now: clock.now });
        const t0 = clock.t;
        await s.apply(validApplies([mixed('m1', 'x')]));
        clock.advance(5_000);
        // Later applies into the same series, a new series beside them, a redelivery alone and a
        // redelivery in another batch composition.
        await s.apply(
          validApplies([mixed('m2', 'x'), req('m3', G, [inc('aria_orders_total', { venue: 'y' }, 1)])]),
        );
        clock.advance(5_000);
        expect((await s.apply(validApplies([mixed('m1', 'x')])))[0]!.status).toBe('duplicate');
        expect(
          (
            await s.apply(validApplies([req('m4', G, [inc('aria_fills_total', {}, 1)]), mixed('m1', 'x')]))
          )[1]!.status,
        ).toBe('duplicate');
        const snap = await s.snapshot();
        expect(startOf(snap, 'aria_orders_total', { venue: 'x' })).toBe(t0);
        expect(startOf(snap, 'aria_latency_seconds', { venue: 'x' })).toBe(t0);
        expect(startOf(snap, 'aria_orders_total', { venue: 'y' })).toBe(t0 + 5_000);
        expect(startOf(snap, 'aria_fills_total')).toBe(t0 + 10_000);
        expect(startOf(snap, 'aria_exposure', { venue: 'x' })).toBeUndefined();
        expect(startOf(snap, 'aria_position', { venue: 'x' })).toBeUndefined();
        // The values moved; the starts did not.
        const orders = findFamily(snap, G, 'aria_orders_total')!;
        expect(orders.series.find((x) => x.labels.venue === 'x')).toMatchObject({ value: 4 });
      },
    );

    c('another clock (another process, or this one set back) never moves a start', async () => {
      const clock = new FakeClock();
      const a = await o.newStore({ now: clock.now });
      const t0 = clock.t;
      await a.apply(validApplies([mixed('k1', 'x')]));
      // A second process whose clock is an hour behind (or, without peers, this store's clock set back).
      const behind = new FakeClock(t0 - 3_600_000);
      const b = o.openPeer ? await o.openPeer(a, { now: behind.now }) : a;
      if (b === a) clock.t = behind.t;
      const bNow = b === a ? clock : behind;
      try {
        await b.apply(
          validApplies([
            mixed('k2', 'x'),
            mixed('k1', 'x'),
            req('k3', G, [inc('aria_orders_total', { venue: 'z' }, 1)]),
          ]),
        );
        for (const st of b === a ? [a] : [a, b]) {
          const snap = await st.snapshot();
          expect(startOf(snap, 'aria_orders_total', { venue: 'x' })).toBe(t0);
          expect(startOf(snap, 'aria_latency_seconds', { venue: 'x' })).toBe(t0);
          // A series the other clock created starts at that clock's time.
          expect(startOf(snap, 'aria_orders_total', { venue: 'z' })).toBe(bNow.t);
        }
      } finally {
        if (b !== a) await b.close();
      }
    });

    c(
      'a request that failed part-way: series of committed parts keep their start, the rest start at the retry',
      async () => {
        if (!o.injectApplyFault) return;
        const clock = new FakeClock();
        const s = await o.newStore({ now: clock.now });
        const t0 = clock.t;
        // Labels over 256 bytes keep each series in its own item on DynamoDB, so the request has several parts.
        const labels = (i: number) => ({ n: String(i), ref: 'r'.repeat(300) });
        const ops: MetricOp[] = [];
        for (let i = 0; i < 250; i++) ops.push(inc('aria_orders_total', labels(i), 1));
        o.injectApplyFault(s, 'big');
        expect((await s.apply(validApplies([req('big', G, ops)])))[0]!.status).toBe('failed');
        const afterFailure = await s.snapshot();
        const committed = new Set<number>();
        for (let i = 0; i < 250; i++) {
          const st = startOf(afterFailure, 'aria_orders_total', labels(i));
          if (st === 'absent') continue;
          expect(st).toBe(t0);
          committed.add(i);
        }
        clock.advance(60_000);
        expect((await s.apply(validApplies([req('big', G, ops)])))[0]!.status).toBe('applied');
        const snap = await s.snapshot();
        for (let i = 0; i < 250; i++)
          expect(startOf(snap, 'aria_orders_total', labels(i))).toBe(committed.has(i) ? t0 : t0 + 60_000);
      },
    );

    c(
      'a series removed (DELETE, PUT without its family, expiry) and written again starts again',
      async () => {
        const clock = new FakeClock();
        const s = await o.newStore({ now: clock.now });
        const t0 = clock.t;
        const orders = (id: string) =>
          req(id, G, [inc('aria_orders_total', {}, 1), observe('aria_latency_seconds', {}, B, [0.5])]);
        await s.apply(validApplies([orders('d1')]));
        clock.advance(1_000);
        await s.push(validPush({ method: 'DELETE', group: G, families: [], pushTimeMs: clock.t }));
        clock.advance(1_000);
        await s.apply(validApplies([orders('d2')]));
        let snap = await s.snapshot();
        expect(startOf(snap, 'aria_orders_total')).toBe(t0 + 2_000);
        expect(startOf(snap, 'aria_latency_seconds')).toBe(t0 + 2_000);

        clock.advance(1_000);
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            families: [gaugeFamily('aria_up', [[{}, 1]])],
            pushTimeMs: clock.t,
          }),
        );
        expect(startOf(await s.snapshot(), 'aria_orders_total')).toBe('absent');
        clock.advance(1_000);
        await s.apply(validApplies([orders('d3')]));
        snap = await s.snapshot();
        expect(startOf(snap, 'aria_orders_total')).toBe(t0 + 4_000);
        expect(startOf(snap, 'aria_latency_seconds')).toBe(t0 + 4_000);

        clock.advance(120_000);
        expect((await s.expire(clock.t, 60_000)).length).toBe(1);
        clock.advance(1_000);
        await s.apply(validApplies([orders('d4')]));
        snap = await s.snapshot();
        expect(startOf(snap, 'aria_orders_total')).toBe(clock.t);
        expect(startOf(snap, 'aria_latency_seconds')).toBe(clock.t);
      },
    );

    c(
      'pushed series keep the start the push carried (counters, histograms, summaries), or none',
      async () => {
        const clock = new FakeClock();
        const s = await o.newStore({ now: clock.now });
        const pushedStart = 1_600_000_000_123;
        const families: MetricFamily[] = [
          {
            ...counterFamily('jobs_total', [
              [{ q: 'a' }, 5],
              [{ q: 'b' }, 6],
            ]),
            series: [
              { labels: { q: 'a' }, value: 5, createdMs: pushedStart },
              { labels: { q: 'b' }, value: 6 },
            ],
          },
          {
            name: 'job_seconds',
            help: '',
            type: 'histogram',
            series: [
              { labels: {}, buckets: [{ le: 1, count: 1 }], sum: 0.5, count: 2, createdMs: pushedStart + 1 },
            ],
          },
          {
            name: 'job_quantiles',
            help: '',
            type: 'summary',
            series: [
              {
                labels: {},
                quantiles: [{ quantile: 0.5, value: 1 }],
                sum: 3,
                count: 2,
                createdMs: pushedStart + 2,
              },
            ],
          },
          // A gauge's start means nothing: not kept.
          {
            name: 'job_up',
            help: '',
            type: 'gauge',
            series: [{ labels: {}, value: 1, createdMs: pushedStart }],
          },
        ];
        await s.push(validPush({ method: 'PUT', group: G, families, pushTimeMs: clock.t }));
        clock.advance(1_000);
        // An apply into a pushed counter whose start the push didn't give: still unknown.
        await s.apply(
          validApplies([req('p1', G, [inc('jobs_total', { q: 'b' }, 1), inc('jobs_total', { q: 'a' }, 1)])]),
        );
        const snap = await s.snapshot();
        expect(startOf(snap, 'jobs_total', { q: 'a' })).toBe(pushedStart);
        expect(startOf(snap, 'jobs_total', { q: 'b' })).toBeUndefined();
        expect(startOf(snap, 'job_seconds')).toBe(pushedStart + 1);
        expect(startOf(snap, 'job_quantiles')).toBe(pushedStart + 2);
        expect(startOf(snap, 'job_up')).toBeUndefined();
      },
    );
  });
}
