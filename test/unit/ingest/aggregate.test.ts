import { seriesKey } from '../../../shared/model/identity';
import { ARIA_PROFILE } from '../../../shared/profiles/load';
import type { MetricOp } from '../../../shared/store/types';
import { decode, execution, type Json, T0 } from './helpers';

/** Deterministic PRNG (mulberry32). */
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

const SYMBOLS = ['EURUSD', 'GBPUSD', 'USDJPY', 'XAU"USD', 'line\nbreak', 'constructor'];

function randomAriaEvents(seed: number, n: number): Json[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: Json[] = [];
  for (let i = 0; i < n; i++) {
    // Times collide on purpose (ties in last-writer-wins) and are not in order.
    const time = T0 + Math.floor(r() * 50);
    const x = r();
    if (x < 0.6) {
      const e = execution({
        time,
        symbol: pick(SYMBOLS),
        action: pick(['BUY', 'SELL']),
        status: pick(['success', 'failed']),
        regime: pick(['T', 'R', 'B']),
        // Values on bucket boundaries included: le is inclusive.
        latency_seconds: pick([0, 0.001, 0.0011, 0.05, 0.3, 1, 9.99, 10, 10.01, 3600]),
        slippage_pips: Math.floor(r() * 600) / 10,
      });
      if (r() < 0.5) e.volume = Math.floor(r() * 10);
      out.push(e);
    } else if (x < 0.75)
      out.push({ kind: 'error', time, error_type: pick(['timeout', 'requote']), symbol: pick(SYMBOLS) });
    else if (x < 0.85)
      out.push({
        kind: 'pnl',
        time,
        type: pick(['real_time', 'daily']),
        value: Math.floor(r() * 2000) - 1000,
      });
    else if (x < 0.93)
      out.push({
        kind: 'performance',
        time,
        win_rate: Math.floor(r() * 100) / 100,
        drawdown_percent: Math.floor(r() * 50),
      });
    else if (x < 0.97) out.push({ kind: 'connection', time, connected: r() < 0.5 });
    else out.push({ kind: 'kill_switch', time, active: r() < 0.5 });
  }
  return out;
}

interface RefSeries {
  kind: MetricOp['kind'];
  value?: number;
  timeMs?: number;
  counts?: number[];
  sum?: number;
  count?: number;
}

/** A naive reference: one event at a time, straight from the ARIA specification, no caches. */
function reference(events: Json[]): Map<string, RefSeries> {
  const out = new Map<string, RefSeries>();
  const metric = (name: string) => ARIA_PROFILE.metricsByName.get(name)!;
  const get = (kind: MetricOp['kind'], name: string, labels: Record<string, string>): RefSeries => {
    const k = `${kind} ${seriesKey(name, labels)}`;
    let s = out.get(k);
    if (!s) {
      s = { kind };
      out.set(k, s);
    }
    return s;
  };
  const observe = (name: string, labels: Record<string, string>, v: number) => {
    const bounds = metric(name).bounds;
    const s = get('histogram_observe', name, labels);
    s.counts ??= new Array(bounds.length + 1).fill(0);
    let idx = bounds.findIndex((b) => v <= b);
    if (idx === -1) idx = bounds.length;
    s.counts[idx]!++;
    s.sum = (s.sum ?? 0) + v;
    s.count = (s.count ?? 0) + 1;
  };
  const inc = (name: string, labels: Record<string, string>, v: number) => {
    const s = get('counter_inc', name, labels);
    s.value = (s.value ?? 0) + v;
  };
  const set = (name: string, labels: Record<string, string>, v: number, t: number) => {
    const s = get('gauge_set', name, labels);
    if (s.timeMs === undefined || t > s.timeMs || (t === s.timeMs && v > s.value!)) {
      s.timeMs = t;
      s.value = v;
    }
  };
  for (const e of events) {
    const t = e.time as number;
    switch (e.kind) {
      case 'execution': {
        const { symbol, action, status, regime } = e as Record<string, string>;
        observe(
          'aria_execution_latency_seconds',
          { symbol: symbol!, action: action!, status: status!, regime: regime! },
          e.latency_seconds as number,
        );
        observe(
          'aria_slippage_pips',
          { symbol: symbol!, action: action!, regime: regime! },
          e.slippage_pips as number,
        );
        inc(
          'aria_trade_volume_total',
          { symbol: symbol!, action: action! },
          (e.volume as number | undefined) ?? 1,
        );
        break;
      }
      case 'error':
        inc('aria_errors_total', { error_type: e.error_type as string, symbol: e.symbol as string }, 1);
        break;
      case 'pnl':
        set('aria_pnl_dollars', { type: e.type as string }, e.value as number, t);
        break;
      case 'performance':
        set('aria_win_rate_ratio', {}, e.win_rate as number, t);
        set('aria_drawdown_percent', {}, e.drawdown_percent as number, t);
        break;
      case 'connection':
        set('aria_mt5_connection_status', {}, e.connected ? 1 : 0, t);
        break;
      case 'kill_switch':
        set('aria_kill_switch_active', {}, e.active ? 1 : 0, t);
        break;
    }
  }
  return out;
}

function opsByKey(ops: readonly MetricOp[]): Map<string, RefSeries> {
  const out = new Map<string, RefSeries>();
  for (const op of ops) {
    const k = `${op.kind} ${seriesKey(op.name, op.labels)}`;
    expect(out.has(k)).toBe(false); // at most one op of a kind per series
    if (op.kind === 'histogram_observe') {
      expect(op.count).toBe(op.counts.reduce((a, b) => a + b, 0));
      expect(op.counts).toHaveLength(op.bounds.length + 1);
      out.set(k, { kind: op.kind, counts: [...op.counts], sum: op.sum, count: op.count });
    } else if (op.kind === 'gauge_set') out.set(k, { kind: op.kind, value: op.value, timeMs: op.timeMs });
    else out.set(k, { kind: op.kind, value: op.value });
  }
  return out;
}

describe('pre-aggregation against a naive reference', () => {
  it.each([
    [1, 10],
    [2, 300],
    [3, 1000],
    [4, 10_000],
  ])('seed %d, %d events: exact totals, one op per series', (seed, n) => {
    const events = randomAriaEvents(seed, n);
    const r = decode(events, { maxMessageBytes: 10_000_000 });
    expect(r.rejected).toEqual([]);
    expect(r.acceptedCount).toBe(n);
    const got = opsByKey(r.apply.ops);
    const want = reference(events);
    expect(got).toEqual(want);
    expect(r.apply.eventTimeMs).toBe(Math.max(...events.map((e) => e.time as number)));
  });

  it('gives the same result whatever the order of the events (integer values)', () => {
    const events = randomAriaEvents(7, 2000);
    const shuffled = [...events];
    const r = rng(99);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const norm = (m: Map<string, RefSeries>) => {
      // Histogram sums are float sums; compare them rounded, everything else exactly.
      for (const v of m.values()) if (v.sum !== undefined) v.sum = Math.round(v.sum * 1e6) / 1e6;
      return m;
    };
    const a = norm(opsByKey(decode(events, { maxMessageBytes: 10_000_000 }).apply.ops));
    const b = norm(opsByKey(decode(shuffled, { maxMessageBytes: 10_000_000 }).apply.ops));
    expect(b).toEqual(a);
  });

  it('keeps the newest gauge set by event time, the larger value on ties', () => {
    const r = decode([
      { kind: 'pnl', time: T0 + 5, type: 'daily', value: 10 },
      { kind: 'pnl', time: T0 + 9, type: 'daily', value: -3 },
      { kind: 'pnl', time: T0 + 1, type: 'daily', value: 99 },
      { kind: 'pnl', time: T0 + 7, type: 'real_time', value: 4 },
      { kind: 'pnl', time: T0 + 7, type: 'real_time', value: 6 },
      { kind: 'pnl', time: T0 + 7, type: 'real_time', value: 5 },
    ]);
    expect(r.apply.ops).toEqual([
      expect.objectContaining({
        kind: 'gauge_set',
        name: 'aria_pnl_dollars',
        labels: { type: 'daily' },
        value: -3,
        timeMs: T0 + 9,
      }),
      expect.objectContaining({
        kind: 'gauge_set',
        name: 'aria_pnl_dollars',
        labels: { type: 'real_time' },
        value: 6,
        timeMs: T0 + 7,
      }),
    ]);
  });

  it('merges generic events on a profile metric into the same series as the domain events', () => {
    const r = decode([
      execution({ symbol: 'EURUSD', action: 'SELL', volume: 2 }),
      {
        kind: 'counter',
        time: T0,
        name: 'aria_trade_volume_total',
        labels: { action: 'SELL', symbol: 'EURUSD' },
        value: 5,
      },
      execution({ symbol: 'EURUSD', action: 'SELL', volume: 3 }),
      { kind: 'gauge', time: T0 + 10, op: 'set', name: 'aria_kill_switch_active', value: 1 },
      { kind: 'kill_switch', time: T0 + 5, active: false },
    ]);
    expect(r.rejected).toEqual([]);
    const volume = r.apply.ops.filter((o) => o.name === 'aria_trade_volume_total');
    expect(volume).toEqual([
      expect.objectContaining({
        kind: 'counter_inc',
        labels: { symbol: 'EURUSD', action: 'SELL' },
        value: 10,
      }),
    ]);
    const ks = r.apply.ops.filter((o) => o.name === 'aria_kill_switch_active');
    expect(ks).toEqual([expect.objectContaining({ kind: 'gauge_set', value: 1, timeMs: T0 + 10 })]);
  });

  it('aggregates generic operations per series whatever the label order, gauge inc/dec as one add', () => {
    const r = decode([
      { kind: 'counter', time: T0, name: 'jobs_total', labels: { a: '1', b: '2' }, value: 2, help: 'Jobs.' },
      { kind: 'counter', time: T0, name: 'jobs_total', labels: { b: '2', a: '1' } },
      { kind: 'gauge', time: T0, op: 'inc', name: 'inflight', value: 5 },
      { kind: 'gauge', time: T0, op: 'dec', name: 'inflight', value: 2 },
      { kind: 'gauge', time: T0, op: 'dec', name: 'inflight' },
      { kind: 'gauge', time: T0 + 1, op: 'set', name: 'inflight', value: 7 },
      { kind: 'histogram', time: T0, name: 'size_bytes', value: 100, buckets: [10, 100, 1000] },
      { kind: 'histogram', time: T0, name: 'size_bytes', value: 5000, buckets: [10, 100, 1000] },
    ]);
    expect(r.rejected).toEqual([]);
    expect(r.apply.ops).toEqual([
      { kind: 'counter_inc', name: 'jobs_total', help: 'Jobs.', labels: { a: '1', b: '2' }, value: 3 },
      { kind: 'gauge_set', name: 'inflight', labels: {}, value: 7, timeMs: T0 + 1 },
      { kind: 'gauge_add', name: 'inflight', labels: {}, value: 2 },
      {
        kind: 'histogram_observe',
        name: 'size_bytes',
        labels: {},
        bounds: [10, 100, 1000],
        counts: [0, 1, 0, 1],
        sum: 5100,
        count: 2,
      },
    ]);
    for (const op of r.apply.ops) expect(Object.getPrototypeOf(op.labels)).toBeNull();
  });

  it('contributes nothing from a rejected event', () => {
    const good = decode([execution({ volume: 1 })]).apply.ops;
    const withBad = decode([
      execution({ volume: 1 }),
      execution({ volume: 1, regime: 'nope' }),
      execution({ volume: -1 }),
    ]).apply.ops;
    expect(withBad).toEqual(good);
  });
});
