/**
 * Ingest core benchmark: decode → validate → map → pre-aggregate (`decodeMessage`) on one core, for
 * realistic ARIA messages (hundreds of events each), against `JSON.parse` of the same bodies in the
 * same run. Targets (issue 4): >= 1,000,000 events/s and at most 2x the JSON.parse time.
 *
 * The ARIA profile's execution latency is native + classic since 2026-12-03 (ca108a2): each latency
 * observation also lands in an exponential bucket. The `classicOnly*` rows decode the same bodies with
 * that profile minus its `native` declarations, in the same rounds, so the figure stays comparable with
 * records taken before then (docs/benchmarks.md); the targets are judged on the real profile.
 *
 *   npx tsx bench/ingest.ts            # full run
 *   npx tsx bench/ingest.ts --quick    # a few seconds
 */
import { decodeMessage } from '../shared/ingest/decode';
import ariaDefinition from '../shared/profiles/aria.json';
import { compileProfile } from '../shared/profiles/compile';
import { ARIA_PROFILE } from '../shared/profiles/load';
import { BENCH_ERRORS, BENCH_SYMBOLS, rng } from './fixtures';

/** The ARIA profile as it was before its latency histogram became native: classic buckets only. */
export const ARIA_CLASSIC_ONLY = compileProfile(
  {
    ...ariaDefinition,
    metrics: Object.fromEntries(
      Object.entries(ariaDefinition.metrics).map(([name, m]) => {
        const { native: _, ...classic } = m as typeof m & { native?: unknown };
        return [name, classic];
      }),
    ),
  },
  'aria without native buckets (bench)',
);

const SYMBOLS = BENCH_SYMBOLS;
const ERRORS = BENCH_ERRORS;

/** One realistic ARIA producer batch: mostly executions, some errors, P&L, performance and health events. */
export function ariaMessage(seed: number, events: number, t0 = 1_767_225_600_000): string {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < events; i++) {
    const time = t0 + i * 7;
    const x = r();
    if (x < 0.8) {
      const e: Record<string, unknown> = {
        kind: 'execution',
        time,
        symbol: pick(SYMBOLS),
        action: r() < 0.5 ? 'BUY' : 'SELL',
        status: r() < 0.95 ? 'success' : 'failed',
        regime: pick(['T', 'R', 'B']),
        latency_seconds: Math.round(r() ** 3 * 2_000_000) / 1_000_000,
        slippage_pips: Math.round(r() ** 2 * 300) / 10,
      };
      if (r() < 0.7) e.volume = Math.round(r() * 500) / 100;
      out.push(e);
    } else if (x < 0.88) out.push({ kind: 'error', time, error_type: pick(ERRORS), symbol: pick(SYMBOLS) });
    else if (x < 0.94)
      out.push({
        kind: 'pnl',
        time,
        type: r() < 0.5 ? 'real_time' : 'daily',
        value: Math.round((r() - 0.4) * 1e6) / 100,
      });
    else if (x < 0.98)
      out.push({
        kind: 'performance',
        time,
        win_rate: Math.round(r() * 1000) / 1000,
        drawdown_percent: Math.round(r() * 2000) / 100,
      });
    else if (x < 0.99) out.push({ kind: 'connection', time, connected: r() < 0.9 });
    else out.push({ kind: 'kill_switch', time, active: r() < 0.05 });
  }
  return JSON.stringify({
    v: 1,
    id: `bench-${seed}`,
    group: { job: 'aria', instance: 'bench-1' },
    events: out,
  });
}

/** A batch of generic metric operations (what a service without a profile sends). */
export function genericMessage(seed: number, events: number, t0 = 1_767_225_600_000): string {
  const r = rng(seed);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < events; i++) {
    const time = t0 + i;
    const route = `/api/v${Math.floor(r() * 3)}/item`;
    const x = r();
    if (x < 0.5)
      out.push({
        kind: 'counter',
        time,
        name: 'http_requests_total',
        labels: { route, code: r() < 0.9 ? '200' : '500' },
      });
    else if (x < 0.8) {
      out.push({
        kind: 'histogram',
        time,
        name: 'http_request_duration_seconds',
        labels: { route },
        value: r(),
        buckets: [0.01, 0.05, 0.1, 0.5, 1],
      });
    } else
      out.push({
        kind: 'gauge',
        time,
        op: 'set',
        name: 'queue_depth',
        labels: { queue: `q${Math.floor(r() * 4)}` },
        value: Math.floor(r() * 100),
      });
  }
  return JSON.stringify({ v: 1, group: { job: 'svc' }, events: out });
}

/**
 * CPU time (user + system, in ns) of one call. CPU time rather than wall time: on a shared machine the
 * process waits for a core, and that wait is not the code's cost. (Node 20 has no per-thread CPU clock;
 * this is the process's, so background GC and JIT threads count too, which only makes the figure worse.)
 */
function once(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) * 1000;
}

/**
 * Best time of each function over `rounds` interleaved rounds: on a shared machine the minimum is the
 * run least disturbed by other processes, and interleaving exposes every function to the same drift.
 */
function bestOf(rounds: number, fns: (() => void)[]): number[] {
  const best = fns.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      best[i] = Math.min(best[i]!, once(fn));
    });
  }
  return best;
}

export async function run(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const eventsPerMessage = 300;
  const messages = opts.quick ? 100 : 400;
  const rounds = opts.quick ? 15 : 40;
  const bodies = Array.from({ length: messages }, (_, i) => ariaMessage(i + 1, eventsPerMessage));
  const totalEvents = messages * eventsPerMessage;
  const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  const nowMs = 1_767_225_600_000 + 10_000_000;
  let sink = 0;
  const parse = () => {
    for (const b of bodies) sink += (JSON.parse(b) as { events: unknown[] }).events.length;
  };
  const decode = () => {
    for (const b of bodies) sink += decodeMessage(b, 'fallback', ARIA_PROFILE, { nowMs }).apply.ops.length;
  };
  const classic = () => {
    for (const b of bodies)
      sink += decodeMessage(b, 'fallback', ARIA_CLASSIC_ONLY, { nowMs }).apply.ops.length;
  };
  const slow = () => {
    for (const b of bodies)
      sink += decodeMessage(b, 'fallback', ARIA_PROFILE, { nowMs, fastPath: false }).apply.ops.length;
  };
  const generic = Array.from({ length: messages }, (_, i) => genericMessage(i + 1, eventsPerMessage));
  const genericParse = () => {
    for (const b of generic) sink += (JSON.parse(b) as { events: unknown[] }).events.length;
  };
  const genericDecode = () => {
    for (const b of generic) sink += decodeMessage(b, 'fallback', ARIA_PROFILE, { nowMs }).apply.ops.length;
  };
  // Phase 1, the target: valid ARIA messages only. Warm up (JIT), then measure interleaved.
  parse();
  decode();
  classic();
  const [parseNs, decodeNs, classicNs] = bestOf(rounds, [parse, decode, classic]) as [number, number, number];
  // Phase 2, for information: generic operations, and the full validator alone (no generated fast path).
  // Run after phase 1 because they make the shared code paths polymorphic, as a mixed production load does.
  for (const fn of [slow, genericParse, genericDecode]) fn();
  const [slowNs, genericParseNs, genericNs, mixedDecodeNs] = bestOf(rounds, [
    slow,
    genericParse,
    genericDecode,
    decode,
  ]) as [number, number, number, number];
  const sample = decodeMessage(bodies[0]!, 'fallback', ARIA_PROFILE, { nowMs });
  const result = {
    messages,
    eventsPerMessage,
    avgMessageBytes: Math.round(bytes / messages),
    jsonParseEventsPerSec: Math.round(totalEvents / (parseNs / 1e9)),
    decodeEventsPerSec: Math.round(totalEvents / (decodeNs / 1e9)),
    decodeMBPerSec: Math.round((bytes / (decodeNs / 1e9) / 1e6) * 10) / 10,
    ratioToJsonParse: Math.round((decodeNs / parseNs) * 100) / 100,
    classicOnlyEventsPerSec: Math.round(totalEvents / (classicNs / 1e9)),
    classicOnlyRatioToJsonParse: Math.round((classicNs / parseNs) * 100) / 100,
    opsPerMessage: sample.apply.ops.length,
    afterMixedLoadEventsPerSec: Math.round(totalEvents / (mixedDecodeNs / 1e9)),
    withoutFastPathEventsPerSec: Math.round(totalEvents / (slowNs / 1e9)),
    genericEventsPerSec: Math.round(totalEvents / (genericNs / 1e9)),
    genericRatioToJsonParse: Math.round((genericNs / genericParseNs) * 100) / 100,
    targetEventsPerSec: 1_000_000,
    targetRatio: 2,
    sink: sink > 0,
  };
  return result;
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  run({ quick }).then((r) => {
    console.log('ingest core (one core), ARIA messages');
    console.table(
      Object.entries(r)
        .filter(([k]) => k !== 'sink')
        .map(([metric, value]) => ({ metric, value })),
    );
    const ok = (r.decodeEventsPerSec as number) >= 1_000_000 && (r.ratioToJsonParse as number) <= 2;
    console.log(ok ? 'targets met' : 'TARGETS MISSED');
  });
}
