/**
 * What the soak's producers publish: the ARIA mix through the real publishers (executions with latency
 * and slippage histograms and volumes, errors, P&L sets, counters, gauge deltas, payload histograms,
 * gauge sets), and raw messages the pipeline must dead-letter (whole, or one invalid event among valid
 * ones). Every valid event is added to the independent count as it is published.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AccruePublisher } from '../../shared/client';
import { rng } from '../fixtures';
import type { ExpectedTotals } from './expected';
import type { FaultLog } from './faults';
import { queueDepth } from './queues';

const SYMBOLS = ['EURUSD', 'GBPUSD', 'XAUUSD'] as const;
const REGIME: Record<string, 'T' | 'R' | 'B'> = { EURUSD: 'T', GBPUSD: 'R', XAUUSD: 'B' };
const ERROR_TYPES = ['timeout', 'requote'] as const;
const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SLIPPAGE_BOUNDS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 50];
const SIZE_BOUNDS = [100, 500, 1000, 2500];
const SHARDS = 4;

/** Raw messages sent past the publisher: malformed ones (whole message to the DLQ) and mixed ones. */
export class RawMessages {
  readonly ids = { malformed: new Set<string>(), mixed: new Set<string>() };
  private seq = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly expected: ExpectedTotals,
    private readonly faults: FaultLog,
  ) {}

  get sent(): number {
    return this.seq;
  }

  /** One malformed message (four variants in turn) and one with one invalid event among valid ones. */
  async send(): Promise<void> {
    const RAW_GROUP = { job: 'soak', instance: 'raw' };
    const n = this.seq++;
    const variants = [
      `{"v":1,"id":"soak-trunc-${n}","group":{"job":"soak"},"events":[{"kind":"counter"`,
      JSON.stringify({ v: 2, id: `soak-v2-${n}`, group: { job: 'soak' }, events: [] }),
      JSON.stringify({ v: 1, id: `soak-noarr-${n}`, group: { job: 'soak' }, events: { kind: 'counter' } }),
      JSON.stringify({ v: 1, id: `soak-extra-${n}`, group: { job: 'soak' }, events: [], extra: true }),
    ];
    const bad = variants[n % variants.length]!;
    const time = Date.now() - 1000;
    const mixed = JSON.stringify({
      v: 1,
      id: `soak-mixed-${n}`,
      group: RAW_GROUP,
      events: [
        { kind: 'counter', time, name: 'soak_raw_total', labels: { kind: 'mixed' }, value: 2 },
        { kind: 'counter', time, name: 'soak_raw_total', labels: { kind: 'mixed' }, value: -1 },
        { kind: 'counter', time, name: 'soak_raw_total', labels: { kind: 'mixed\n"quoted"' }, value: 3 },
      ],
    });
    const out = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: [
          { Id: 'bad', MessageBody: bad },
          { Id: 'mixed', MessageBody: mixed },
        ],
      }),
    );
    if (out.Failed?.length) throw new Error(`raw send failed: ${JSON.stringify(out.Failed)}`);
    for (const s of out.Successful ?? []) {
      if (s.Id === 'bad') this.ids.malformed.add(s.MessageId!);
      else this.ids.mixed.add(s.MessageId!);
      this.faults.faulted.add(s.Id === 'bad' ? s.MessageId! : `soak-mixed-${n}`);
    }
    this.faults.counts.malformed += 2;
    this.expected.add(RAW_GROUP, 'soak_raw_total', { kind: 'mixed' }, 2);
    this.expected.add(RAW_GROUP, 'soak_raw_total', { kind: 'mixed\n"quoted"' }, 3);
  }
}

export interface AriaMixOptions {
  readonly events: number;
  readonly seed: number;
  readonly publishers: readonly AccruePublisher[];
  readonly expected: ExpectedTotals;
  readonly faults: FaultLog;
  readonly raw: RawMessages;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** The producers wait while the queue holds more messages than this (memory stays bounded). */
  readonly maxQueueDepth: number;
  readonly log: (line: string) => void;
  /** A progress fragment for the log (runner counts, RSS). */
  readonly progress: () => string;
}

/**
 * Publishes `events` ARIA events round-robin over the publishers (group `{job="soak", instance="p<i>"}`),
 * with the raw messages spread over the run; returns the number published.
 */
export async function publishAriaMix(o: AriaMixOptions): Promise<number> {
  const r = rng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const t0 = Date.now() - 3_600_000;
  const estMessages = Math.max(1, o.events / 450);
  const rawEvery = Math.max(
    1,
    Math.floor(o.events / Math.max(1, Math.round(estMessages * o.faults.rate('malformed')))),
  );
  let lastDepthCheck = 0;
  for (let i = 0; i < o.events; i++) {
    const p = i % o.publishers.length;
    const pub = o.publishers[p]!;
    const group = { job: 'soak', instance: `p${p}` };
    const x = r();
    const symbol = pick(SYMBOLS);
    if (x < 0.55) {
      const action = r() < 0.5 ? 'BUY' : 'SELL';
      const status = r() < 0.9 ? 'success' : 'failed';
      const latency = Math.floor(r() ** 3 * 4096) / 1024;
      const slippage = Math.floor(r() ** 2 * 800) / 16;
      const volume = 1 + Math.floor(r() * 5);
      pub.execution({
        symbol,
        action,
        status,
        regime: REGIME[symbol]!,
        latency_seconds: latency,
        slippage_pips: slippage,
        volume,
        time: t0 + (i % 1_000_000),
      });
      const regime = REGIME[symbol]!;
      o.expected.observe(
        group,
        'aria_execution_latency_seconds',
        { symbol, action, status, regime },
        LATENCY_BOUNDS,
        latency,
      );
      o.expected.observe(group, 'aria_slippage_pips', { symbol, action, regime }, SLIPPAGE_BOUNDS, slippage);
      o.expected.add(group, 'aria_trade_volume_total', { symbol, action }, volume);
    } else if (x < 0.62) {
      const error_type = pick(ERROR_TYPES);
      pub.error({ error_type, symbol, time: t0 + (i % 1_000_000) });
      o.expected.add(group, 'aria_errors_total', { error_type, symbol }, 1);
    } else if (x < 0.64) {
      const type = r() < 0.5 ? 'real_time' : 'daily';
      const value = Math.floor((r() - 0.4) * 1e6) / 4;
      const time = t0 + Math.floor(r() * 3_000_000);
      pub.pnl({ type, value, time });
      o.expected.set(group, 'aria_pnl_dollars', { type }, time, value);
    } else if (x < 0.8) {
      const shard = `s${Math.floor(r() * SHARDS)}`;
      const value = 1 + Math.floor(r() * 10);
      pub.counter({ name: 'soak_units_total', labels: { shard }, value, time: t0 + (i % 1_000_000) });
      o.expected.add(group, 'soak_units_total', { shard }, value);
    } else if (x < 0.88) {
      const shard = `s${Math.floor(r() * SHARDS)}`;
      const value = 1 + Math.floor(r() * 5);
      if (r() < 0.5) {
        pub.gauge.inc({ name: 'soak_balance', labels: { shard }, value, time: t0 + (i % 1_000_000) });
        o.expected.add(group, 'soak_balance', { shard }, value);
      } else {
        pub.gauge.dec({ name: 'soak_balance', labels: { shard }, value, time: t0 + (i % 1_000_000) });
        o.expected.add(group, 'soak_balance', { shard }, -value);
      }
    } else if (x < 0.97) {
      const shard = `s${Math.floor(r() * SHARDS)}`;
      const value = Math.floor(r() * 5000);
      pub.histogram.observe({
        name: 'soak_payload_bytes',
        labels: { shard },
        value,
        buckets: SIZE_BOUNDS,
        time: t0 + (i % 1_000_000),
      });
      o.expected.observe(group, 'soak_payload_bytes', { shard }, SIZE_BOUNDS, value);
    } else {
      const shard = `s${Math.floor(r() * SHARDS)}`;
      const value = Math.floor(r() * 1e6);
      const time = t0 + Math.floor(r() * 3_000_000);
      pub.gauge.set({ name: 'soak_last_value', labels: { shard }, value, time });
      o.expected.set(group, 'soak_last_value', { shard }, time, value);
    }
    if (o.faults.rate('malformed') > 0 && i % rawEvery === rawEvery - 1) await o.raw.send();
    // Back-pressure: bounded producer buffers and a bounded queue, so memory stays flat however long it runs.
    if (i % 1000 === 999) {
      if (pub.stats().eventsBuffered > 20_000) await pub.flush();
      const now = performance.now();
      if (now - lastDepthCheck > 200) {
        lastDepthCheck = now;
        while ((await queueDepth(o.sqs, o.queueUrl)) > o.maxQueueDepth) await sleep(100);
      }
      if (i % 100_000 === 99_999) o.log(`published ${i + 1} events; ${o.progress()}`);
    }
  }
  if (o.faults.rate('malformed') > 0 && o.raw.sent === 0) await o.raw.send();
  return o.events;
}
