/**
 * The Store contract suite (shared/store/types.ts, points 1–8), run against every implementation, in the
 * style of honojs/hono `src/router/common.case.test.ts`:
 *
 *   runStoreContract('MemoryStore', { newStore: (o) => MemoryStore.open({ ...o }) });
 *
 * Each case opens its own store through `newStore()` (fresh and isolated) and closes it afterwards. An
 * implementation that cannot pass a case lists it in `skip` with the reason; the case then shows up as
 * skipped with that reason in its title.
 *
 * Decisions this suite pins down (docs/store.md, "Contract details"):
 * - An apply request whose grouping key is invalid fails as a whole (`failed`, permanent ValidationError,
 *   id not consumed); an invalid, conflicting or over-limit op is rejected alone (`rejected[]`).
 * - `lastPushMs` of a push is its `pushTimeMs`; `lastUpdateMs` is the store clock. Pushes of equal time are
 *   not stale (a redelivery re-applies the same content and changes nothing).
 * - A DELETE leaves a tombstone, so an older PUT/POST of that group is stale afterwards.
 * - Series inside a family are sorted by `labelsKey(labels)`; families by name.
 */
import fc from 'fast-check';
import { FamilyConflictError, LimitError, TransientError, ValidationError } from '../../shared/model/errors';
import { labelsKey } from '../../shared/model/identity';
import { type NativeHistogram, type ObservedNative, observeNative } from '../../shared/model/native';
import type { HistogramSeries, Labels, MetricFamily } from '../../shared/model/types';
import type { ApplyRequest, ApplyResult, MetricOp, Store, StoreLimits } from '../../shared/store/types';
import { appliedIds, atEdge, validApplies, validGroup, validPush } from '../support/edge';
import { createdTimeCases } from './created-times';
import { deadLetterClaimCases } from './dead-letter-claims';
import {
  add,
  counterFamily,
  FakeClock,
  findFamily,
  findGroup,
  gaugeFamily,
  histogramFamily,
  histogramOf,
  inc,
  observe,
  plain,
  req,
  seriesCount,
  seriesValue,
  set,
  thrown,
} from './helpers';
import { idempotentWriteCases } from './idempotent-writes';
import { nativeObserveCases } from './native-observe';

export interface StoreFactoryOptions {
  /** Limits for this store; unspecified ones keep their defaults. */
  readonly limits?: Partial<StoreLimits>;
  /** The store's clock (ms since epoch), for lastUpdateMs and TTL. */
  readonly now?: () => number;
}

export interface StoreContractOptions {
  /** Opens a fresh, empty, isolated store. */
  readonly newStore: (options?: StoreFactoryOptions) => Promise<Store>;
  /** Case title → reason it can't pass on this implementation. */
  readonly skip?: Readonly<Record<string, string>>;
  /**
   * Optional fault injection: makes the next `apply` of request `id` fail transiently part-way (for a store
   * that commits a large request in parts, after at least one part is committed). Without it, the
   * partial-failure case is skipped.
   */
  readonly injectApplyFault?: (store: Store, id: string) => void;
  /**
   * Optional: opens another instance over the same data as `store` (another process's view, e.g. a second
   * DynamoStore on the same tables). Without it, the cases about another instance's writes are no-ops.
   */
  readonly openPeer?: (store: Store, options?: { readonly now?: () => number }) => Promise<Store>;
  /** Optional: see `IdempotentWriteCaseOptions.injectPushFault` (./idempotent-writes.ts). */
  readonly injectPushFault?: (store: Store, id: string) => void;
  /**
   * Optional, for stores that write a large push in several steps: holds `store`'s next push after its
   * first step (`paused` resolves then) until `resume()`. Without it, the case runs the pushes in order.
   */
  readonly pauseNextPush?: (store: Store) => { readonly paused: Promise<void>; resume(): void };
}

const G = { job: 'trading', instance: 'eu-1' } as const;
const G2 = { job: 'trading', instance: 'us-1' } as const;
const B = [0.005, 0.01, 0.1, 1] as const;

function statuses(results: readonly ApplyResult[]): string[] {
  return results.map((r) => `${r.id}:${r.status}`);
}

export function runStoreContract(name: string, opts: StoreContractOptions): void {
  describe(`Store contract: ${name}`, () => {
    const open: Store[] = [];
    const newStore = async (o?: StoreFactoryOptions): Promise<Store> => {
      const s = await opts.newStore(o);
      open.push(s);
      return s;
    };
    afterEach(async () => {
      const all = open.splice(0);
      await Promise.all(all.map((s) => s.close()));
    });
    const skipReason = (title: string): string | undefined => opts.skip?.[title];
    /** Registers a case unless the implementation skips it. */
    const c = (title: string, fn: () => Promise<void>): void => {
      const why = skipReason(title);
      if (why !== undefined) it.skip(`${title} [skipped: ${why}]`, fn);
      else it(title, fn);
    };
    const cEach = <T extends readonly unknown[]>(
      title: string,
      table: readonly T[],
      fn: (...args: T) => Promise<void>,
    ) => {
      const why = skipReason(title);
      if (why !== undefined) it.skip(`${title} [skipped: ${why}]`, () => undefined);
      // biome-ignore lint/suspicious/noExplicitAny: jest's each typing
      else it.each(table as any)(`${title}: %s`, fn as any);
    };

    // ------------------------------------------ 1. exactly once: keyed pushes, sender hashes (own file)
    idempotentWriteCases({
      c,
      newStore: () => newStore(),
      ...(opts.injectPushFault ? { injectPushFault: opts.injectPushFault } : {}),
    });

    // ------------------------------- 1.+4. native histograms from observations (own file)
    nativeObserveCases({
      c,
      newStore: () => newStore(),
      ...(opts.injectApplyFault ? { injectApplyFault: opts.injectApplyFault } : {}),
      ...(opts.openPeer ? { openPeer: opts.openPeer } : {}),
    });

    // ------------------------------- series start (createdMs) on every write path (own file)
    createdTimeCases({
      c,
      newStore,
      ...(opts.injectApplyFault ? { injectApplyFault: opts.injectApplyFault } : {}),
      ...(opts.openPeer ? { openPeer: opts.openPeer } : {}),
    });

    // ------------------------------- 1. one DLQ copy per message: dead-letter claims (own file)
    deadLetterClaimCases({
      c,
      newStore,
      ...(opts.openPeer ? { openPeer: opts.openPeer } : {}),
    });

    // ---------------------------------------------------------------- 1. exactly once
    describe('exactly once per request id', () => {
      c('counter, gauge add and histogram are applied once per id', async () => {
        const s = await newStore();
        const ops: MetricOp[] = [
          inc('aria_orders_total', { venue: 'xnas' }, 3),
          add('aria_open_positions', { book: 'a' }, 2),
          observe('aria_latency_seconds', { venue: 'xnas' }, B, [0.001, 0.05, 5]),
        ];
        const first = await s.apply(validApplies([req('m1', G, ops)]));
        expect(statuses(first)).toEqual(['m1:applied']);
        expect(first[0]!.rejected).toEqual([]);
        for (let i = 0; i < 3; i++)
          expect(statuses(await s.apply(validApplies([req('m1', G, ops)])))).toEqual(['m1:duplicate']);
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'aria_orders_total', { venue: 'xnas' })).toBe(3);
        expect(seriesValue(snap, G, 'aria_open_positions', { book: 'a' })).toBe(2);
        const h = histogramOf(snap, G, 'aria_latency_seconds', { venue: 'xnas' });
        expect(h?.buckets).toEqual([
          [0.005, 1],
          [0.01, 1],
          [0.1, 2],
          [1, 2],
        ]);
        expect(h?.count).toBe(3);
        expect(h?.sum).toBeCloseTo(5.051, 9);
      });

      c('the same id twice in one batch is applied once', async () => {
        const s = await newStore();
        const r = req('dup', G, [inc('aria_fills_total', {}, 5)]);
        const res = await s.apply(validApplies([r, req('other', G, [inc('aria_fills_total', {}, 1)]), r]));
        expect(statuses(res)).toEqual(['dup:applied', 'other:applied', 'dup:duplicate']);
        expect(seriesValue(await s.snapshot(), G, 'aria_fills_total')).toBe(6);
      });

      c('an id redelivered in batches of different composition is applied once', async () => {
        const s = await newStore();
        const a = req('a', G, [inc('aria_fills_total', { side: 'buy' }, 1)]);
        const b = req('b', G, [inc('aria_fills_total', { side: 'buy' }, 10)]);
        const cc = req('c', G2, [inc('aria_fills_total', { side: 'buy' }, 100)]);
        expect(statuses(await s.apply(validApplies([a, b])))).toEqual(['a:applied', 'b:applied']);
        expect(statuses(await s.apply(validApplies([b, cc, a])))).toEqual([
          'b:duplicate',
          'c:applied',
          'a:duplicate',
        ]);
        expect(statuses(await s.apply(validApplies([cc])))).toEqual(['c:duplicate']);
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'aria_fills_total', { side: 'buy' })).toBe(11);
        expect(seriesValue(snap, G2, 'aria_fills_total', { side: 'buy' })).toBe(100);
      });

      cEach(
        'a request with an invalid grouping key is refused at the edge alone, permanently, and its neighbours apply',
        [
          ['missing job', { instance: 'x' }],
          ['empty job', { job: '' }],
          ['reserved label name', { job: 'a', __name__: 'x' }],
          ['__proto__ label name', JSON.parse('{"job":"a","__proto__":"x"}')],
          ['number value', { job: 'a', shard: 3 }],
          ['NUL in value', { job: 'a\u0000b' }],
          ['invalid label name', { job: 'a', 'bad-name': 'x' }],
        ] as const,
        async (_t: string, group: unknown) => {
          const s = await newStore();
          const reached = appliedIds(s);
          const batch: ApplyRequest[] = [
            req('ok1', G, [inc('aria_fills_total', {}, 1)]),
            { id: 'bad', group: group as Labels, ops: [inc('aria_fills_total', {}, 1)] },
            req('ok2', G, [inc('aria_fills_total', {}, 2)]),
          ];
          const edge = atEdge(batch);
          expect(edge.refused.map((r) => r.index)).toEqual([1]);
          const bad = edge.refused[0]!.error;
          expect(bad).toBeInstanceOf(ValidationError);
          expect(bad.permanent).toBe(true);
          expect(bad.message).toMatch(/grouping_key/);
          // A valid request next to the refused one in the same batch still applies.
          expect(statuses(await s.apply(edge.valid))).toEqual(['ok1:applied', 'ok2:applied']);
          // Reapplying the batch: good ids are duplicates, the bad one is refused again, nothing doubles.
          const again = atEdge(batch);
          expect(again.refused.map((r) => r.index)).toEqual([1]);
          expect(statuses(await s.apply(again.valid))).toEqual(['ok1:duplicate', 'ok2:duplicate']);
          // The refused request never reached the store: its id is not consumed.
          expect(reached).toEqual(['ok1', 'ok2', 'ok1', 'ok2']);
          const snap = await s.snapshot();
          expect(seriesValue(snap, G, 'aria_fills_total')).toBe(3);
          expect(snap.groups).toHaveLength(1);
        },
      );

      c('a redelivery with other ops under the same id is refused and changes nothing', async () => {
        const s = await newStore();
        const first = req('m', G, [inc('aria_fills_total', { side: 'buy' }, 1)]);
        expect(statuses(await s.apply(validApplies([first])))).toEqual(['m:applied']);
        const gen = await s.generation();
        const other = req('m', G, [
          inc('aria_fills_total', { side: 'buy' }, 1),
          inc('aria_fills_total', { side: 'sell' }, 2),
        ]);
        const res = await s.apply(
          validApplies([other, req('n', G, [inc('aria_fills_total', { side: 'buy' }, 10)])]),
        );
        expect(statuses(res)).toEqual(['m:failed', 'n:applied']);
        const f = res[0]!;
        if (f.status !== 'failed') throw new Error('expected failed');
        expect(f.error.permanent).toBe(true);
        expect(f.error.reason).toBe('redelivery_mismatch');
        expect(f.error.message).toContain('m');
        expect(await s.generation()).not.toBe(gen);
        // The original content redelivered (ops in another order) is a plain duplicate.
        expect(statuses(await s.apply(validApplies([first])))).toEqual(['m:duplicate']);
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'aria_fills_total', { side: 'buy' })).toBe(11);
        expect(seriesValue(snap, G, 'aria_fills_total', { side: 'sell' })).toBeUndefined();
      });

      c('a large request redelivered with its ops in another order is a duplicate', async () => {
        const s = await newStore();
        const ops: MetricOp[] = [];
        for (let i = 0; i < 230; i++) ops.push(inc('aria_orders_total', { n: String(i) }, 1));
        ops.push(set('aria_pos', {}, 3, 5));
        expect(statuses(await s.apply(validApplies([req('big', G, ops)])))).toEqual(['big:applied']);
        const reversed = [...ops].reverse();
        expect(statuses(await s.apply(validApplies([req('big', G, reversed)])))).toEqual(['big:duplicate']);
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'aria_orders_total', { n: '17' })).toBe(1);
        expect(seriesCount(snap)).toBe(231);
      });

      c('a large request with invalid ops keeps its parts when the valid ones change', async () => {
        // Parts are cut over every op of the request, not over what validation accepted this time: the
        // same request redelivered to a store with other label limits is still a duplicate.
        const s = await newStore({ limits: { maxLabelValueLength: 3 } });
        const ops: MetricOp[] = [];
        for (let i = 0; i < 240; i++)
          ops.push(inc('aria_orders_total', { n: i % 7 === 0 ? `long-${i}` : String(i) }, 1));
        const T = { job: 't' };
        const res = await s.apply(validApplies([req('big', T, ops)]));
        expect(statuses(res)).toEqual(['big:applied']);
        expect(res[0]!.rejected.length).toBe(35);
        expect(statuses(await s.apply(validApplies([req('big', T, ops)])))).toEqual(['big:duplicate']);
        expect(seriesCount(await s.snapshot())).toBe(205);
      });

      c('a request that failed part-way is applied exactly once when retried', async () => {
        if (!opts.injectApplyFault) return;
        const s = await newStore();
        // Large enough to be split by stores that commit in parts (DynamoDB: 100 actions per transaction,
        // and labels over 256 bytes keep each series in its own item, so the parts can't share one).
        const labels = (i: number) => ({ n: String(i), ref: 'r'.repeat(300) });
        const ops: MetricOp[] = [];
        for (let i = 0; i < 250; i++) ops.push(inc('aria_orders_total', labels(i), i + 1));
        const big = req('big', G, ops);
        const small = req('small', G, [inc('aria_fills_total', {}, 7)]);
        opts.injectApplyFault(s, 'big');
        const first = await s.apply(validApplies([small, big]));
        expect(statuses(first)).toEqual(['small:applied', 'big:failed']);
        const f = first[1]!;
        if (f.status !== 'failed') throw new Error('expected failed');
        expect(f.error).toBeInstanceOf(TransientError);
        expect(f.error.permanent).toBe(false);
        const second = await s.apply(validApplies([big, small]));
        expect(statuses(second)).toEqual(['big:applied', 'small:duplicate']);
        expect(statuses(await s.apply(validApplies([big])))).toEqual(['big:duplicate']);
        const snap = await s.snapshot();
        for (let i = 0; i < 250; i++)
          expect(seriesValue(snap, G, 'aria_orders_total', labels(i))).toBe(i + 1);
        expect(seriesValue(snap, G, 'aria_fills_total')).toBe(7);
      });

      c(
        'a multi-part request whose transaction failed is applied exactly once when retried (short labels)',
        async () => {
          if (!opts.injectApplyFault) return;
          const s = await newStore();
          // On DynamoDB these series share a few pack items, so the parts may share one transaction: the
          // whole request (and what shared its transaction) fails, and the retry applies it exactly once.
          const ops: MetricOp[] = [];
          for (let i = 0; i < 250; i++) ops.push(inc('aria_orders_total', { n: String(i) }, i + 1));
          const big = req('big', G, ops);
          const small = req('small', G, [inc('aria_fills_total', {}, 7)]);
          opts.injectApplyFault(s, 'big');
          const first = await s.apply(validApplies([small, big]));
          expect(first[1]!.status).toBe('failed');
          const second = await s.apply(validApplies([big, small]));
          expect(second[0]!.status).toBe('applied');
          expect(statuses(await s.apply(validApplies([big, small])))).toEqual([
            'big:duplicate',
            'small:duplicate',
          ]);
          const snap = await s.snapshot();
          for (let i = 0; i < 250; i++)
            expect(seriesValue(snap, G, 'aria_orders_total', { n: String(i) })).toBe(i + 1);
          expect(seriesValue(snap, G, 'aria_fills_total')).toBe(7);
          expect(seriesCount(snap)).toBe(251);
        },
      );

      c('8 concurrent writers on one hot series keep exact totals', async () => {
        const s = await newStore();
        const writers = 8;
        const perWriter = 25;
        const calls: Promise<ApplyResult[]>[] = [];
        let exposure = 0;
        for (let w = 0; w < writers; w++) {
          const batch: ApplyRequest[] = [];
          for (let i = 0; i < perWriter; i++) {
            exposure += i % 2 === 0 ? 1.5 : -0.5;
            batch.push(
              req(`w${w}-${i}`, G, [
                inc('aria_orders_total', { venue: 'hot' }, w + 1),
                add('aria_exposure', { book: 'hot' }, i % 2 === 0 ? 1.5 : -0.5),
                observe('aria_latency_seconds', { venue: 'hot' }, B, [0.002, 0.5]),
              ]),
            );
          }
          calls.push(s.apply(validApplies(batch)));
        }
        const results = (await Promise.all(calls)).flat();
        expect(results.every((r) => r.status === 'applied')).toBe(true);
        const snap = await s.snapshot();
        // sum over w of (w+1)*perWriter
        expect(seriesValue(snap, G, 'aria_orders_total', { venue: 'hot' })).toBe(
          ((writers * (writers + 1)) / 2) * perWriter,
        );
        expect(seriesValue(snap, G, 'aria_exposure', { book: 'hot' })).toBeCloseTo(exposure, 9);
        const h = histogramOf(snap, G, 'aria_latency_seconds', { venue: 'hot' });
        expect(h?.count).toBe(writers * perWriter * 2);
        expect(h?.buckets[0]).toEqual([0.005, writers * perWriter]);
      });

      c('the same ids delivered concurrently by many callers are applied once', async () => {
        const s = await newStore();
        const batch: ApplyRequest[] = [];
        for (let i = 0; i < 20; i++) batch.push(req(`m${i}`, G, [inc('aria_fills_total', {}, 1)]));
        const results = await Promise.all(Array.from({ length: 8 }, () => s.apply(validApplies(batch))));
        const applied = results.flat().filter((r) => r.status === 'applied').length;
        expect(applied).toBe(20);
        expect(results.flat().filter((r) => r.status === 'duplicate')).toHaveLength(20 * 7);
        expect(seriesValue(await s.snapshot(), G, 'aria_fills_total')).toBe(20);
      });

      c(
        'a batch mixing a request committed in parts with small ones of its group applies them all',
        async () => {
          // Found by the soak: the packer did not count a multi-part request's header as an action, so a
          // wide message (fresh or redelivered) batched with small ones could fill a transaction to 101
          // actions, which DynamoDB refuses for good (the whole batch went to the DLQ). Both parities of
          // the small requests' action count, so that one of them fills a transaction exactly.
          const s = await newStore();
          const wide = (id: string) =>
            req(
              id,
              G,
              Array.from({ length: 150 }, (_, k) => inc('aria_wide_total', { k: `k${k}` }, 1)),
            );
          const smalls = (tag: string, extra: boolean) =>
            Array.from({ length: 45 }, (_, i) =>
              req(`${tag}-${i}`, G, [
                inc('aria_wide_total', { k: `${tag}-${i}` }, 1),
                ...(extra && i === 0 ? [inc('aria_wide_total', { k: `${tag}-extra` }, 1)] : []),
              ]),
            );
          for (const [tag, extra] of [
            ['a', false],
            ['b', true],
          ] as const) {
            const fresh = await s.apply(
              validApplies([wide(`wide-${tag}`), ...smalls(`fresh-${tag}`, extra)]),
            );
            expect(fresh.map((r) => r.status)).toEqual(fresh.map(() => 'applied'));
            const again = await s.apply(validApplies([wide(`wide-${tag}`), ...smalls(`dup-${tag}`, extra)]));
            expect(again.map((r) => r.status)).toEqual(['duplicate', ...again.slice(1).map(() => 'applied')]);
          }
          const snap = await s.snapshot();
          expect(seriesValue(snap, G, 'aria_wide_total', { k: 'k149' })).toBe(2);
          expect(seriesValue(snap, G, 'aria_wide_total', { k: 'dup-b-44' })).toBe(1);
          expect(seriesValue(snap, G, 'aria_wide_total', { k: 'fresh-b-extra' })).toBe(1);
        },
      );

      c('random redelivery schedules keep exact totals (property, fixed seed)', async () => {
        // Model: 12 requests; each adds to one of 3 counter series and sets one gauge at some event time.
        // A schedule redelivers them in random batches, some of them concurrently; the end state must be
        // the model's whatever the schedule.
        const reqArb = fc.record({
          series: fc.integer({ min: 0, max: 2 }),
          value: fc.integer({ min: 0, max: 1000 }),
          time: fc.integer({ min: 0, max: 5 }),
          gauge: fc.integer({ min: -50, max: 50 }),
        });
        const batchArb = fc.array(fc.integer({ min: 0, max: 11 }), { minLength: 1, maxLength: 6 });
        await fc.assert(
          fc.asyncProperty(
            fc.array(reqArb, { minLength: 12, maxLength: 12 }),
            fc.array(fc.array(batchArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
            async (defs, rounds) => {
              const s = await newStore();
              const build = (i: number): ApplyRequest => {
                const d = defs[i]!;
                return req(`p${i}`, G, [
                  inc('aria_prop_total', { s: String(d.series) }, d.value),
                  set('aria_prop_gauge', {}, d.gauge, d.time),
                ]);
              };
              const seen = new Set<number>();
              for (const concurrent of rounds) {
                await Promise.all(concurrent.map((batch) => s.apply(validApplies(batch.map(build)))));
                for (const batch of concurrent) for (const i of batch) seen.add(i);
              }
              const snap = await s.snapshot();
              const totals = [0, 0, 0];
              let best: { time: number; gauge: number } | undefined;
              for (const i of seen) {
                const d = defs[i]!;
                totals[d.series]! += d.value;
                if (!best || d.time > best.time || (d.time === best.time && d.gauge > best.gauge)) best = d;
              }
              for (let k = 0; k < 3; k++) {
                const v = seriesValue(snap, G, 'aria_prop_total', { s: String(k) });
                expect(v ?? 0).toBe(totals[k]);
              }
              expect(seriesValue(snap, G, 'aria_prop_gauge')).toBe(best?.gauge);
              // Every delivered id is now a duplicate.
              const again = await s.apply(validApplies([...seen].map(build)));
              expect(again.every((r) => r.status === 'duplicate')).toBe(true);
            },
          ),
          { seed: 20261125, numRuns: 15 },
        );
      });

      const hostileOps: Array<[string, unknown]> = [
        ['negative counter', inc('aria_x_total', {}, -1)],
        ['NaN counter', inc('aria_x_total', {}, Number.NaN)],
        ['Infinity counter', inc('aria_x_total', {}, Number.POSITIVE_INFINITY)],
        ['string value', { kind: 'counter_inc', name: 'aria_x_total', labels: {}, value: '5' }],
        ['-Infinity gauge add', add('aria_g', {}, Number.NEGATIVE_INFINITY)],
        ['NaN gauge set', set('aria_g', {}, Number.NaN, 1)],
        ['NaN set time', set('aria_g', {}, 1, Number.NaN)],
        ['bad metric name', inc('1bad', {}, 1)],
        ['empty metric name', inc('', {}, 1)],
        ['reserved label name', inc('aria_x_total', { __name__: 'x' }, 1)],
        ['__proto__ label name', inc('aria_x_total', JSON.parse('{"__proto__":"x"}'), 1)],
        ['invalid label name', inc('aria_x_total', { 'a-b': 'x' }, 1)],
        ['non-string label value', inc('aria_x_total', { a: 1 as unknown as string }, 1)],
        ['NUL in label value', inc('aria_x_total', { a: 'x\u0000y' }, 1)],
        ['label repeating a grouping label', inc('aria_x_total', { job: 'other' }, 1)],
        ['unknown kind', { kind: 'summary_observe', name: 'aria_x', labels: {}, value: 1 }],
        ['labels not an object', { kind: 'counter_inc', name: 'aria_x_total', labels: 'a=b', value: 1 }],
        ['histogram bounds not ascending', { ...observe('aria_h', {}, [1, 0.5], []), counts: [0, 0, 0] }],
        ['histogram counts wrong length', { ...observe('aria_h', {}, B, [0.1]), counts: [1] }],
        ['histogram count != sum of counts', { ...observe('aria_h', {}, B, [0.1]), count: 2 }],
        ['histogram negative count', { ...observe('aria_h', {}, [1], []), counts: [-1, 1], count: 0 }],
        ['histogram Infinity bound', { ...observe('aria_h', {}, [1, Number.POSITIVE_INFINITY], []) }],
        ['histogram NaN sum', { ...observe('aria_h', {}, B, [0.1]), sum: Number.NaN }],
      ];
      cEach(
        'a request with an invalid op is refused at the edge, naming the op; nothing of it applies, its neighbours do',
        hostileOps,
        async (_t: string, bad: unknown) => {
          const s = await newStore();
          const reached = appliedIds(s);
          const batch = [
            req('m', G, [inc('aria_ok_total', {}, 1), bad as MetricOp, add('aria_ok_gauge', {}, 2)]),
            req('n', G, [inc('aria_beside_total', {}, 5)]),
          ];
          const edge = atEdge(batch);
          expect(edge.refused.map((r) => r.index)).toEqual([0]);
          expect(edge.refused[0]!.error).toBeInstanceOf(ValidationError);
          expect(edge.refused[0]!.error.permanent).toBe(true);
          expect(edge.refused[0]!.error.message).toMatch(/^ops\[1\]/);
          expect(statuses(await s.apply(edge.valid))).toEqual(['n:applied']);
          // Nothing of the refused request is half applied; the good data beside it is.
          const snap = await s.snapshot();
          expect(seriesValue(snap, G, 'aria_ok_total')).toBeUndefined();
          expect(seriesValue(snap, G, 'aria_beside_total')).toBe(5);
          expect(findGroup(snap, G)!.families.map((f) => f.name)).toEqual(['aria_beside_total']);
          // The store never saw it, so its id is not consumed: the corrected request applies once.
          expect(reached).toEqual(['n']);
          const fixed = validApplies([
            req('m', G, [inc('aria_ok_total', {}, 1), add('aria_ok_gauge', {}, 2)]),
          ]);
          expect(statuses(await s.apply(fixed))).toEqual(['m:applied']);
          expect(statuses(await s.apply(fixed))).toEqual(['m:duplicate']);
          expect(seriesValue(await s.snapshot(), G, 'aria_ok_total')).toBe(1);
        },
      );

      c('huge finite values are accepted and added exactly', async () => {
        const s = await newStore();
        await s.apply(
          validApplies([req('a', G, [inc('aria_big_total', {}, 1e300), add('aria_g', {}, -1e300)])]),
        );
        await s.apply(
          validApplies([req('b', G, [inc('aria_big_total', {}, 1e300), add('aria_g', {}, -1e300)])]),
        );
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'aria_big_total')).toBe(2e300);
        expect(seriesValue(snap, G, 'aria_g')).toBe(-2e300);
      });

      c('a request whose ops were all rejected consumes its id and creates no group', async () => {
        // Rejected by the store's own checks (a limit); invalid ops never get this far (refused at the edge).
        const s = await newStore({ limits: { maxLabelValueLength: 8 } });
        const gen = await s.generation();
        const res = await s.apply(
          validApplies([req('x', G, [inc('aria_x_total', { v: 'much too long' }, 5)])]),
        );
        expect(res[0]!.status).toBe('applied');
        expect(res[0]!.rejected).toHaveLength(1);
        expect(res[0]!.rejected[0]!.error).toBeInstanceOf(LimitError);
        expect(
          statuses(
            await s.apply(validApplies([req('x', G, [inc('aria_x_total', { v: 'much too long' }, 5)])])),
          ),
        ).toEqual(['x:duplicate']);
        expect((await s.snapshot()).groups).toEqual([]);
        expect(await s.generation()).toBe(gen);
      });
    });

    // ---------------------------------------------------------------- 2. last writer wins
    describe('gauge set: last writer wins by event time', () => {
      const sets: Array<[number, number]> = [
        [100, 1],
        [300, 3],
        [200, 2],
        [50, 0.5],
      ];
      const orders = [
        [0, 1, 2, 3],
        [3, 2, 1, 0],
        [1, 3, 0, 2],
        [2, 0, 3, 1],
      ];
      cEach(
        'the result does not depend on arrival order',
        orders.map((o): [string, readonly number[]] => [o.join(','), o]),
        async (_t: string, order: readonly number[]) => {
          const s = await newStore();
          for (const [i, idx] of order.entries()) {
            const [t, v] = sets[idx]!;
            await s.apply(validApplies([req(`s${i}`, G, [set('aria_pnl', { book: 'a' }, v, t)])]));
          }
          expect(seriesValue(await s.snapshot(), G, 'aria_pnl', { book: 'a' })).toBe(3);
        },
      );

      c('ties on event time go to the larger value, whatever the order', async () => {
        const a = await newStore();
        await a.apply(validApplies([req('1', G, [set('aria_pnl', {}, 5, 100)])]));
        await a.apply(validApplies([req('2', G, [set('aria_pnl', {}, 7, 100)])]));
        await a.apply(validApplies([req('3', G, [set('aria_pnl', {}, 6, 100)])]));
        const b = await newStore();
        await b.apply(validApplies([req('1', G, [set('aria_pnl', {}, 7, 100)])]));
        await b.apply(validApplies([req('2', G, [set('aria_pnl', {}, 5, 100)])]));
        expect(seriesValue(await a.snapshot(), G, 'aria_pnl')).toBe(7);
        expect(seriesValue(await b.snapshot(), G, 'aria_pnl')).toBe(7);
      });

      c('a redelivered set does not undo later adds (sets are idempotent)', async () => {
        const s = await newStore();
        const setMsg = req('s', G, [set('aria_pos', {}, 100, 10)]);
        await s.apply(validApplies([setMsg]));
        await s.apply(validApplies([req('d', G, [add('aria_pos', {}, -5)])]));
        expect(statuses(await s.apply(validApplies([setMsg])))).toEqual(['s:duplicate']);
        // The same set under another id (a producer re-send without id) is stale too.
        await s.apply(validApplies([req('s2', G, [set('aria_pos', {}, 100, 10)])]));
        expect(seriesValue(await s.snapshot(), G, 'aria_pos')).toBe(95);
        // A different set at the same time still follows the tie rule (larger value wins).
        await s.apply(validApplies([req('s3', G, [set('aria_pos', {}, 101, 10)])]));
        expect(seriesValue(await s.snapshot(), G, 'aria_pos')).toBe(101);
      });

      cEach(
        'set and add of one gauge in one request: the set, then the add',
        [
          ['set first', [set('aria_pos', {}, 100, 10), add('aria_pos', {}, 5)]],
          ['add first', [add('aria_pos', {}, 5), set('aria_pos', {}, 100, 10)]],
        ] as Array<[string, MetricOp[]]>,
        async (_t, ops) => {
          const s = await newStore();
          await s.apply(validApplies([req('m', G, ops)]));
          expect(seriesValue(await s.snapshot(), G, 'aria_pos')).toBe(105);
          expect(statuses(await s.apply(validApplies([req('m', G, ops)])))).toEqual(['m:duplicate']);
          await s.apply(validApplies([req('n', G, [add('aria_pos', {}, 1)])]));
          await s.apply(validApplies([req('m', G, ops)]));
          expect(seriesValue(await s.snapshot(), G, 'aria_pos')).toBe(106);
        },
      );

      c('a stale set changes nothing, not even the generation', async () => {
        const s = await newStore();
        await s.apply(validApplies([req('a', G, [set('aria_pnl', {}, 10, 500)])]));
        const gen = await s.generation();
        await s.apply(validApplies([req('b', G, [set('aria_pnl', {}, 99, 400)])]));
        expect(seriesValue(await s.snapshot(), G, 'aria_pnl')).toBe(10);
        expect(await s.generation()).toBe(gen);
      });

      c('gauge add moves a set value, and an older set stays stale', async () => {
        const s = await newStore();
        await s.apply(validApplies([req('a', G, [set('aria_pos', {}, 5, 100)])]));
        await s.apply(validApplies([req('b', G, [add('aria_pos', {}, 2)])]));
        expect(seriesValue(await s.snapshot(), G, 'aria_pos')).toBe(7);
        await s.apply(validApplies([req('c', G, [set('aria_pos', {}, 100, 50)])]));
        expect(seriesValue(await s.snapshot(), G, 'aria_pos')).toBe(7);
        await s.apply(validApplies([req('d', G, [set('aria_pos', {}, 1, 150)])]));
        expect(seriesValue(await s.snapshot(), G, 'aria_pos')).toBe(1);
      });
    });

    // ---------------------------------------------------------------- 3. pushes
    describe('pushes (Pushgateway semantics)', () => {
      c(
        'a pushed native histogram is stored and read back exactly (integer and float, beside classic buckets)',
        async () => {
          const s = await newStore();
          const int = observeNative([0.001, 0.2, 0.2, 3, -1, 0, 1e6], 3, 2 ** -128);
          const flo = observeNative([1, 2, 4, 8], 0, 0);
          const floNative: NativeHistogram = {
            ...flo.native,
            zeroCount: 0.25,
            positive: { ...flo.native.positive, counts: flo.native.positive.counts.map((x) => x / 4) },
          };
          const fam: MetricFamily = {
            name: 'rpc_seconds',
            help: 'RPC latency.',
            type: 'histogram',
            series: [
              {
                labels: { path: '/a' },
                buckets: [{ le: 1, count: 5 }],
                sum: int.sum,
                count: int.count,
                native: int.native,
              },
              { labels: { path: '/b' }, buckets: [], sum: flo.sum, count: 1.25, native: floNative },
              { labels: { path: '/c' }, buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 },
            ],
          };
          await s.push(validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [fam] }));
          const got = findFamily(await s.snapshot(), G, 'rpc_seconds')!;
          expect(got.series.map((x) => ({ ...x, labels: plain(x.labels) }))).toEqual(fam.series);
        },
      );

      c('a PUT replaces a native histogram, and a push without one drops it', async () => {
        const s = await newStore();
        const first = observeNative([1, 2, 3, 4, 5], 4, 0);
        const second = observeNative([100, 200], 1, 0.5);
        const fam = (o: ObservedNative | undefined): MetricFamily => ({
          name: 'job_seconds',
          help: '',
          type: 'histogram',
          series: [
            o === undefined
              ? { labels: {}, buckets: [{ le: 10, count: 2 }], sum: 300, count: 2 }
              : { labels: {}, buckets: [], sum: o.sum, count: o.count, native: o.native },
          ],
        });
        await s.push(validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [fam(first)] }));
        await s.push(validPush({ method: 'PUT', group: G, pushTimeMs: 200, families: [fam(second)] }));
        let series = findFamily(await s.snapshot(), G, 'job_seconds')!.series[0] as HistogramSeries;
        expect(series.native).toEqual(second.native);
        expect(series.count).toBe(2);
        await s.push(validPush({ method: 'POST', group: G, pushTimeMs: 300, families: [fam(undefined)] }));
        series = findFamily(await s.snapshot(), G, 'job_seconds')!.series[0] as HistogramSeries;
        expect(series.native).toBeUndefined();
        expect(series.buckets).toEqual([{ le: 10, count: 2 }]);
      });

      c('observations are not added into a series that carries a pushed native histogram', async () => {
        const s = await newStore();
        const o = observeNative([0.5, 2], 0, 0);
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: Date.now(),
            families: [
              {
                name: 'mixed_seconds',
                help: '',
                type: 'histogram',
                series: [{ labels: {}, buckets: [], sum: o.sum, count: 2, native: o.native }],
              },
            ],
          }),
        );
        const [r] = await s.apply(validApplies([req('nh1', G, [observe('mixed_seconds', {}, [], [1])])]));
        expect(r!.status).toBe('applied');
        expect(r!.rejected.map((x) => x.error)).toEqual([expect.any(FamilyConflictError)]);
        expect(r!.rejected[0]!.error.message).toMatch(/carries a native histogram/);
        const series = findFamily(await s.snapshot(), G, 'mixed_seconds')!.series[0] as HistogramSeries;
        expect([series.count, series.native]).toEqual([2, o.native]);
      });

      c('a push with an invalid native histogram is refused and stores nothing', async () => {
        const s = await newStore();
        const o = observeNative([1, 2], 0, 0);
        const bad = { ...o.native, schema: 12 };
        const e = await thrown(() =>
          s.push(
            validPush({
              method: 'PUT',
              group: G,
              pushTimeMs: 100,
              families: [
                gaugeFamily('ok', [[{}, 1]]),
                {
                  name: 'bad_seconds',
                  help: '',
                  type: 'histogram',
                  series: [{ labels: {}, buckets: [], sum: 3, count: 2, native: bad }],
                },
              ],
            }),
          ),
        );
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as Error).message).toMatch(/native\.schema: must be an integer in -4\.\.8/);
        expect(findGroup(await s.snapshot(), G)).toBeUndefined();
      });

      c('PUT replaces the whole group', async () => {
        const s = await newStore();
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: 100,
            families: [counterFamily('a_total', [[{}, 1]]), gaugeFamily('b', [[{}, 2]])],
          }),
        );
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: 200,
            families: [gaugeFamily('c', [[{ x: '1' }, 3]])],
          }),
        );
        const snap = await s.snapshot();
        expect(findGroup(snap, G)!.families.map((f) => f.name)).toEqual(['c']);
        expect(seriesValue(snap, G, 'c', { x: '1' })).toBe(3);
      });

      c('PUT also replaces families written by apply', async () => {
        const s = await newStore();
        await s.apply(validApplies([req('m', G, [inc('aria_fills_total', {}, 4)])]));
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: Date.now(),
            families: [gaugeFamily('b', [[{}, 2]])],
          }),
        );
        expect(findGroup(await s.snapshot(), G)!.families.map((f) => f.name)).toEqual(['b']);
      });

      c('POST replaces only the pushed families, all of their series', async () => {
        const s = await newStore();
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: 100,
            families: [
              gaugeFamily('a', [
                [{ k: '1' }, 1],
                [{ k: '2' }, 2],
              ]),
              gaugeFamily('b', [[{}, 5]]),
            ],
          }),
        );
        await s.push(
          validPush({
            method: 'POST',
            group: G,
            pushTimeMs: 200,
            families: [gaugeFamily('a', [[{ k: '3' }, 3]])],
          }),
        );
        const snap = await s.snapshot();
        expect(findFamily(snap, G, 'a')!.series.map((x) => plain(x.labels))).toEqual([{ k: '3' }]);
        expect(seriesValue(snap, G, 'b')).toBe(5);
      });

      c('an empty PUT removes all metrics of the group and keeps the group', async () => {
        const s = await newStore();
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [gaugeFamily('a', [[{}, 1]])] }),
        );
        await s.push(validPush({ method: 'PUT', group: G, pushTimeMs: 200, families: [] }));
        const g = findGroup(await s.snapshot(), G);
        expect(g).toBeDefined();
        expect(g!.families).toEqual([]);
        expect(g!.lastPushMs).toBe(200);
      });

      c('a POST with an empty family removes that family', async () => {
        const s = await newStore();
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: 100,
            families: [gaugeFamily('a', [[{}, 1]]), gaugeFamily('b', [[{}, 1]])],
          }),
        );
        await s.push(
          validPush({ method: 'POST', group: G, pushTimeMs: 200, families: [gaugeFamily('a', [])] }),
        );
        expect(findGroup(await s.snapshot(), G)!.families.map((f) => f.name)).toEqual(['b']);
      });

      c('DELETE removes exactly one group, not groups whose key starts with it', async () => {
        const s = await newStore();
        const parent = { job: 'trading' };
        await s.push(
          validPush({
            method: 'PUT',
            group: parent,
            pushTimeMs: 100,
            families: [gaugeFamily('a', [[{}, 1]])],
          }),
        );
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [gaugeFamily('a', [[{}, 2]])] }),
        );
        await s.push(
          validPush({ method: 'PUT', group: { ...G, shard: '1' }, pushTimeMs: 100, families: [] }),
        );
        expect(
          await s.push(validPush({ method: 'DELETE', group: parent, pushTimeMs: 200, families: [] })),
        ).toEqual({
          status: 'applied',
        });
        const snap = await s.snapshot();
        expect(findGroup(snap, parent)).toBeUndefined();
        expect(seriesValue(snap, G, 'a')).toBe(2);
        expect(findGroup(snap, { ...G, shard: '1' })).toBeDefined();
        expect(snap.groups).toHaveLength(2);
      });

      c('deleteGroup is a DELETE at the given time', async () => {
        const s = await newStore();
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [gaugeFamily('a', [[{}, 1]])] }),
        );
        await s.deleteGroup(validGroup(G), 150);
        expect(findGroup(await s.snapshot(), G)).toBeUndefined();
        expect(
          await s.push(
            validPush({ method: 'PUT', group: G, pushTimeMs: 120, families: [gaugeFamily('a', [[{}, 9]])] }),
          ),
        ).toEqual({
          status: 'stale',
        });
        expect((await s.snapshot()).groups).toEqual([]);
      });

      c('instance="" and no instance are the same group', async () => {
        const s = await newStore();
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: 'j', instance: '' },
            pushTimeMs: 100,
            families: [gaugeFamily('a', [[{}, 1]])],
          }),
        );
        await s.push(
          validPush({
            method: 'POST',
            group: { job: 'j' },
            pushTimeMs: 200,
            families: [gaugeFamily('b', [[{}, 2]])],
          }),
        );
        const snap = await s.snapshot();
        expect(snap.groups).toHaveLength(1);
        expect(plain(snap.groups[0]!.key)).toEqual({ job: 'j' });
        expect(snap.groups[0]!.families.map((f) => f.name)).toEqual(['a', 'b']);
      });

      c('a stale redelivered PUT changes nothing', async () => {
        const s = await newStore();
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 200, families: [gaugeFamily('a', [[{}, 2]])] }),
        );
        const gen = await s.generation();
        expect(
          await s.push(
            validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [gaugeFamily('a', [[{}, 1]])] }),
          ),
        ).toEqual({
          status: 'stale',
        });
        expect(seriesValue(await s.snapshot(), G, 'a')).toBe(2);
        expect(await s.generation()).toBe(gen);
      });

      c('a stale POST of a family changes nothing; a POST of another family applies', async () => {
        const s = await newStore();
        await s.push(validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [] }));
        await s.push(
          validPush({ method: 'POST', group: G, pushTimeMs: 300, families: [gaugeFamily('a', [[{}, 3]])] }),
        );
        expect(
          (
            await s.push(
              validPush({
                method: 'POST',
                group: G,
                pushTimeMs: 200,
                families: [gaugeFamily('a', [[{}, 2]])],
              }),
            )
          ).status,
        ).toBe('stale');
        expect(
          (
            await s.push(
              validPush({
                method: 'POST',
                group: G,
                pushTimeMs: 200,
                families: [gaugeFamily('b', [[{}, 2]])],
              }),
            )
          ).status,
        ).toBe('applied');
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'a')).toBe(3);
        expect(seriesValue(snap, G, 'b')).toBe(2);
      });

      c('a POST older than the group’s last PUT is stale', async () => {
        const s = await newStore();
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 300, families: [gaugeFamily('a', [[{}, 3]])] }),
        );
        expect(
          (
            await s.push(
              validPush({
                method: 'POST',
                group: G,
                pushTimeMs: 200,
                families: [gaugeFamily('b', [[{}, 2]])],
              }),
            )
          ).status,
        ).toBe('stale');
        expect(findGroup(await s.snapshot(), G)!.families.map((f) => f.name)).toEqual(['a']);
      });

      c('DELETE then an older PUT or POST does not resurrect the group', async () => {
        const s = await newStore();
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [gaugeFamily('a', [[{}, 1]])] }),
        );
        await s.push(validPush({ method: 'DELETE', group: G, pushTimeMs: 300, families: [] }));
        expect(
          (
            await s.push(
              validPush({
                method: 'PUT',
                group: G,
                pushTimeMs: 200,
                families: [gaugeFamily('a', [[{}, 2]])],
              }),
            )
          ).status,
        ).toBe('stale');
        expect(
          (
            await s.push(
              validPush({
                method: 'POST',
                group: G,
                pushTimeMs: 250,
                families: [gaugeFamily('a', [[{}, 2]])],
              }),
            )
          ).status,
        ).toBe('stale');
        expect((await s.snapshot()).groups).toEqual([]);
        expect(
          (
            await s.push(
              validPush({
                method: 'PUT',
                group: G,
                pushTimeMs: 400,
                families: [gaugeFamily('a', [[{}, 4]])],
              }),
            )
          ).status,
        ).toBe('applied');
        expect(seriesValue(await s.snapshot(), G, 'a')).toBe(4);
      });

      c('a redelivered push of equal time re-applies the same content and changes nothing', async () => {
        const s = await newStore();
        const p = {
          method: 'PUT' as const,
          group: G,
          pushTimeMs: 100,
          families: [gaugeFamily('a', [[{}, 1]])],
        };
        await s.push(validPush(p));
        const before = await s.snapshot();
        expect((await s.push(validPush(p))).status).toBe('applied');
        const after = await s.snapshot();
        expect(seriesValue(after, G, 'a')).toBe(1);
        expect(findGroup(after, G)!.lastPushMs).toBe(findGroup(before, G)!.lastPushMs);
      });

      c('pushes keep summaries, untyped families, NaN and infinities as given', async () => {
        const s = await newStore();
        const fams: MetricFamily[] = [
          {
            name: 'rpc_seconds',
            help: 'h',
            type: 'summary',
            series: [
              {
                labels: { m: 'x' },
                quantiles: [
                  { quantile: 0.5, value: 1 },
                  { quantile: 0.99, value: Number.NaN },
                ],
                sum: 3,
                count: 2,
              },
            ],
          },
          {
            name: 'raw',
            help: '',
            type: 'untyped',
            series: [{ labels: {}, value: Number.POSITIVE_INFINITY }],
          },
          { name: 'neg', help: '', type: 'gauge', series: [{ labels: {}, value: Number.NEGATIVE_INFINITY }] },
          { name: 'nan', help: '', type: 'gauge', series: [{ labels: {}, value: Number.NaN }] },
        ];
        await s.push(validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: fams }));
        const snap = await s.snapshot();
        const summary = findFamily(snap, G, 'rpc_seconds');
        expect(summary?.type).toBe('summary');
        if (summary?.type !== 'summary') throw new Error('summary expected');
        expect(summary.series[0]!.quantiles[1]!.value).toBeNaN();
        expect(summary.series[0]!.count).toBe(2);
        expect(seriesValue(snap, G, 'raw')).toBe(Number.POSITIVE_INFINITY);
        expect(seriesValue(snap, G, 'neg')).toBe(Number.NEGATIVE_INFINITY);
        expect(seriesValue(snap, G, 'nan')).toBeNaN();
      });

      cEach(
        'an invalid push is refused at the edge with a ValidationError and stores nothing',
        [
          ['missing job', { method: 'PUT', group: { instance: 'x' }, pushTimeMs: 1, families: [] }],
          [
            '__proto__ group label',
            { method: 'PUT', group: JSON.parse('{"job":"a","__proto__":"x"}'), pushTimeMs: 1, families: [] },
          ],
          ['NaN push time', { method: 'PUT', group: G, pushTimeMs: Number.NaN, families: [] }],
          ['unknown method', { method: 'PATCH', group: G, pushTimeMs: 1, families: [] }],
          [
            'series label repeating the grouping key',
            { method: 'PUT', group: G, pushTimeMs: 1, families: [gaugeFamily('a', [[{ job: 'x' }, 1]])] },
          ],
          [
            'duplicate series',
            {
              method: 'PUT',
              group: G,
              pushTimeMs: 1,
              families: [
                gaugeFamily('a', [
                  [{ k: 'v' }, 1],
                  [{ k: 'v' }, 2],
                ]),
              ],
            },
          ],
          [
            'duplicate family',
            {
              method: 'PUT',
              group: G,
              pushTimeMs: 1,
              families: [gaugeFamily('a', [[{}, 1]]), gaugeFamily('a', [[{ x: '1' }, 1]])],
            },
          ],
          [
            'bad family name (NUL; the store checks the UTF-8 rules)',
            { method: 'PUT', group: G, pushTimeMs: 1, families: [gaugeFamily('a\u0000b', [[{}, 1]])] },
          ],
          [
            'non-string label value',
            {
              method: 'PUT',
              group: G,
              pushTimeMs: 1,
              families: [gaugeFamily('a', [[{ k: 7 as unknown as string }, 1]])],
            },
          ],
          [
            'histogram buckets not ascending',
            {
              method: 'PUT',
              group: G,
              pushTimeMs: 1,
              families: [
                histogramFamily(
                  'h',
                  {},
                  [
                    [1, 1],
                    [0.5, 1],
                  ],
                  1,
                  1,
                ),
              ],
            },
          ],
          [
            'histogram buckets decreasing counts',
            {
              method: 'PUT',
              group: G,
              pushTimeMs: 1,
              families: [
                histogramFamily(
                  'h',
                  {},
                  [
                    [0.5, 3],
                    [1, 1],
                  ],
                  1,
                  3,
                ),
              ],
            },
          ],
          [
            'histogram count below last bucket',
            {
              method: 'PUT',
              group: G,
              pushTimeMs: 1,
              families: [histogramFamily('h', {}, [[0.5, 3]], 1, 2)],
            },
          ],
        ] as Array<[string, unknown]>,
        async (_t: string, push: unknown) => {
          const s = await newStore();
          await s.push(
            validPush({
              method: 'PUT',
              group: { job: 'keep' },
              pushTimeMs: 1,
              families: [gaugeFamily('k', [[{}, 1]])],
            }),
          );
          const gen = await s.generation();
          // Refused at the edge: the store is never reached.
          expect(() => validPush(push)).toThrow(ValidationError);
          expect(await s.generation()).toBe(gen);
          const snap = await s.snapshot();
          expect(snap.groups.map((g) => plain(g.key))).toEqual([{ job: 'keep' }]);
        },
      );

      c('recordPushFailure marks the group without creating series', async () => {
        const clock = new FakeClock();
        const s = await newStore({ now: clock.now });
        const gen0 = await s.generation();
        await s.recordPushFailure(validGroup(G), clock.t, 'family x: type conflict');
        expect(await s.generation()).not.toBe(gen0);
        let g = findGroup(await s.snapshot(), G)!;
        expect(g.lastPushFailureMs).toBe(clock.t);
        expect(g.lastFailureReason).toBe('family x: type conflict');
        expect(g.lastPushMs).toBeUndefined();
        expect(g.families).toEqual([]);
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: clock.advance(10),
            families: [gaugeFamily('a', [[{}, 1]])],
          }),
        );
        await s.recordPushFailure(validGroup(G), clock.advance(10), 'second "reason"\nwith newline');
        g = findGroup(await s.snapshot(), G)!;
        expect(seriesValue(await s.snapshot(), G, 'a')).toBe(1);
        expect(g.lastPushFailureMs).toBe(clock.t);
        expect(g.lastFailureReason).toBe('second "reason"\nwith newline');
        expect(g.lastPushMs).toBe(clock.t - 10);
        const info = (await s.listGroups()).find((x) => labelsKey(x.key) === labelsKey(G))!;
        expect(info.lastPushFailureMs).toBe(clock.t);
        expect(info.lastFailureReason).toBe('second "reason"\nwith newline');
      });
    });

    // ---------------------------------------------------------------- 4. family consistency
    describe('family consistency', () => {
      type Def = { group: Labels; family: MetricFamily };
      const hist = (bounds: number[]) =>
        histogramFamily(
          'h',
          {},
          bounds.map((le, i) => [le, i + 1] as [number, number]),
          1,
          bounds.length,
        );
      const conflicts: Array<[string, Def, Def, RegExp]> = [
        [
          'type',
          { group: G, family: counterFamily('f', [[{}, 1]]) },
          { group: G2, family: gaugeFamily('f', [[{}, 1]]) },
          /type/,
        ],
        [
          'histogram vs summary',
          { group: G, family: histogramFamily('h', {}, [[1, 1]], 1, 1) },
          {
            group: G2,
            family: {
              name: 'h',
              help: '',
              type: 'summary',
              series: [{ labels: {}, quantiles: [], sum: 1, count: 1 }],
            },
          },
          /type/,
        ],
      ];
      // What the Pushgateway accepts (issue 14): label names and bucket layouts may differ between groups.
      const accepted: Array<[string, Def, Def]> = [
        [
          'series label names',
          { group: G, family: gaugeFamily('f', [[{ a: '1' }, 1]]) },
          { group: G2, family: gaugeFamily('f', [[{ b: '1' }, 2]]) },
        ],
        [
          'extra series label',
          { group: G, family: gaugeFamily('f', [[{ a: '1' }, 1]]) },
          { group: G2, family: gaugeFamily('f', [[{ a: '1', b: '2' }, 2]]) },
        ],
        [
          'grouping label names',
          { group: G, family: gaugeFamily('f', [[{}, 1]]) },
          { group: { job: 'py', path: '/var/log', instance: 'py-2' }, family: gaugeFamily('f', [[{}, 2]]) },
        ],
        [
          'histogram bucket layout',
          { group: G, family: hist([0.1, 1]) },
          { group: G2, family: hist([0.1, 2, 5]) },
        ],
      ];

      cEach(
        'a family with other label names or buckets than in another group is accepted',
        accepted,
        async (_t, first, second) => {
          const s = await newStore();
          await s.push(
            validPush({ method: 'PUT', group: first.group, pushTimeMs: 1, families: [first.family] }),
          );
          await s.push(
            validPush({ method: 'PUT', group: second.group, pushTimeMs: 2, families: [second.family] }),
          );
          // And through apply, into new series of a third group.
          const f2 = second.family;
          const op: MetricOp =
            f2.type === 'histogram'
              ? observe(
                  f2.name,
                  {},
                  f2.series[0]!.buckets.map((b) => b.le),
                  [0.05],
                )
              : set(f2.name, { ...f2.series[0]!.labels, c: 'x' }, 3, 1);
          const res = await s.apply(validApplies([req('m', { job: 'third' }, [op])]));
          expect(res[0]!.rejected).toEqual([]);
          const snap = await s.snapshot();
          for (const d of [first, second]) {
            const f = findFamily(snap, d.group, d.family.name)!;
            expect(f.series.map((x) => plain(x.labels))).toEqual(d.family.series.map((x) => plain(x.labels)));
            if (f.type === 'histogram' && d.family.type === 'histogram')
              expect(f.series[0]!.buckets).toEqual(d.family.series[0]!.buckets);
          }
          expect(findFamily(snap, { job: 'third' }, f2.name)).toBeDefined();
        },
      );

      cEach(
        'a conflicting push is refused with FamilyConflictError and stores nothing',
        conflicts,
        async (_t, first, second, rule) => {
          const s = await newStore();
          await s.push(
            validPush({ method: 'PUT', group: first.group, pushTimeMs: 1, families: [first.family] }),
          );
          const gen = await s.generation();
          const e = await thrown(() =>
            s.push(
              validPush({
                method: 'PUT',
                group: second.group,
                pushTimeMs: 2,
                families: [gaugeFamily('innocent', [[{}, 1]]), second.family],
              }),
            ),
          );
          expect(e).toBeInstanceOf(FamilyConflictError);
          expect((e as FamilyConflictError).family).toBe(first.family.name);
          expect(e.message).toContain(first.family.name);
          expect(e.message).toMatch(rule);
          expect(await s.generation()).toBe(gen);
          const snap = await s.snapshot();
          expect(findGroup(snap, second.group)).toBeUndefined();
          expect(findFamily(snap, first.group, first.family.name)).toBeDefined();
        },
      );

      c('a conflicting push to an existing group leaves the group as it was', async () => {
        const s = await newStore();
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [counterFamily('f', [[{}, 1]])] }),
        );
        await s.push(
          validPush({
            method: 'PUT',
            group: G2,
            pushTimeMs: 1,
            families: [gaugeFamily('other', [[{}, 5]])],
          }),
        );
        await thrown(() =>
          s.push(
            validPush({ method: 'PUT', group: G2, pushTimeMs: 2, families: [gaugeFamily('f', [[{}, 1]])] }),
          ),
        );
        const snap = await s.snapshot();
        expect(seriesValue(snap, G2, 'other')).toBe(5);
        expect(findGroup(snap, G2)!.lastPushMs).toBe(1);
      });

      c('a PUT may redefine a family it alone holds', async () => {
        const s = await newStore();
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [counterFamily('f', [[{}, 1]])] }),
        );
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: 2,
            families: [gaugeFamily('f', [[{ x: 'y' }, 1]])],
          }),
        );
        expect(findFamily(await s.snapshot(), G, 'f')?.type).toBe('gauge');
      });

      c('series of one family with different label names in one push are accepted', async () => {
        const s = await newStore();
        await s.push(
          validPush({
            method: 'PUT',
            group: G,
            pushTimeMs: 1,
            families: [
              gaugeFamily('f', [
                [{ a: '1' }, 1],
                [{}, 2],
              ]),
            ],
          }),
        );
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'f', { a: '1' })).toBe(1);
        expect(seriesValue(snap, G, 'f', {})).toBe(2);
      });

      c('an observe into an existing series with another bucket layout is refused alone', async () => {
        const s = await newStore();
        await s.apply(validApplies([req('a', G, [observe('aria_lat', {}, [0.1, 1], [0.05])])]));
        const res = await s.apply(
          validApplies([
            req('b', G, [
              observe('aria_lat', {}, [0.1, 2], [0.05]), // same series, other layout: refused
              observe('aria_lat', { v: 'x' }, [0.1, 2], [0.05]), // new series: its own layout
              observe('aria_lat', {}, [0.1, 1], [0.5]),
            ]),
          ]),
        );
        expect(res[0]!.rejected.map((r) => r.index)).toEqual([0]);
        expect(res[0]!.rejected[0]!.error).toBeInstanceOf(FamilyConflictError);
        expect(res[0]!.rejected[0]!.error.message).toMatch(/bucket/);
        const snap = await s.snapshot();
        expect(histogramOf(snap, G, 'aria_lat')?.buckets).toEqual([
          [0.1, 1],
          [1, 2],
        ]);
        expect(histogramOf(snap, G, 'aria_lat', { v: 'x' })?.buckets).toEqual([
          [0.1, 1],
          [2, 1],
        ]);
        // A pushed histogram series is replaced whole: any layout.
        await s.push(
          validPush({
            method: 'PUT',
            group: G2,
            pushTimeMs: 1,
            families: [histogramFamily('aria_lat', {}, [[5, 1]], 1, 1)],
          }),
        );
        expect(histogramOf(await s.snapshot(), G2, 'aria_lat')?.buckets).toEqual([[5, 1]]);
        // ...but an additive merge into it with another layout is refused.
        const r2 = await s.apply(validApplies([req('c', G2, [observe('aria_lat', {}, [0.1, 1], [0.05])])]));
        expect(r2[0]!.rejected.map((r) => r.index)).toEqual([0]);
      });

      cEach(
        'histogram and summary names reserve _bucket, _sum and _count across groups',
        [
          ['histogram first', 'histogram', 'aria_lat', 'aria_lat_count'],
          ['counter first', 'counter', 'aria_lat_bucket', 'aria_lat'],
          ['summary first', 'summary', 'aria_q', 'aria_q_sum'],
        ] as Array<[string, string, string, string]>,
        async (_t, firstKind, firstName, secondName) => {
          const s = await newStore();
          const fam = (name: string, kind: string): MetricFamily =>
            kind === 'histogram'
              ? { ...histogramFamily(name, {}, [[1, 1]], 1, 1) }
              : kind === 'summary'
                ? {
                    name,
                    help: '',
                    type: 'summary',
                    series: [{ labels: {}, quantiles: [], sum: 1, count: 1 }],
                  }
                : counterFamily(name, [[{}, 1]]);
          await s.push(
            validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [fam(firstName, firstKind)] }),
          );
          const secondKind = firstKind === 'counter' ? 'histogram' : 'counter';
          const e = await thrown(() =>
            s.push(
              validPush({ method: 'PUT', group: G2, pushTimeMs: 1, families: [fam(secondName, secondKind)] }),
            ),
          );
          expect(e).toBeInstanceOf(FamilyConflictError);
          expect(e.message).toMatch(/reserve/);
          // The same rule on the SQS path.
          const op =
            secondKind === 'histogram' ? observe(secondName, {}, [1], [0.5]) : inc(secondName, {}, 1);
          const res = await s.apply(validApplies([req('m', G2, [op, inc('aria_ok_total', {}, 1)])]));
          expect(res[0]!.rejected.map((r) => r.index)).toEqual([0]);
          expect(res[0]!.rejected[0]!.error).toBeInstanceOf(FamilyConflictError);
          expect(findFamily(await s.snapshot(), G2, secondName)).toBeUndefined();
        },
      );

      c(
        'a histogram/summary and its _count/_sum/_bucket name defined at once by two instances: never both',
        async () => {
          // Defect 7: the reserved-name rule must hold for concurrent definitions, not only for sequential
          // ones. Each trial defines `base` (histogram or summary) through one instance and `base<suffix>` (a
          // counter) through another at the same moment, over the SQS path (apply) and the HTTP path (push).
          const a = await newStore();
          const b = opts.openPeer ? await opts.openPeer(a) : a;
          if (b !== a) open.push(b);
          const ga = { job: 'race-a' };
          const gb = { job: 'race-b' };
          type Outcome = 'stored' | 'conflict' | 'failed';
          const outcome = async (write: () => Promise<ApplyResult | undefined>): Promise<Outcome> => {
            try {
              const r = await write();
              if (r === undefined) return 'stored';
              if (r.status === 'failed') return 'failed';
              if (r.rejected.length === 0) return 'stored';
              expect(r.rejected[0]!.error).toBeInstanceOf(FamilyConflictError);
              return 'conflict';
            } catch (e) {
              expect(e).toBeInstanceOf(FamilyConflictError);
              return 'conflict';
            }
          };
          const suffixes = ['_count', '_sum', '_bucket'] as const;
          const tally = { owner: 0, suffixed: 0, neither: 0 };
          for (let i = 0; i < 24; i++) {
            const suffix = suffixes[i % 3]!;
            const ownerType = suffix === '_bucket' || i % 4 < 2 ? 'histogram' : 'summary';
            const base = `race${i}_seconds`;
            const other = base + suffix;
            const viaPush = [(i >> 1) % 2 === 1, i % 2 === 1]; // owner, suffixed: apply or push
            const [sOwner, sOther] = i % 3 === 1 ? [b, a] : [a, b];
            const ownerFamily: MetricFamily =
              ownerType === 'histogram'
                ? histogramFamily(base, { k: 'x' }, [[1, 1]], 0.5, 1)
                : {
                    name: base,
                    help: '',
                    type: 'summary',
                    series: [{ labels: { k: 'x' }, quantiles: [], sum: 1, count: 1 }],
                  };
            const writeOwner = async (): Promise<ApplyResult | undefined> => {
              if (viaPush[0] || ownerType === 'summary') {
                await sOwner.push(
                  validPush({ method: 'PUT', group: ga, pushTimeMs: i + 1, families: [ownerFamily] }),
                );
                return undefined;
              }
              return (
                await sOwner.apply(validApplies([req(`ro${i}`, ga, [observe(base, { k: 'x' }, [1], [0.5])])]))
              )[0];
            };
            const writeOther = async (): Promise<ApplyResult | undefined> => {
              if (viaPush[1]) {
                await sOther.push(
                  validPush({
                    method: 'PUT',
                    group: gb,
                    pushTimeMs: i + 1,
                    families: [counterFamily(other, [[{ k: 'y' }, 1]])],
                  }),
                );
                return undefined;
              }
              return (await sOther.apply(validApplies([req(`rs${i}`, gb, [inc(other, { k: 'y' }, 1)])])))[0];
            };
            const [oo, os] = await Promise.all([outcome(writeOwner), outcome(writeOther)]);
            const snap = await b.snapshot();
            const hasOwner = findFamily(snap, ga, base) !== undefined;
            const hasOther = findFamily(snap, gb, other) !== undefined;
            const trial = `trial ${i}: ${ownerType} ${base} (${viaPush[0] ? 'push' : 'apply'}) vs counter ${other} (${viaPush[1] ? 'push' : 'apply'}): ${oo}/${os}`;
            expect({ trial, both: hasOwner && hasOther }).toEqual({ trial, both: false });
            // What each writer was told matches what is stored.
            expect({ trial, owner: hasOwner, other: hasOther }).toEqual({
              trial,
              owner: oo === 'stored',
              other: os === 'stored',
            });
            if (hasOwner) tally.owner++;
            else if (hasOther) tally.suffixed++;
            else tally.neither++;
          }
          // Conflicting writers may both lose a round (each then gets an error and its data stays out), but
          // not most of the time: one of the two is stored.
          expect(tally.neither).toBeLessThanOrEqual(12);
        },
      );

      c('a reserved name is free again once its owner has no series, on every instance', async () => {
        const a = await newStore();
        const b = opts.openPeer ? await opts.openPeer(a) : a;
        if (b !== a) open.push(b);
        const ga = { job: 'owner' };
        const gb = { job: 'suffixed' };
        // Both instances learn the histogram (their caches hold it).
        await a.apply(validApplies([req('h1', ga, [observe('tk_seconds', {}, [1], [0.5])])]));
        expect(
          (await b.apply(validApplies([req('c1', gb, [inc('tk_seconds_count', {}, 1)])])))[0]!.rejected,
        ).toHaveLength(1);
        await a.deleteGroup(validGroup(ga), 10);
        // The histogram has no series left: its _count name may be defined (by the instance that knew it).
        const r = await b.apply(validApplies([req('c2', gb, [inc('tk_seconds_count', {}, 1)])]));
        expect(r[0]!.rejected).toEqual([]);
        // ...and now the histogram is refused, also by the instance that defined it first.
        const h2 = await a.apply(validApplies([req('h2', ga, [observe('tk_seconds', {}, [1], [0.5])])]));
        expect(h2[0]!.rejected.map((x) => x.error)).toEqual([expect.any(FamilyConflictError)]);
        const e = await thrown(() =>
          a.push(
            validPush({
              method: 'PUT',
              group: ga,
              pushTimeMs: 20,
              families: [histogramFamily('tk_seconds', {}, [[1, 1]], 0.5, 1)],
            }),
          ),
        );
        expect(e).toBeInstanceOf(FamilyConflictError);
        const snap = await a.snapshot();
        expect(findFamily(snap, ga, 'tk_seconds')).toBeUndefined();
        expect(seriesValue(snap, gb, 'tk_seconds_count')).toBe(1);
        // Once the counter is gone too, the histogram can come back (through a push this time).
        await b.deleteGroup(validGroup(gb), 30);
        await a.push(
          validPush({
            method: 'PUT',
            group: ga,
            pushTimeMs: 40,
            families: [histogramFamily('tk_seconds', {}, [[1, 1]], 0.5, 1)],
          }),
        );
        expect(histogramOf(await b.snapshot(), ga, 'tk_seconds')?.count).toBe(1);
      });

      c('a group without instance and one with instance share a family shape', async () => {
        const s = await newStore();
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: 'a' },
            pushTimeMs: 1,
            families: [gaugeFamily('f', [[{ k: '1' }, 1]])],
          }),
        );
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: 'b', instance: 'i' },
            pushTimeMs: 1,
            families: [gaugeFamily('f', [[{ k: '1' }, 2]])],
          }),
        );
        await s.apply(validApplies([req('m', { job: 'c', instance: '' }, [set('f', { k: '2' }, 3, 1)])]));
        const snap = await s.snapshot();
        expect(seriesValue(snap, { job: 'b', instance: 'i' }, 'f', { k: '1' })).toBe(2);
        expect(seriesValue(snap, { job: 'c' }, 'f', { k: '2' })).toBe(3);
      });

      c('a conflicting op is rejected alone with FamilyConflictError naming the family', async () => {
        const s = await newStore();
        await s.apply(
          validApplies([
            req('m1', G, [
              inc('aria_fills_total', { venue: 'x' }, 1),
              observe('aria_lat', {}, [0.1, 1], [0.05]),
            ]),
          ]),
        );
        const res = await s.apply(
          validApplies([
            req('m2', G2, [
              add('aria_fills_total', { venue: 'x' }, 1), // type
              inc('aria_fills_total', { venue: 'x', side: 'b' }, 1), // other label names: accepted
              set('aria_lat', {}, 1, 1), // type
              inc('aria_ok_total', {}, 1),
            ]),
          ]),
        );
        expect(res[0]!.status).toBe('applied');
        const rej = res[0]!.rejected;
        expect(rej.map((r) => r.index)).toEqual([0, 2]);
        for (const r of rej) expect(r.error).toBeInstanceOf(FamilyConflictError);
        expect((rej[0]!.error as FamilyConflictError).family).toBe('aria_fills_total');
        expect(rej[0]!.error.message).toMatch(/type/);
        expect((rej[1]!.error as FamilyConflictError).family).toBe('aria_lat');
        const snap = await s.snapshot();
        expect(findGroup(snap, G2)!.families.map((f) => f.name)).toEqual([
          'aria_fills_total',
          'aria_ok_total',
        ]);
      });

      c('two ops of one request defining a new family differently: the first wins', async () => {
        const s = await newStore();
        const res = await s.apply(
          validApplies([
            req('m', G, [inc('aria_new_total', { a: '1' }, 1), add('aria_new_total', { b: '1' }, 1)]),
          ]),
        );
        expect(res[0]!.rejected.map((r) => r.index)).toEqual([1]);
        expect(res[0]!.rejected[0]!.error).toBeInstanceOf(FamilyConflictError);
        expect(seriesValue(await s.snapshot(), G, 'aria_new_total', { a: '1' })).toBe(1);
      });

      c('a family may be redefined once no series of it is left anywhere', async () => {
        const s = await newStore();
        await s.push(
          validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [counterFamily('f', [[{}, 1]])] }),
        );
        await s.push(validPush({ method: 'DELETE', group: G, pushTimeMs: 2, families: [] }));
        await s.push(
          validPush({
            method: 'PUT',
            group: G2,
            pushTimeMs: 3,
            families: [gaugeFamily('f', [[{ x: '1' }, 1]])],
          }),
        );
        expect(findFamily(await s.snapshot(), G2, 'f')?.type).toBe('gauge');
      });
    });

    // ---------------------------------------------------------------- 5. limits
    describe('limits', () => {
      const cases: Array<[string, Partial<StoreLimits>, MetricOp, keyof StoreLimits]> = [
        [
          'label value length',
          { maxLabelValueLength: 8 },
          inc('aria_x_total', { k: 'x'.repeat(9) }, 1),
          'maxLabelValueLength',
        ],
        [
          'oversize label value (1 MiB)',
          {},
          inc('aria_x_total', { k: 'x'.repeat(1 << 20) }, 1),
          'maxLabelValueLength',
        ],
        [
          'labels per series',
          { maxLabelsPerSeries: 4 },
          inc('aria_x_total', { a: '1', b: '2', c: '3' }, 1),
          'maxLabelsPerSeries',
        ],
        [
          'series per family',
          { maxSeriesPerFamily: 2 },
          inc('aria_fills_total', { k: 'new' }, 1),
          'maxSeriesPerFamily',
        ],
        ['series per group', { maxSeriesPerGroup: 2 }, inc('aria_x_total', {}, 1), 'maxSeriesPerGroup'],
        ['series total', { maxSeriesTotal: 3 }, inc('aria_x_total', {}, 1), 'maxSeriesTotal'],
      ];
      cEach('an op over a limit is rejected alone with LimitError', cases, async (_t, limits, op, limit) => {
        const s = await newStore({ limits });
        // Existing content: 2 series of aria_fills_total in G (G has 2 labels), 1 gauge in G2.
        await s.apply(
          validApplies([
            req('seed', G, [inc('aria_fills_total', { k: 'a' }, 1), inc('aria_fills_total', { k: 'b' }, 1)]),
          ]),
        );
        await s.apply(validApplies([req('seed2', G2, [add('aria_other', {}, 1)])]));
        const gen = await s.generation();
        const res = await s.apply(validApplies([req('m', G, [op, inc('aria_fills_total', { k: 'a' }, 1)])]));
        expect(res[0]!.status).toBe('applied');
        expect(res[0]!.rejected.map((r) => r.index)).toEqual([0]);
        const err = res[0]!.rejected[0]!.error;
        expect(err).toBeInstanceOf(LimitError);
        expect((err as LimitError).limit).toBe(limit);
        expect(err.message).toContain(op.name);
        expect(err.message.length).toBeLessThan(500);
        expect(await s.generation()).not.toBe(gen);
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'aria_fills_total', { k: 'a' })).toBe(2);
        expect(seriesCount(snap)).toBe(3);
      });

      c('ops on existing series are not stopped by series limits', async () => {
        const s = await newStore({ limits: { maxSeriesTotal: 1 } });
        await s.apply(validApplies([req('a', G, [inc('aria_x_total', {}, 1)])]));
        const res = await s.apply(validApplies([req('b', G, [inc('aria_x_total', {}, 1)])]));
        expect(res[0]!.rejected).toEqual([]);
        expect(seriesValue(await s.snapshot(), G, 'aria_x_total')).toBe(2);
      });

      c('label value length counts code points, as the decoder and the JSON Schema (issue 12)', async () => {
        const s = await newStore({ limits: { maxLabelValueLength: 8 } });
        const at = '😀'.repeat(8); // 8 code points, 16 UTF-16 units
        const over = `${'a'.repeat(8)}😀`; // 9 code points, 10 units
        const res = await s.apply(
          validApplies([
            req('m', G, [inc('aria_x_total', { k: at }, 1), inc('aria_x_total', { k: over }, 1)]),
          ]),
        );
        expect(res[0]!.rejected.map((r) => [r.index, (r.error as LimitError).limit])).toEqual([
          [1, 'maxLabelValueLength'],
        ]);
        expect(res[0]!.rejected[0]!.error.message).toContain('a value of 9 characters');
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: at },
            pushTimeMs: 1,
            families: [gaugeFamily('g', [[{ k: at }, 1]])],
          }),
        );
        for (const group of [{ job: over }, { job: 'j', g: over }] as Record<string, string>[]) {
          const e = await thrown(() =>
            s.push(validPush({ method: 'PUT', group, pushTimeMs: 1, families: [] })),
          );
          expect((e as LimitError).limit).toBe('maxLabelValueLength');
        }
        const snap = await s.snapshot();
        expect(seriesValue(snap, G, 'aria_x_total', { k: at })).toBe(1);
        expect(findFamily(snap, { job: at }, 'g')?.series).toHaveLength(1);
      });

      cEach(
        'a push over a limit is refused with LimitError and stores nothing',
        [
          ['series per family', { maxSeriesPerFamily: 2 }, 'maxSeriesPerFamily'],
          ['series per group', { maxSeriesPerGroup: 2 }, 'maxSeriesPerGroup'],
          ['series total', { maxSeriesTotal: 3 }, 'maxSeriesTotal'],
          ['labels per series', { maxLabelsPerSeries: 2 }, 'maxLabelsPerSeries'],
          ['label value length', { maxLabelValueLength: 2 }, 'maxLabelValueLength'],
        ] as Array<[string, Partial<StoreLimits>, keyof StoreLimits]>,
        async (_t, limits, limit) => {
          const s = await newStore({ limits });
          await s.push(
            validPush({
              method: 'PUT',
              group: { job: 'j' },
              pushTimeMs: 1,
              families: [gaugeFamily('g', [[{}, 1]])],
            }),
          );
          const gen = await s.generation();
          const e = await thrown(() =>
            s.push(
              validPush({
                method: 'PUT',
                group: G,
                pushTimeMs: 1,
                families: [
                  gaugeFamily('g2', [
                    [{ k: 'aaa' }, 1],
                    [{ k: 'bbb' }, 1],
                    [{ k: 'ccc' }, 1],
                  ]),
                ],
              }),
            ),
          );
          expect(e).toBeInstanceOf(LimitError);
          expect((e as LimitError).limit).toBe(limit);
          expect(await s.generation()).toBe(gen);
          expect((await s.snapshot()).groups).toHaveLength(1);
        },
      );

      c('a group limit covers failure-only groups, empty PUTs and DELETE tombstones', async () => {
        const s = await newStore({ limits: { maxGroups: 3 } });
        await s.recordPushFailure(validGroup({ job: 'f' }), 1, 'refused');
        await s.push(validPush({ method: 'PUT', group: { job: 'e' }, pushTimeMs: 1, families: [] }));
        await s.push(validPush({ method: 'DELETE', group: { job: 'd' }, pushTimeMs: 1, families: [] })); // a tombstone
        const limitOf = (e: Error) => (e as LimitError).limit;
        expect(limitOf(await thrown(() => s.recordPushFailure(validGroup({ job: 'f2' }), 1, 'x')))).toBe(
          'maxGroups',
        );
        for (const method of ['PUT', 'POST'] as const)
          expect(
            limitOf(
              await thrown(() =>
                s.push(validPush({ method, group: { job: 'e2' }, pushTimeMs: 1, families: [] })),
              ),
            ),
          ).toBe('maxGroups');
        const res = await s.apply(validApplies([req('m', { job: 'a2' }, [inc('aria_x_total', {}, 1)])]));
        expect(res[0]!.rejected.map((r) => (r.error as LimitError).limit)).toEqual(['maxGroups']);
        // A DELETE of an unknown group at the limit stores nothing (no tombstone).
        expect(
          (await s.push(validPush({ method: 'DELETE', group: { job: 'd2' }, pushTimeMs: 1, families: [] })))
            .status,
        ).toBe('applied');
        expect(limitOf(await thrown(() => s.recordPushFailure(validGroup({ job: 'd3' }), 1, 'x')))).toBe(
          'maxGroups',
        );
        // Groups that exist (and the tombstoned one) stay writable.
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: 'e' },
            pushTimeMs: 2,
            families: [gaugeFamily('g', [[{}, 1]])],
          }),
        );
        await s.recordPushFailure(validGroup({ job: 'f' }), 2, 'again');
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: 'd' },
            pushTimeMs: 3,
            families: [gaugeFamily('g', [[{}, 2]])],
          }),
        );
        const ok = await s.apply(validApplies([req('n', { job: 'e' }, [inc('aria_x_total', {}, 1)])]));
        expect(ok[0]!.rejected).toEqual([]);
        expect((await s.listGroups()).map((g) => g.key.job).sort()).toEqual(['d', 'e', 'f']);
      });

      c('a grouping key over 4,096 characters is refused on every path, and nothing is stored', async () => {
        const s = await newStore();
        const big = {
          job: 'j',
          a: 'x'.repeat(1000),
          b: 'x'.repeat(1000),
          c: 'x'.repeat(1000),
          d: 'x'.repeat(1000),
          e: 'x'.repeat(200),
        };
        const limitOf = (e: Error) => (e as LimitError).limit;
        expect(
          limitOf(
            await thrown(() => s.push(validPush({ method: 'PUT', group: big, pushTimeMs: 1, families: [] }))),
          ),
        ).toBe('maxGroupKeyChars');
        expect(
          limitOf(
            await thrown(() =>
              s.push(validPush({ method: 'DELETE', group: big, pushTimeMs: 1, families: [] })),
            ),
          ),
        ).toBe('maxGroupKeyChars');
        expect(limitOf(await thrown(() => s.recordPushFailure(validGroup(big), 1, 'x')))).toBe(
          'maxGroupKeyChars',
        );
        const res = await s.apply(validApplies([req('m', big, [inc('aria_x_total', {}, 1)])]));
        expect(res[0]!.status).toBe('failed');
        if (res[0]!.status === 'failed') expect(limitOf(res[0]!.error)).toBe('maxGroupKeyChars');
        expect((await s.snapshot()).groups).toEqual([]);
      });

      c('failure reasons are kept up to 1,024 characters on every store', async () => {
        const s = await newStore();
        await s.recordPushFailure(validGroup(G), 1, `${'r'.repeat(1024)}TAIL`);
        expect(findGroup(await s.snapshot(), G)!.lastFailureReason).toBe('r'.repeat(1024));
      });

      c('a PUT replacing a group counts the series it removes', async () => {
        const s = await newStore({ limits: { maxSeriesTotal: 3 } });
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: 'j' },
            pushTimeMs: 1,
            families: [
              gaugeFamily('g', [
                [{ k: '1' }, 1],
                [{ k: '2' }, 1],
                [{ k: '3' }, 1],
              ]),
            ],
          }),
        );
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: 'j' },
            pushTimeMs: 2,
            families: [
              gaugeFamily('g', [
                [{ k: '4' }, 1],
                [{ k: '5' }, 1],
                [{ k: '6' }, 1],
              ]),
            ],
          }),
        );
        expect(seriesCount(await s.snapshot())).toBe(3);
        await s.push(validPush({ method: 'DELETE', group: { job: 'j' }, pushTimeMs: 3, families: [] }));
        const res = await s.apply(
          validApplies([req('m', G, [inc('a_total', {}, 1), inc('b_total', {}, 1), inc('c_total', {}, 1)])]),
        );
        expect(res[0]!.rejected).toEqual([]);
      });
    });

    // ---------------------------------------------------------------- TTL
    describe('expiry', () => {
      c('expire removes groups not updated within the TTL and returns their keys', async () => {
        const clock = new FakeClock();
        const s = await newStore({ now: clock.now });
        await s.apply(validApplies([req('a', { job: 'old' }, [inc('x_total', {}, 1)])]));
        await s.push(
          validPush({
            method: 'PUT',
            group: { job: 'old2' },
            pushTimeMs: clock.t,
            families: [gaugeFamily('g', [[{}, 1]])],
          }),
        );
        clock.advance(60_000);
        await s.apply(validApplies([req('b', { job: 'fresh' }, [inc('x_total', {}, 1)])]));
        clock.advance(1_000);
        const gen = await s.generation();
        const expired = await s.expire(clock.t, 30_000);
        expect(
          expired.map((k) => plain(k)).sort((x, y) => String(x.job).localeCompare(String(y.job))),
        ).toEqual([{ job: 'old' }, { job: 'old2' }]);
        expect(await s.generation()).not.toBe(gen);
        const snap = await s.snapshot();
        expect(snap.groups.map((g) => plain(g.key))).toEqual([{ job: 'fresh' }]);
        const gen2 = await s.generation();
        expect(await s.expire(clock.t, 30_000)).toEqual([]);
        expect(await s.generation()).toBe(gen2);
      });

      c('an update renews a group; expired series free their family and limits', async () => {
        const clock = new FakeClock();
        const s = await newStore({ now: clock.now, limits: { maxSeriesTotal: 1 } });
        await s.apply(validApplies([req('a', G, [inc('x_total', {}, 1)])]));
        clock.advance(20_000);
        await s.apply(validApplies([req('b', G, [inc('x_total', {}, 1)])]));
        clock.advance(20_000);
        expect(await s.expire(clock.t, 30_000)).toEqual([]);
        clock.advance(20_000);
        expect((await s.expire(clock.t, 30_000)).map(plain)).toEqual([plain(G)]);
        const res = await s.apply(validApplies([req('c', G2, [add('x_total', { other: 'shape' }, 1)])]));
        expect(res[0]!.rejected).toEqual([]);
      });
    });

    // ---------------------------------------------------------------- 8. snapshots
    describe('snapshot, generation, listGroups, wipe', () => {
      c('snapshot content: cumulative buckets, sorted families and series, group metadata', async () => {
        const clock = new FakeClock(1_000_000);
        const s = await newStore({ now: clock.now });
        await s.apply(
          validApplies([
            req(
              'm1',
              G,
              [
                inc('zz_total', { b: '2' }, 1, 'Z help'),
                inc('zz_total', { b: '1' }, 1),
                observe('aa_seconds', {}, [1, 2, 4], [0.5, 1.5, 1.5, 3, 10]),
                set('mm', {}, 4, 900_000),
              ],
              950_000,
            ),
          ]),
        );
        const snap = await s.snapshot();
        expect(typeof snap.generation).toBe('string');
        expect(snap.takenAtMs).toBe(clock.t);
        const g = findGroup(snap, G)!;
        expect(plain(g.key)).toEqual(plain(G));
        expect(g.families.map((f) => f.name)).toEqual(['aa_seconds', 'mm', 'zz_total']);
        expect(g.families.map((f) => f.type)).toEqual(['histogram', 'gauge', 'counter']);
        expect(g.lastPushMs).toBe(clock.t);
        expect(g.lastUpdateMs).toBe(clock.t);
        expect(g.lastEventMs).toBe(950_000);
        expect(g.lastPushFailureMs).toBeUndefined();
        expect(findFamily(snap, G, 'zz_total')!.help).toBe('Z help');
        expect(findFamily(snap, G, 'zz_total')!.series.map((x) => plain(x.labels))).toEqual([
          { b: '1' },
          { b: '2' },
        ]);
        expect(histogramOf(snap, G, 'aa_seconds')).toEqual({
          buckets: [
            [1, 1],
            [2, 3],
            [4, 4],
          ],
          sum: 16.5,
          count: 5,
        });
        clock.advance(5);
        await s.apply(validApplies([req('m2', G, [inc('zz_total', { b: '1' }, 1)], 940_000)]));
        const g2 = findGroup(await s.snapshot(), G)!;
        expect(g2.lastEventMs).toBe(950_000);
        expect(g2.lastUpdateMs).toBe(clock.t);
      });

      c('a snapshot does not change when the store changes later', async () => {
        const s = await newStore();
        await s.apply(validApplies([req('a', G, [inc('x_total', {}, 1), observe('h', {}, [1], [0.5])])]));
        const before = await s.snapshot();
        const copy = JSON.stringify(before);
        await s.apply(
          validApplies([
            req('b', G, [inc('x_total', {}, 1), inc('y_total', {}, 1), observe('h', {}, [1], [0.5])]),
          ]),
        );
        await s.push(
          validPush({
            method: 'POST',
            group: G,
            pushTimeMs: Date.now(),
            families: [gaugeFamily('z', [[{}, 1]])],
          }),
        );
        await s.push(
          validPush({
            method: 'PUT',
            group: G2,
            pushTimeMs: Date.now(),
            families: [gaugeFamily('z', [[{}, 1]])],
          }),
        );
        expect(JSON.stringify(before)).toBe(copy);
        expect(seriesValue(before, G, 'x_total')).toBe(1);
      });

      c('generation changes on every content change and not otherwise', async () => {
        const s = await newStore();
        const seen = new Set<string>();
        const seenSnap = new Set<string>();
        let lastSnap = '';
        const expectNew = async () => {
          const g = await s.generation();
          expect(seen.has(g)).toBe(false);
          seen.add(g);
          lastSnap = (await s.snapshot()).generation;
          expect(seenSnap.has(lastSnap)).toBe(false);
          seenSnap.add(lastSnap);
        };
        const expectSame = async () => {
          const g = await s.generation();
          expect(seen.has(g)).toBe(true);
          expect((await s.snapshot()).generation).toBe(lastSnap);
        };
        await expectNew();
        await s.snapshot();
        await s.listGroups();
        await expectSame();
        await s.apply(validApplies([req('a', G, [inc('x_total', {}, 1)])]));
        await expectNew();
        await s.apply(validApplies([req('a', G, [inc('x_total', {}, 1)])])); // duplicate
        await expectSame();
        await s.apply(validApplies([req('s', G, [set('g', {}, 1, 100)])]));
        await expectNew();
        await s.apply(validApplies([req('s2', G, [set('g', {}, 1, 50)])])); // stale set
        await expectSame();
        await s.push(
          validPush({ method: 'PUT', group: G2, pushTimeMs: 100, families: [gaugeFamily('p', [[{}, 1]])] }),
        );
        await expectNew();
        await s.push(
          validPush({ method: 'PUT', group: G2, pushTimeMs: 50, families: [gaugeFamily('p', [[{}, 2]])] }),
        ); // stale
        await expectSame();
        await s.recordPushFailure(validGroup(G2), 200, 'x');
        await expectNew();
        await s.deleteGroup(validGroup(G2), 300);
        await expectNew();
        await s.expire(0, 1000);
        await expectSame();
        await s.wipe();
        await expectNew();
      });

      c('listGroups reports series counts per family and group metadata', async () => {
        const s = await newStore();
        await s.apply(
          validApplies([
            req('a', G, [
              inc('x_total', { k: '1' }, 1),
              inc('x_total', { k: '2' }, 1),
              observe('h', { k: '1' }, [1], [0.5]),
            ]),
          ]),
        );
        await s.push(
          validPush({ method: 'PUT', group: G2, pushTimeMs: 123, families: [gaugeFamily('g', [[{}, 1]])] }),
        );
        const groups = await s.listGroups();
        expect(groups).toHaveLength(2);
        const a = groups.find((g) => labelsKey(g.key) === labelsKey(G))!;
        expect({ ...a.seriesPerFamily }).toEqual({ h: 1, x_total: 2 });
        expect(typeof a.lastUpdateMs).toBe('number');
        const b = groups.find((g) => labelsKey(g.key) === labelsKey(G2))!;
        expect({ ...b.seriesPerFamily }).toEqual({ g: 1 });
        expect(b.lastPushMs).toBe(123);
      });

      c('wipe removes everything', async () => {
        const s = await newStore();
        await s.apply(validApplies([req('a', G, [inc('x_total', {}, 1)])]));
        await s.push(
          validPush({ method: 'PUT', group: G2, pushTimeMs: 1, families: [gaugeFamily('g', [[{}, 1]])] }),
        );
        await s.wipe();
        expect((await s.snapshot()).groups).toEqual([]);
        expect(await s.listGroups()).toEqual([]);
        // Families are free again after a wipe.
        await s.push(
          validPush({
            method: 'PUT',
            group: G2,
            pushTimeMs: 2,
            families: [counterFamily('x_total', [[{ other: 'y' }, 1]])],
          }),
        );
        expect(seriesValue(await s.snapshot(), G2, 'x_total', { other: 'y' })).toBe(1);
      });

      const hostileLabels: Array<[string, Labels]> = [
        ['quotes and backslashes', { v: 'a "quoted" \\ value' }],
        ['newlines', { v: 'line1\nline2\r\n' }],
        ['constructor label name', { constructor: 'x' }],
        ['toString and hasOwnProperty label names', { toString: 'a', hasOwnProperty: 'b' }],
        ['__proto__ as a value', { v: '__proto__' }],
        ['unicode', { v: 'Zürich 東京 🚀 \u200b' }],
        ['braces and commas', { v: '},{a="b"' }],
      ];
      cEach('hostile label values round-trip exactly', hostileLabels, async (_t, labels) => {
        const s = await newStore();
        const res = await s.apply(
          validApplies([req('m', G, [inc('aria_x_total', labels, 2), set('aria_g', labels, 3, 1)])]),
        );
        expect(res[0]!.rejected).toEqual([]);
        await s.push(
          validPush({
            method: 'PUT',
            group: G2,
            pushTimeMs: 1,
            families: [gaugeFamily('aria_g', [[labels, 4]])],
          }),
        );
        const snap = await s.snapshot();
        const f = findFamily(snap, G, 'aria_x_total')!;
        expect(f.series).toHaveLength(1);
        expect(plain(f.series[0]!.labels)).toEqual(plain(labels));
        expect(seriesValue(snap, G, 'aria_x_total', labels)).toBe(2);
        expect(seriesValue(snap, G, 'aria_g', labels)).toBe(3);
        expect(seriesValue(snap, G2, 'aria_g', labels)).toBe(4);
        expect(({} as Record<string, unknown>).v).toBeUndefined();
      });

      // UTF-8 names (ACCRUE_UTF8_NAMES): the HTTP edge decides which names it lets in; the store keeps
      // them exactly, whatever characters they hold (docs/exposition.md "UTF-8 names").
      const utf8Cases: Array<[string, string, Labels, Labels]> = [
        ['dots', 'my.metric', { 'my.label': 'x' }, { job: 'j', 'my.group': 'g' }],
        ['CJK and emoji', '温度🚀', { ラベル: 'v' }, { job: 'j', '🙂': 'y' }],
        ['quotes, backslash, newline', 'a "q"\\\nb', { 'l"\n\\': 'v' }, { job: 'j' }],
        ['key separators', 'a#b/c=d,e', { 'x=y': '1', 'a,b': '2' }, { job: 'j', 's#p': 'x' }],
      ];
      cEach(
        'UTF-8 metric, label and group names round-trip exactly',
        utf8Cases,
        async (_t, name, labels, group) => {
          const s = await newStore();
          await s.push(
            validPush({ method: 'PUT', group, pushTimeMs: 1, families: [gaugeFamily(name, [[labels, 7]])] }),
          );
          await s.push(
            validPush({
              method: 'POST',
              group,
              pushTimeMs: 2,
              families: [gaugeFamily(`${name}2`, [[{}, 8]])],
            }),
          );
          const snap = await s.snapshot();
          const g = findGroup(snap, group)!;
          expect(plain(g.key)).toEqual(plain(group));
          expect(g.families.map((f) => f.name).sort()).toEqual([name, `${name}2`].sort());
          const f = findFamily(snap, group, name)!;
          expect(f.series.map((x) => plain(x.labels))).toEqual([plain(labels)]);
          expect(seriesValue(snap, group, name, labels)).toBe(7);
          await s.push(validPush({ method: 'DELETE', group, pushTimeMs: 3, families: [] }));
          expect(findGroup(await s.snapshot(), group)).toBeUndefined();
        },
      );

      c('a family name that extends another one with "#" keeps its own series (key prefixes)', async () => {
        const s = await newStore();
        await s.push(
          validPush({
            method: 'PUT',
            group: G2,
            pushTimeMs: 1,
            families: [gaugeFamily('a', [[{}, 1]]), gaugeFamily('a#b', [[{ k: 'v' }, 2]])],
          }),
        );
        await s.push(
          validPush({ method: 'POST', group: G2, pushTimeMs: 2, families: [gaugeFamily('a', [[{}, 3]])] }),
        );
        const snap = await s.snapshot();
        expect(findFamily(snap, G2, 'a')!.series.map((x) => (x as { value: number }).value)).toEqual([3]);
        expect(seriesValue(snap, G2, 'a#b', { k: 'v' })).toBe(2);
      });

      c('metric names that are Object.prototype keys are ordinary families', async () => {
        const s = await newStore();
        const res = await s.apply(
          validApplies([
            req('m', G, [
              inc('constructor', {}, 1),
              add('__proto__', {}, 2),
              inc('toString', { hasOwnProperty: 'x' }, 3),
            ]),
          ]),
        );
        expect(res[0]!.rejected).toEqual([]);
        await s.push(
          validPush({
            method: 'PUT',
            group: G2,
            pushTimeMs: 1,
            families: [gaugeFamily('__proto__', [[{}, 5]])],
          }),
        );
        const snap = await s.snapshot();
        expect(findGroup(snap, G)!.families.map((f) => f.name)).toEqual([
          '__proto__',
          'constructor',
          'toString',
        ]);
        expect(seriesValue(snap, G, '__proto__')).toBe(2);
        expect(seriesValue(snap, G2, '__proto__')).toBe(5);
        const info = (await s.listGroups()).find((g) => labelsKey(g.key) === labelsKey(G))!;
        expect(Object.hasOwn(info.seriesPerFamily, '__proto__')).toBe(true);
        expect(Object.getOwnPropertyDescriptor(info.seriesPerFamily, '__proto__')?.value).toBe(1);
        expect(info.seriesPerFamily['constructor']).toBe(1);
        expect(Object.keys(info.seriesPerFamily).sort()).toEqual(['__proto__', 'constructor', 'toString']);
      });

      c('after the first, a snapshot reads only the groups that changed and keeps the others', async () => {
        const s = await newStore();
        const groups = Array.from({ length: 6 }, (_, i) => ({ job: 'inc', instance: `i${i}` }));
        for (const [i, g] of groups.entries())
          await s.push(
            validPush({
              method: 'PUT',
              group: g,
              pushTimeMs: 1,
              families: [
                gaugeFamily('inc_g', [
                  [{ k: 'a' }, i],
                  [{ k: 'b' }, i],
                ]),
              ],
            }),
          );
        const first = await s.snapshot();
        expect(first.groups).toHaveLength(6);
        const idle = await s.snapshot();
        expect(idle.reads).toMatchObject({ full: false, groupsReread: 0 });
        expect(idle.generation).toBe(first.generation);
        expect(idle.groups).toBe(first.groups);
        await s.apply(validApplies([req('inc-1', groups[2]!, [inc('inc_total', {}, 5)])]));
        const after = await s.snapshot();
        expect(after.reads).toMatchObject({ full: false, groupsReread: 1 });
        expect(after.generation).not.toBe(first.generation);
        expect(seriesValue(after, groups[2]!, 'inc_total')).toBe(5);
        for (const [i, g] of groups.entries()) {
          if (i === 2) expect(findGroup(after, g)).not.toBe(findGroup(first, g));
          else expect(findGroup(after, g)).toBe(findGroup(first, g));
        }
        await s.deleteGroup(validGroup(groups[4]!), 10);
        const gone = await s.snapshot();
        expect(gone.reads?.full).toBe(false);
        expect(gone.reads?.groupsReread).toBeLessThanOrEqual(1);
        expect(findGroup(gone, groups[4]!)).toBeUndefined();
        expect(gone.groups).toHaveLength(5);
      });

      c('concurrent snapshot calls each reflect every write completed before the call', async () => {
        const s = await newStore();
        await s.apply(validApplies([req('c0', G, [inc('cc_total', {}, 1)])]));
        const early = s.snapshot();
        await s.apply(validApplies([req('c1', G, [inc('cc_total', {}, 1)])]));
        const late = s.snapshot();
        const also = s.snapshot();
        const [a, b, c2] = await Promise.all([early, late, also]);
        expect(seriesValue(a, G, 'cc_total')).toBeGreaterThanOrEqual(1);
        expect(seriesValue(b, G, 'cc_total')).toBe(2);
        expect(seriesValue(c2, G, 'cc_total')).toBe(2);
      });

      c('concurrent readers: counters never go back and the last snapshot is exact', async () => {
        const s = await newStore();
        const reader = opts.openPeer ? await opts.openPeer(s) : s;
        if (reader !== s) open.push(reader);
        const gs = [G, G2, { job: 'trading', instance: 'ap-1' }];
        let done = false;
        const writers = gs.map(async (g, gi) => {
          for (let i = 0; i < 12; i++)
            await s.apply(
              validApplies([
                req(`w${gi}-${i}`, g, [inc('cr_total', { k: 'a' }, 1), inc('cr_total', { k: 'b' }, 2)]),
              ]),
            );
        });
        const last = new Map<string, number>();
        let snapshots = 0;
        const readers = [0, 1].map(async () => {
          while (!done) {
            const snap = await reader.snapshot();
            snapshots++;
            // Yield to I/O: a store whose snapshot() resolves at once must not starve durable writers.
            await new Promise((r) => setImmediate(r));
            for (const [gi, g] of gs.entries())
              for (const k of ['a', 'b']) {
                const v = seriesValue(snap, g, 'cr_total', { k }) ?? 0;
                const key = `${gi}${k}`;
                expect(v).toBeGreaterThanOrEqual(last.get(key) ?? 0);
                last.set(key, Math.max(v, last.get(key) ?? 0));
              }
          }
        });
        await Promise.all(writers);
        done = true;
        await Promise.all(readers);
        expect(snapshots).toBeGreaterThan(1);
        const final = await reader.snapshot();
        for (const g of gs) {
          expect(seriesValue(final, g, 'cr_total', { k: 'a' })).toBe(12);
          expect(seriesValue(final, g, 'cr_total', { k: 'b' })).toBe(24);
        }
      });

      c(
        'a reader sees a large PUT or DELETE whole: the group before it or after it, never between',
        async () => {
          // 250 puts + 50 deletes: several transactions on a store that has a per-transaction limit.
          const s = await newStore();
          const reader = opts.openPeer ? await opts.openPeer(s) : s;
          if (reader !== s) open.push(reader);
          const g = { job: 'atomic-push' };
          const series = (n: number, v: number): Array<[Labels, number]> =>
            Array.from({ length: n }, (_, i) => [{ i: String(i) }, v]);
          const shape = (snap: Awaited<ReturnType<Store['snapshot']>>): string => {
            const grp = findGroup(snap, g);
            if (!grp) return 'absent';
            return grp.families
              .map((f) => {
                const values = new Set(f.series.map((x) => (x as { value: number }).value));
                return `${f.name}:${f.series.length}:${[...values].sort().join(',')}`;
              })
              .join(' ');
          };
          /** Snapshots in a loop while `write` runs; returns the shapes seen, in order. */
          const watch = async (write: () => Promise<unknown>): Promise<string[]> => {
            const seen: string[] = [];
            let done = false;
            const loop = (async () => {
              while (!done) {
                seen.push(shape(await reader.snapshot()));
                await new Promise((r) => setImmediate(r));
              }
            })();
            try {
              await write();
            } finally {
              done = true;
              await loop;
            }
            seen.push(shape(await reader.snapshot()));
            return seen;
          };
          await s.push(
            validPush({
              method: 'PUT',
              group: g,
              pushTimeMs: 1,
              families: [gaugeFamily('at_a', series(150, 1))],
            }),
          );
          const before = shape(await reader.snapshot());
          expect(before).toBe('at_a:150:1');
          const after = 'at_a:100:2 at_b:150:3';
          const duringPut = await watch(() =>
            s.push(
              validPush({
                method: 'PUT',
                group: g,
                pushTimeMs: 2,
                families: [gaugeFamily('at_a', series(100, 2)), gaugeFamily('at_b', series(150, 3))],
              }),
            ),
          );
          expect(duringPut.length).toBeGreaterThan(1);
          expect(duringPut.filter((x) => x !== before && x !== after)).toEqual([]);
          expect(duringPut[duringPut.length - 1]).toBe(after);
          const duringDelete = await watch(() => s.deleteGroup(validGroup(g), 3));
          expect(duringDelete.filter((x) => x !== after && x !== 'absent')).toEqual([]);
          expect(duringDelete[duringDelete.length - 1]).toBe('absent');
        },
      );

      c('an older push still being written never lands over a newer POST of its family', async () => {
        // A client gives up on a slow push and sends a newer one, which finishes first: the rest of the
        // older push must not be written over it (found by the soak's HTTP clients on DynamoDB).
        const s = await newStore();
        const peer = opts.openPeer ? await opts.openPeer(s) : s;
        if (peer !== s) open.push(peer);
        const g = { job: 'push-order' };
        const series = (n: number, v: number): Array<[Labels, number]> =>
          Array.from({ length: n }, (_, i) => [{ i: String(i) }, v]);
        await s.push(
          validPush({
            method: 'PUT',
            group: g,
            pushTimeMs: 1,
            families: [gaugeFamily('po_a', series(5, 1)), gaugeFamily('po_b', series(1, 1))],
          }),
        );
        const older = {
          method: 'POST' as const,
          group: g,
          pushTimeMs: 10,
          families: [gaugeFamily('po_a', series(250, 10))],
        };
        const newer = {
          method: 'POST' as const,
          group: g,
          pushTimeMs: 20,
          families: [gaugeFamily('po_a', series(3, 20))],
        };
        const hold = opts.pauseNextPush?.(s);
        if (hold) {
          const first = s.push(validPush(older));
          await hold.paused;
          await peer.push(validPush(newer));
          hold.resume();
          await first;
        } else {
          await s.push(validPush(older));
          await peer.push(validPush(newer));
        }
        const snap = await peer.snapshot();
        const a = findFamily(snap, g, 'po_a')!;
        expect(a.series.map((x) => (x as { value: number }).value)).toEqual([20, 20, 20]);
        expect(seriesValue(snap, g, 'po_b', { i: '0' })).toBe(1);
        // The counters follow the items: the group can still be replaced whole.
        await s.push(
          validPush({
            method: 'PUT',
            group: g,
            pushTimeMs: 30,
            families: [gaugeFamily('po_a', series(2, 30))],
          }),
        );
        expect(findFamily(await peer.snapshot(), g, 'po_a')!.series).toHaveLength(2);
      });

      c("another instance's writes, deletes, HELP and wipe show in the next snapshot", async () => {
        if (!opts.openPeer) return;
        const a = await newStore();
        const b = await opts.openPeer(a);
        open.push(b);
        await a.apply(
          validApplies([req('p1', G, [inc('pp_total', {}, 1)]), req('p2', G2, [inc('pp_total', {}, 1)])]),
        );
        expect(seriesValue(await b.snapshot(), G, 'pp_total')).toBe(1);
        await a.apply(validApplies([req('p3', G, [inc('pp_total', {}, 2, 'Peer help.')])]));
        await a.push(
          validPush({
            method: 'PUT',
            group: { job: 'peer' },
            pushTimeMs: 5,
            families: [gaugeFamily('pg', [[{}, 3]])],
          }),
        );
        await a.recordPushFailure(validGroup(G2), 7, 'bad push');
        let snap = await b.snapshot();
        expect(snap.reads?.full).toBe(false);
        expect(seriesValue(snap, G, 'pp_total')).toBe(3);
        expect(findFamily(snap, G, 'pp_total')!.help).toBe('Peer help.');
        expect(findFamily(snap, G2, 'pp_total')!.help).toBe('Peer help.');
        expect(seriesValue(snap, { job: 'peer' }, 'pg')).toBe(3);
        expect(findGroup(snap, G2)!.lastFailureReason).toBe('bad push');
        await a.deleteGroup(validGroup({ job: 'peer' }), 10);
        snap = await b.snapshot();
        expect(findGroup(snap, { job: 'peer' })).toBeUndefined();
        expect(snap.groups).toHaveLength(2);
        await a.wipe();
        expect((await b.snapshot()).groups).toEqual([]);
        await a.apply(validApplies([req('p4', G, [inc('pp_total', {}, 4)])]));
        expect(seriesValue(await b.snapshot(), G, 'pp_total')).toBe(4);
      });

      c('ping resolves on an open store', async () => {
        const s = await newStore();
        await expect(s.ping()).resolves.toBeUndefined();
      });
    });
  });
}
