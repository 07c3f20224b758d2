/**
 * Native histograms from events: a profile declares a histogram `native` (schema, zero threshold); the
 * decoder buckets every observation exponentially beside the classic buckets. Expected values come from
 * the model (`observeNative` over the same values), never written out by hand.
 */

import { observeNative } from '../../../shared/model/native';
import { compileProfile, ProfileError } from '../../../shared/profiles';
import { compileWith } from '../../../shared/profiles/compiler';
import { LEAN_SHAPE } from '../../../shared/profiles/lean-shape';
import { ARIA_PROFILE } from '../../../shared/profiles/load';
import type { HistogramObserve } from '../../../shared/store/types';
import { decode, execution, T0 } from './helpers';

const LATENCY = 'aria_execution_latency_seconds';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('native histograms from events', () => {
  it('the ARIA profile declares execution latency native (schema 3) beside its classic buckets', () => {
    const m = ARIA_PROFILE.metricsByName.get(LATENCY)!;
    expect(m.native).toEqual({ schema: 3, zeroThreshold: 0.0001 });
    expect(m.bounds.length).toBeGreaterThan(0);
    expect(ARIA_PROFILE.metricsByName.get('aria_slippage_pips')!.native).toBeUndefined();
  });

  it('ARIA executions: every series gets the native buckets of exactly its observations', () => {
    const r = rng(5);
    const values = new Map<string, number[]>();
    const events = [];
    for (let i = 0; i < 3000; i++) {
      const symbol = ['EURUSD', 'GBPUSD', 'XAU"USD'][i % 3]!;
      const status = r() < 0.8 ? 'success' : 'failed';
      // Zero, values inside the zero threshold, bucket-boundary values and a long tail.
      const pick = r();
      const latency =
        pick < 0.05
          ? 0
          : pick < 0.1
            ? 0.00005
            : pick < 0.2
              ? 2 ** Math.floor(r() * 10 - 8)
              : 10 ** (r() * 7 - 4);
      const key = `${symbol}|${status}`;
      values.set(key, [...(values.get(key) ?? []), latency]);
      events.push(execution({ time: T0 + i, symbol, status, latency_seconds: latency }));
    }
    const d = decode(events, { maxMessageBytes: 10_000_000 });
    expect(d.rejected).toEqual([]);
    const ops = d.apply.ops.filter((o): o is typeof o & HistogramObserve => o.name === LATENCY);
    expect(ops.length).toBe(values.size);
    for (const op of ops) {
      const vs = values.get(`${op.labels.symbol}|${op.labels.status}`)!;
      expect(op.native).toEqual(observeNative(vs, 3, 0.0001).native);
      expect(op.count).toBe(vs.length);
      expect(op.counts.reduce((a, b) => a + b, 0)).toBe(vs.length);
    }
    for (const op of d.apply.ops)
      if (op.name === 'aria_slippage_pips') expect((op as HistogramObserve).native).toBeUndefined();
  });

  const nativeOnly = {
    name: 'svc',
    metrics: {
      rtt_seconds: { type: 'histogram', help: 'Round trip.', labels: ['peer'], native: { schema: 1 } },
    },
    events: {
      ping: {
        fields: {
          peer: { type: 'string', maxLength: 20 },
          rtt: { type: 'number', minimum: -10, maximum: 2 ** 52 },
        },
        emit: [{ metric: 'rtt_seconds', op: 'observe', value: 'rtt' }],
      },
    },
  };

  it('a native-only histogram (no classic buckets): one +Inf share and the native buckets', () => {
    const profile = compileProfile(nativeOnly);
    const vs = [0, -1.5, 0.25, 3, 2 ** 52, 7, 7];
    const d = decode(
      vs.map((rtt, i) => ({ kind: 'ping', time: T0 + i, peer: 'a', rtt })),
      { profile },
    );
    expect(d.rejected).toEqual([]);
    const op = d.apply.ops[0] as HistogramObserve;
    expect([op.bounds, op.counts, op.count]).toEqual([[], [vs.length], vs.length]);
    expect(op.native).toEqual(observeNative(vs, 1, 0).native);
  });

  const withNative = (native: unknown, type = 'histogram', buckets?: number[]) => ({
    ...nativeOnly,
    metrics: { rtt_seconds: { type, help: 'x', ...(buckets ? { buckets } : {}), native } },
    events: {},
  });
  const H = 'histogram';
  const bad: [string, unknown, string, RegExp, string][] = [
    ['schema 9', { schema: 9 }, 'metrics.rtt_seconds.native.schema', /8/, H],
    ['schema -53 (custom buckets)', { schema: -53 }, 'metrics.rtt_seconds.native.schema', /-4/, H],
    ['schema a string', { schema: '3' }, 'metrics.rtt_seconds.native.schema', /integer/, H],
    ['fractional schema', { schema: 1.5 }, 'metrics.rtt_seconds.native.schema', /integer/, H],
    [
      'negative zero threshold',
      { schema: 1, zeroThreshold: -1 },
      'metrics.rtt_seconds.native.zeroThreshold',
      /0/,
      H,
    ],
    [
      'infinite zero threshold',
      { schema: 1, zeroThreshold: Infinity },
      'metrics.rtt_seconds.native.zeroThreshold',
      /finite|number/,
      H,
    ],
    ['unknown key', { schema: 1, factor: 1.1 }, 'metrics.rtt_seconds.native', /./, H],
    ['__proto__ key', JSON.parse('{"schema":1,"__proto__":{"x":1}}'), 'metrics.rtt_seconds.native', /./, H],
    ['not an object', 3, 'metrics.rtt_seconds.native', /object/, H],
    ['native on a counter', { schema: 1 }, 'metrics.rtt_seconds.native', /only histograms/, 'counter'],
  ];
  for (const shape of [
    ['TypeBox', (d: unknown) => compileProfile(d)],
    ['lean', (d: unknown) => compileWith(d, 'profile', LEAN_SHAPE)],
  ] as const) {
    it.each(bad)(
      `${shape[0]} loader refuses a bad native declaration: %s`,
      (_, native, path, message, type) => {
        const e = (() => {
          try {
            shape[1](withNative(native, type));
          } catch (err) {
            return err;
          }
          throw new Error('accepted');
        })();
        expect(e).toBeInstanceOf(ProfileError);
        const p = (e as ProfileError).problems.find((x) => x.path.startsWith(path));
        expect(p).toBeDefined();
        expect(p!.message).toMatch(message);
      },
    );
  }

  it('a histogram without buckets and without native is refused naming buckets', () => {
    expect(() => compileProfile(withNative(undefined))).toThrow(/metrics\.rtt_seconds\.buckets: is required/);
  });
});
