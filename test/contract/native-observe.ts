/**
 * Contract cases: native histograms aggregated from events (`HistogramObserve.native`), on every store.
 * Registered by store-contract.ts. Expected values are computed from the raw observations with the model
 * (`observeNative` over all values at the common schema), never written out by hand.
 */
import { FamilyConflictError, TransientError, ValidationError } from '../../shared/model/errors';
import { addNative, bucketUpperBound, type NativeHistogram, observeNative } from '../../shared/model/native';
import type { HistogramSeries } from '../../shared/model/types';
import type { ApplyResult, HistogramObserve, MetricOp, Store } from '../../shared/store/types';
import { appliedIds, atEdge, validApplies, validPush } from '../support/edge';
import { findFamily, observe, req } from './helpers';

const G = { job: 'trading', instance: 'native-1' } as const;
const B = [0.01, 0.1, 1] as const;
const NAME = 'exec_latency_seconds';

/** An observe op carrying classic buckets `bounds` and native buckets of (schema, zero threshold). */
export function observeBoth(
  labels: Record<string, string>,
  values: readonly number[],
  schema: number,
  zeroThreshold = 0,
  bounds: readonly number[] = B,
  name = NAME,
): HistogramObserve {
  const classic = observe(name, labels, bounds, values);
  return { ...classic, native: observeNative(values, schema, zeroThreshold).native };
}

function statuses(results: readonly ApplyResult[]): string[] {
  return results.map((r) => `${r.id}:${r.status}`);
}

async function seriesOf(s: Store, labels: Record<string, string> = {}): Promise<HistogramSeries> {
  const fam = findFamily(await s.snapshot(), G, NAME);
  const key = JSON.stringify(labels);
  const found = fam?.series.find((x) => JSON.stringify({ ...x.labels }) === key);
  if (!found) throw new Error(`no series ${key} of ${NAME}`);
  return found as HistogramSeries;
}

/** Deterministic values spread over ~6 decades, both signs, some exactly 0. */
function spread(n: number, seed: number, negative = false): number[] {
  const out: number[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const v = 10 ** ((x / 2147483648) * 6 - 4);
    out.push(i % 17 === 0 ? 0 : negative && i % 5 === 0 ? -v : v);
  }
  return out;
}

export interface NativeObserveCaseOptions {
  readonly c: (title: string, fn: () => Promise<void>) => void;
  readonly newStore: () => Promise<Store>;
  readonly injectApplyFault?: (store: Store, id: string) => void;
  readonly openPeer?: (store: Store) => Promise<Store>;
}

export function nativeObserveCases(o: NativeObserveCaseOptions): void {
  const { c, newStore } = o;
  describe('native histograms from observations', () => {
    c('native observations of several producers add up, each request once', async () => {
      const s = await newStore();
      const a = spread(40, 1, true);
      const b = spread(25, 2);
      const ra = req('na', G, [observeBoth({}, a, 3)]);
      const rb = req('nb', G, [observeBoth({}, b, 3)]);
      expect(statuses(await s.apply(validApplies([ra])))).toEqual(['na:applied']);
      // A redelivery in another batch, beside a new request: only the new one counts.
      expect(statuses(await s.apply(validApplies([rb, ra])))).toEqual(['nb:applied', 'na:duplicate']);
      expect(statuses(await s.apply(validApplies([ra, rb])))).toEqual(['na:duplicate', 'nb:duplicate']);
      const got = await seriesOf(s);
      const all = observeNative([...a, ...b], 3, 0);
      expect(got.native).toEqual(all.native);
      expect(got.count).toBe(a.length + b.length);
      expect(got.sum).toBeCloseTo(all.sum, 9);
      // The classic buckets beside them count the same observations.
      expect(got.buckets.map((x) => x.count)).toEqual(
        B.map((le) => [...a, ...b].filter((v) => v <= le).length),
      );
    });

    c(
      'past 4,096 buckets the series is reduced to a lower schema, as the spec caps it, on every store',
      async () => {
        const s = await newStore();
        // 26 requests of 160 distinct schema-8 buckets each (below the per-update ADD limit): 4,160 in all.
        const value = (k: number) => 2 ** ((k + 0.5) / 256);
        const requests = Array.from({ length: 26 }, (_, i) =>
          req(`cap${i}`, G, [
            observeBoth(
              { cap: 'y' },
              Array.from({ length: 160 }, (_, j) => value(i * 160 + j)),
              8,
            ),
          ]),
        );
        for (let i = 0; i < requests.length; i += 5) await s.apply(validApplies(requests.slice(i, i + 5)));
        // Redelivered: nothing changes.
        expect(statuses(await s.apply(validApplies([requests[3]!])))).toEqual(['cap3:duplicate']);
        // What the memory store's rule gives: each op added by the spec (addNative caps the buckets).
        let want: NativeHistogram | undefined;
        for (const r of requests) {
          const op = r.ops[0] as HistogramObserve;
          want = want === undefined ? op.native! : addNative(want, op.native!);
        }
        const got = (await seriesOf(s, { cap: 'y' })).native!;
        expect(got.schema).toBeLessThan(8);
        expect(got).toEqual(want);
        expect(got.positive.counts.reduce((x, y) => x + y, 0)).toBe(26 * 160);
      },
    );

    c('several ops of one series in one request are added by the spec', async () => {
      const s = await newStore();
      const a = spread(10, 3);
      const b = spread(10, 4);
      const [r] = await s.apply(
        validApplies([req('n2', G, [observeBoth({ k: '1' }, a, 2), observeBoth({ k: '1' }, b, 2)])]),
      );
      expect(r!.status).toBe('applied');
      expect(r!.rejected).toEqual([]);
      expect((await seriesOf(s, { k: '1' })).native).toEqual(observeNative([...a, ...b], 2, 0).native);
    });

    c(
      'merging a lower schema reduces the stored buckets to it; a higher one is reduced into it',
      async () => {
        const s = await newStore();
        const a = spread(30, 5);
        const b = spread(30, 6);
        const d = spread(30, 7);
        await s.apply(validApplies([req('s3', G, [observeBoth({}, a, 3)])]));
        await s.apply(validApplies([req('s1', G, [observeBoth({}, b, 1)])]));
        expect((await seriesOf(s)).native).toEqual(observeNative([...a, ...b], 1, 0).native);
        // A producer still at schema 3: reduced into the stored schema 1.
        await s.apply(validApplies([req('s3b', G, [observeBoth({}, d, 3)])]));
        const got = await seriesOf(s);
        expect(got.native).toEqual(observeNative([...a, ...b, ...d], 1, 0).native);
        expect(got.count).toBe(90);
        // And again, redelivered: nothing changes.
        expect(statuses(await s.apply(validApplies([req('s1', G, [observeBoth({}, b, 1)])])))).toEqual([
          's1:duplicate',
        ]);
        expect((await seriesOf(s)).native).toEqual(got.native);
      },
    );

    c(
      'a larger zero threshold widens the zero bucket of the stored series (spec: zero bucket merge)',
      async () => {
        const s = await newStore();
        const a = [0.0001, 0.002, 0.003, 0.5, 2];
        const b = [0.0005, 0.004, 1];
        await s.apply(validApplies([req('z1', G, [observeBoth({}, a, 2, 0.001)])]));
        await s.apply(validApplies([req('z2', G, [observeBoth({}, b, 2, 0.003)])]));
        const want = addNative(observeNative(a, 2, 0.001).native, observeNative(b, 2, 0.003).native);
        const got = (await seriesOf(s)).native!;
        expect(got).toEqual(want);
        expect(got.zeroThreshold).toBeGreaterThanOrEqual(0.003);
        expect(got.zeroCount).toBe([...a, ...b].filter((v) => v <= got.zeroThreshold).length);
        // A smaller threshold afterwards is widened into the stored one.
        await s.apply(validApplies([req('z3', G, [observeBoth({}, [0.0002, 3], 2, 0.001)])]));
        const after = (await seriesOf(s)).native!;
        expect(after.zeroThreshold).toBe(got.zeroThreshold);
        expect(after.zeroCount).toBe(got.zeroCount + 1);
      },
    );

    c('two instances merging different schemas concurrently lose nothing', async () => {
      const s = await newStore();
      const peer = o.openPeer ? await o.openPeer(s) : s;
      try {
        const runs: Promise<ApplyResult[]>[] = [];
        const values: number[] = [];
        for (let i = 0; i < 12; i++) {
          const v = spread(8, 100 + i, true);
          values.push(...v);
          runs.push(
            (i % 2 === 0 ? s : peer).apply(
              validApplies([req(`cc${i}`, G, [observeBoth({}, v, i % 3 === 0 ? 0 : 4)])]),
            ),
          );
        }
        for (const r of await Promise.all(runs)) expect(r[0]!.status).toBe('applied');
        const got = await seriesOf(s);
        expect(got.native).toEqual(observeNative(values, 0, 0).native);
        expect(got.count).toBe(values.length);
      } finally {
        if (peer !== s) await peer.close();
      }
    });

    c('observations with native buckets merge into a pushed native histogram', async () => {
      const s = await newStore();
      const pushed = observeNative([1, 2, 3], 4, 0);
      await s.push(
        validPush({
          method: 'PUT',
          group: G,
          pushTimeMs: Date.now(),
          families: [
            {
              name: NAME,
              help: '',
              type: 'histogram',
              series: [{ labels: {}, buckets: [], sum: pushed.sum, count: 3, native: pushed.native }],
            },
          ],
        }),
      );
      const more = [0.5, 8, 9];
      const [r] = await s.apply(validApplies([req('np', G, [observeBoth({}, more, 2, 0, [])])]));
      expect(r!.rejected).toEqual([]);
      const got = await seriesOf(s);
      expect(got.native).toEqual(observeNative([1, 2, 3, ...more], 2, 0).native);
      expect([got.count, got.sum]).toEqual([6, 6 + 17.5]);
      // Afterwards plain ADDs in the merged layout.
      await s.apply(validApplies([req('np2', G, [observeBoth({}, [4], 2, 0, [])])]));
      expect((await seriesOf(s)).native).toEqual(observeNative([1, 2, 3, ...more, 4], 2, 0).native);
    });

    c('an op with hundreds of buckets is written whole, new and existing series alike', async () => {
      const s = await newStore();
      // 300 distinct buckets at schema 8 (one per value), then 300 more.
      const a = Array.from({ length: 300 }, (_, i) => bucketUpperBound(i * 3, 8));
      const b = Array.from({ length: 300 }, (_, i) => bucketUpperBound(i * 3 + 1, 8));
      await s.apply(validApplies([req('w1', G, [observeBoth({}, a, 8, 0, [])])]));
      await s.apply(validApplies([req('w2', G, [observeBoth({}, b, 8, 0, [])])]));
      expect(statuses(await s.apply(validApplies([req('w1', G, [observeBoth({}, a, 8, 0, [])])])))).toEqual([
        'w1:duplicate',
      ]);
      const got = await seriesOf(s);
      expect(got.native).toEqual(observeNative([...a, ...b], 8, 0).native);
      expect(got.count).toBe(600);
    });

    c('a series keeps native buckets for its whole life, or never has them', async () => {
      const s = await newStore();
      await s.apply(
        validApplies([
          req('c1', G, [observe(NAME, { k: 'classic' }, B, [0.5]), observeBoth({ k: 'native' }, [0.5], 3)]),
        ]),
      );
      const nativeOnly = { ...observeBoth({ k: 'classic' }, [0.3], 3, 0, []), counts: [1] };
      const c2 = req('c2', G, [
        observeBoth({ k: 'classic' }, [0.2], 3), // classic part added (profile turned native after an upgrade)
        observe(NAME, { k: 'native' }, B, [0.2]),
        observeBoth({ k: 'native' }, [0.7], 3),
        nativeOnly, // nothing classic to add (and another layout): refused
      ]);
      const [r] = await s.apply(validApplies([c2]));
      expect(r!.status).toBe('applied');
      expect(r!.rejected.map((x) => x.index)).toEqual([1, 3]);
      for (const x of r!.rejected) expect(x.error).toBeInstanceOf(FamilyConflictError);
      expect(r!.rejected[0]!.error.message).toMatch(/carries a native histogram/);
      expect(r!.rejected[1]!.error.message).toMatch(/bucket layout \[\] conflicts/);
      const classic = await seriesOf(s, { k: 'classic' });
      expect([classic.count, classic.native]).toEqual([2, undefined]);
      // Redelivered: the classic part is not added twice.
      expect(statuses(await s.apply(validApplies([c2])))).toEqual(['c2:duplicate']);
      expect((await seriesOf(s, { k: 'classic' })).count).toBe(2);
      expect((await seriesOf(s, { k: 'native' })).native).toEqual(observeNative([0.5, 0.7], 3, 0).native);
      // Two requests in one batch, one of each: the stored series decides, not the batch's order.
      const both = await s.apply(
        validApplies([
          req('c3', G, [observe(NAME, { k: 'native' }, B, [0.1])]),
          req('c4', G, [observeBoth({ k: 'native' }, [0.9], 3)]),
        ]),
      );
      expect(both.map((x) => x.rejected.map((y) => y.index))).toEqual([[0], []]);
      expect((await seriesOf(s, { k: 'native' })).native).toEqual(
        observeNative([0.5, 0.7, 0.9], 3, 0).native,
      );
    });

    const base = observeBoth({}, [1, 2], 3);
    const nat = base.native!;
    const bad: [string, unknown, RegExp][] = [
      ['schema a string', { ...nat, schema: '3' }, /native\.schema: must be an integer in -4\.\.8/],
      ['schema 9', { ...nat, schema: 9 }, /native\.schema/],
      [
        'zero threshold NaN',
        { ...nat, zeroThreshold: Number.NaN },
        /native\.zero_threshold: must be a finite number/,
      ],
      ['zero threshold Infinity', { ...nat, zeroThreshold: Infinity }, /native\.zero_threshold/],
      [
        'negative population',
        { ...nat, positive: { ...nat.positive, counts: nat.positive.counts.map((x) => -x) } },
        /native\.positive_counts\[0\]: must be a finite number >= 0/,
      ],
      [
        'huge population',
        { ...nat, positive: { ...nat.positive, counts: nat.positive.counts.map(() => 1e300) } },
        /native\..*(sample_count|population|observations)/,
      ],
      ['fractional population', { ...nat, zeroCount: 0.5 }, /native\.(zero_count|sample_count)/],
      ['population above the count', { ...nat, zeroCount: 5 }, /native\.sample_count/],
      [
        'spans not an array',
        { ...nat, positive: { spans: 'x', counts: [1, 1] } },
        /native\.positive_spans: must be an array/,
      ],
      ['a __proto__ key', JSON.parse(`{"__proto__":{"x":1},"schema":3}`), /native\.__proto__: unknown field/],
      ['not an object', 7, /native: must be an object/],
    ];
    for (const [what, native, message] of bad) {
      c(
        `an observe with bad native buckets is refused at the edge naming the field (${what}); the request beside it applies`,
        async () => {
          const s = await newStore();
          const reached = appliedIds(s);
          const ops: MetricOp[] = [
            { ...base, labels: { k: 'bad' }, native: native as NativeHistogram },
            observeBoth({ k: 'also-bad-request' }, [1, 2], 3),
          ];
          const edge = atEdge([req('bad', G, ops), req('good', G, [observeBoth({ k: 'good' }, [1, 2], 3)])]);
          expect(edge.refused.map((x) => x.index)).toEqual([0]);
          const error = edge.refused[0]!.error;
          expect(error).toBeInstanceOf(ValidationError);
          expect(error.message).toMatch(/ops\[0\]/);
          expect(error.message).toMatch(message);
          expect(statuses(await s.apply(edge.valid))).toEqual(['good:applied']);
          expect(reached).toEqual(['good']);
          const fam = findFamily(await s.snapshot(), G, NAME)!;
          expect(fam.series.map((x) => x.labels.k)).toEqual(['good']);
        },
      );
    }

    c(
      'a request with native buckets committed in parts is applied once after a failure between parts',
      async () => {
        if (!o.injectApplyFault) return;
        const s = await newStore();
        const ops: MetricOp[] = [];
        const values: number[][] = [];
        for (let i = 0; i < 150; i++) {
          const v = spread(3, 300 + i);
          values.push(v);
          ops.push(observeBoth({ n: String(i) }, v, 3));
        }
        const big = req('nbig', G, ops);
        o.injectApplyFault(s, 'nbig');
        const first = await s.apply(validApplies([big]));
        expect(first[0]!.status).toBe('failed');
        if (first[0]!.status === 'failed') expect(first[0]!.error).toBeInstanceOf(TransientError);
        expect(statuses(await s.apply(validApplies([big])))).toEqual(['nbig:applied']);
        expect(statuses(await s.apply(validApplies([big])))).toEqual(['nbig:duplicate']);
        for (const i of [0, 75, 149]) {
          const got = await seriesOf(s, { n: String(i) });
          expect(got.native).toEqual(observeNative(values[i]!, 3, 0).native);
          expect(got.count).toBe(3);
        }
      },
    );
  });
}
