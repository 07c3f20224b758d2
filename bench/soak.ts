/**
 * Fault-injection soak (issue 8): N events through the local pipeline — the real producer
 * (`AccruePublisher`) → SQS emulator → the local event-source runner → `processBatch` → a store (memory,
 * or DynamoDB on DynamoDB Local) — with faults injected on every layer, ending with exact totals for
 * every series checked against an independent count kept on the producer side.
 *
 * Faults (each kind gets `faultRate / 5` of the messages, batches or calls it acts on):
 * - `crash-after-commit`: the runner's `beforeDelete` hook throws after the store committed: the whole
 *   batch stays on the queue and comes back (a worker dying between commit and delete);
 * - `throttle`: a Store wrapper answers `failed` (TransientError) for a message, which goes back to SQS
 *   as a batch item failure; on DynamoDB also an SDK middleware throwing `ThrottlingException` before a
 *   TransactWriteItems (the store's own retry) and `lost-response`, a `TimeoutError` thrown AFTER
 *   DynamoDB committed the transaction (the retry must find the ledger item and not count twice);
 * - `visibility-expiry`: an apply is slowed beyond the visibility timeout, so another poller receives
 *   the same messages meanwhile and both attempts commit;
 * - `duplicate-send`: an SQS middleware on the producer's client lets a SendMessageBatch through, then
 *   throws a network error: the publisher re-sends the same bodies (same idempotency keys, new SQS ids);
 * - `malformed`: raw messages the pipeline must dead-letter (truncated JSON, wrong version, `events`
 *   not a list, unknown envelope field) and messages with one invalid event among valid ones (the
 *   valid events count, the invalid one goes to the DLQ with its reason).
 *
 * Checks: every series of the soak groups equals the producer-side count (counters, gauge deltas,
 * histogram buckets / sum / count exact; gauge sets: the newest event time wins), nothing extra; every
 * malformed message in the DLQ with its reason and nothing else there; each fault kind injected; the
 * queue drained; the producer lost nothing. RSS is sampled throughout (max, trend).
 *
 *   npm run soak                                   # 1,000,000 events, DynamoDB Local
 *   npm run soak -- --events 200000 --store memory --fault-rate 0.2
 *   node --expose-gc --import tsx bench/soak.ts --events 3000000   # heap samples after a full GC
 *
 * Options: --events N, --fault-rate R (0..1, default 0.2), --store memory|dynamodb (default dynamodb),
 * --seed N, --concurrency N (pollers, default 4), --faults kind,kind (only these kinds; default all),
 * --json <path> (report file; default bench/results/soak-<timestamp>.json, always written).
 * Prints the verdict line `N passed, M failed` and exits non-zero when a check failed. The emulators are
 * started with test/support/emulators.mjs and stopped by PID at the end.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  DLQ_ATTR_DETAIL,
  DLQ_ATTR_REASON,
  DLQ_ATTR_SOURCE,
  SqsDeadLetterSink,
} from '../shared/aws/dead-letter';
import { ensureQueuePair } from '../shared/aws/queues';
import { SqsEventSourceRunner } from '../shared/aws/sqs-runner';
import { AccruePublisher } from '../shared/client';
import { type PipelineLogger, processBatch } from '../shared/ingest/pipeline';
import { TransientError } from '../shared/model/errors';
import { labelsKey } from '../shared/model/identity';
import type { HistogramSeries, Labels, ScalarSeries } from '../shared/model/types';
import { ARIA_PROFILE } from '../shared/profiles';
import { MemoryStore } from '../shared/store';
import { createTables, DynamoStore, deleteTables } from '../shared/store/dynamodb';
import type { ApplyRequest, ApplyResult, Store, StoreSnapshot } from '../shared/store/types';
import { rng } from './fixtures';

export const FAULT_KINDS = [
  'crash-after-commit',
  'throttle',
  'visibility-expiry',
  'duplicate-send',
  'malformed',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SoakOptions {
  /** Valid events the producers publish (the malformed raw messages come on top). */
  readonly events: number;
  /** Share of messages / batches / calls each fault layer acts on, split over the 5 kinds. @default 0.2 */
  readonly faultRate?: number;
  readonly store: 'memory' | 'dynamodb';
  readonly sqsEndpoint: string;
  /** Fault kinds to inject (the SDK-level ones apply to DynamoDB only). @default all */
  readonly faultKinds?: readonly (FaultKind | 'throttle-sdk' | 'lost-response')[];
  /** Required for store 'dynamodb'. */
  readonly dynamoEndpoint?: string;
  /** PRNG seed: the same seed gives the same events and fault decisions (timing still varies). @default 1 */
  readonly seed?: number;
  /** Runner pollers (Lambda concurrency). @default 4 */
  readonly concurrency?: number;
  /** Messages per batch. @default 10 */
  readonly batchSize?: number;
  /** Queue visibility timeout (s); slowed applies sleep 1.5x this. @default 2 */
  readonly visibilityTimeoutSeconds?: number;
  /** Producer message size bound (bytes). @default 65536 (one SQS billing chunk) */
  readonly maxMessageBytes?: number;
  /** Producers (groups `{job="soak", instance="p<i>"}`). @default 2 */
  readonly publishers?: number;
  /** The producer waits while the queue holds more messages than this (keeps memory bounded). @default 200 */
  readonly maxQueueDepth?: number;
  /** Gives up (failed check) when the queue isn't drained this long after the last send. @default 600000 */
  readonly drainTimeoutMs?: number;
  /** RSS sample period. @default 1000 */
  readonly rssSampleMs?: number;
  /** Other processes (emulators) whose RSS is sampled too, by name. */
  readonly watchPids?: Readonly<Record<string, number>>;
  /** Fails the RSS check above this. @default 1536 */
  readonly rssLimitMiB?: number;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
}

export interface SoakCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface RssSample {
  readonly tS: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly others: Record<string, number>;
}

export interface SoakReport {
  readonly options: Record<string, unknown>;
  readonly durationS: number;
  readonly eventsPerSec: number;
  readonly eventsPublished: number;
  readonly producer: { messagesSent: number; eventsSent: number; eventsFailed: number; retried: number };
  readonly avgEventsPerMessage: number;
  readonly avgMessageBytes: number;
  readonly rawMessages: { malformed: number; mixed: number };
  readonly faults: Record<FaultKind | 'throttle-sdk' | 'lost-response', number>;
  /** Messages (good and raw) that met at least one fault, over all messages sent. */
  readonly faultedMessageShare: number;
  readonly runner: Record<string, number>;
  readonly deadLetters: { total: number; byReason: Record<string, number> };
  readonly series: number;
  readonly lostEvents: number;
  readonly doubledEvents: number;
  readonly rss: {
    samples: number;
    maxMiB: number;
    firstMiB: number;
    lastMiB: number;
    /** Least-squares slope over the second half of the run. */
    secondHalfSlopeMiBPerMin: number;
    /** V8 heap in use: what the process holds, apart from the allocator's slack. */
    heapMaxMiB: number;
    heapLastMiB: number;
    heapSecondHalfSlopeMiBPerMin: number;
    othersMaxMiB: Record<string, number>;
    /** At most 60 samples, evenly spaced. */
    series: RssSample[];
  };
  readonly checks: SoakCheck[];
  readonly passed: number;
  readonly failed: number;
}

// ------------------------------------------------------------------------------- producer-side model

type Expect =
  | { kind: 'sum'; value: number; events: number; signed: boolean }
  | { kind: 'hist'; bounds: readonly number[]; counts: number[]; sum: number; count: number }
  | { kind: 'set'; timeMs: number; value: number };

/** The independent count: what the store must hold, computed from what the producers published. */
export class ExpectedTotals {
  readonly #m = new Map<string, { group: Labels; name: string; labels: Labels; e: Expect }>();

  #get(group: Labels, name: string, labels: Labels, init: () => Expect): Expect {
    const key = `${labelsKey(group)}\u0001${name}\u0001${labelsKey(labels)}`;
    let x = this.#m.get(key);
    if (!x) {
      x = { group, name, labels, e: init() };
      this.#m.set(key, x);
    }
    return x.e;
  }

  add(group: Labels, name: string, labels: Labels, value: number): void {
    const e = this.#get(group, name, labels, () => ({ kind: 'sum', value: 0, events: 0, signed: false }));
    if (e.kind !== 'sum') throw new Error(`${name}: not a sum`);
    e.value += value;
    e.events++;
    if (value < 0) e.signed = true;
  }

  observe(group: Labels, name: string, labels: Labels, bounds: readonly number[], v: number): void {
    const e = this.#get(group, name, labels, () => ({
      kind: 'hist',
      bounds,
      counts: new Array<number>(bounds.length).fill(0),
      sum: 0,
      count: 0,
    }));
    if (e.kind !== 'hist') throw new Error(`${name}: not a histogram`);
    for (let i = 0; i < bounds.length; i++) if (v <= bounds[i]!) e.counts[i]!++;
    e.sum += v;
    e.count++;
  }

  /** Last writer wins by event time; a tie goes to the larger value (the store contract's rule). */
  set(group: Labels, name: string, labels: Labels, timeMs: number, value: number): void {
    const e = this.#get(group, name, labels, () => ({ kind: 'set', timeMs: -1, value: 0 }));
    if (e.kind !== 'set') throw new Error(`${name}: not a set`);
    if (timeMs > e.timeMs || (timeMs === e.timeMs && value > e.value)) {
      e.timeMs = timeMs;
      e.value = value;
    }
  }

  get size(): number {
    return this.#m.size;
  }

  /**
   * Compares a snapshot's groups whose job is `job` with the model: one check per expected series, one
   * for unexpected series. `lost` / `doubled` add up events missing or counted twice (sums and histogram
   * counts; for a sum of unit increments the difference in value, else in event count equivalents).
   */
  compare(
    snap: StoreSnapshot,
    job: string,
  ): { checks: SoakCheck[]; lost: number; doubled: number; unexpected: string[] } {
    const actual = new Map<string, ScalarSeries | HistogramSeries>();
    for (const g of snap.groups) {
      if (g.key.job !== job) continue;
      for (const f of g.families)
        for (const s of f.series as readonly (ScalarSeries | HistogramSeries)[])
          actual.set(`${labelsKey(g.key)}\u0001${f.name}\u0001${labelsKey(s.labels)}`, s);
    }
    const checks: SoakCheck[] = [];
    let lost = 0;
    let doubled = 0;
    for (const [key, x] of this.#m) {
      const a = actual.get(key);
      actual.delete(key);
      const id = `${x.name}${JSON.stringify(x.labels)} @ ${JSON.stringify(x.group)}`;
      if (!a) {
        checks.push({ name: id, ok: false, detail: 'missing from the store' });
        if (x.e.kind === 'sum') lost += x.e.events;
        else if (x.e.kind === 'hist') lost += x.e.count;
        continue;
      }
      const e = x.e;
      if (e.kind === 'hist') {
        const h = a as HistogramSeries;
        const want = e.bounds.map((le, i) => `${le}:${e.counts[i]}`).join(',');
        const got = (h.buckets ?? []).map((b) => `${b.le}:${b.count}`).join(',');
        const ok = h.count === e.count && h.sum === e.sum && got === want;
        if (h.count < e.count) lost += e.count - h.count;
        if (h.count > e.count) doubled += h.count - e.count;
        checks.push({
          name: id,
          ok,
          detail: ok
            ? `count ${e.count}, sum ${e.sum}`
            : `want count ${e.count} sum ${e.sum} buckets ${want}; got count ${h.count} sum ${h.sum} buckets ${got}`,
        });
      } else {
        const v = (a as ScalarSeries).value;
        const ok = v === e.value;
        // Only a counter-like sum (no negative deltas) says how many events were lost or doubled.
        if (e.kind === 'sum' && !e.signed && !ok) {
          if (v < e.value) lost += e.value - v;
          else doubled += v - e.value;
        }
        checks.push({ name: id, ok, detail: ok ? `${v}` : `want ${e.value}, got ${v}` });
      }
    }
    const unexpected = [...actual.keys()].map((k) => k.replaceAll('\u0001', ' '));
    checks.push({
      name: 'no series the producers did not send',
      ok: unexpected.length === 0,
      detail: unexpected.length === 0 ? 'none' : unexpected.slice(0, 5).join('; '),
    });
    return { checks, lost, doubled, unexpected };
  }
}

// ------------------------------------------------------------------------------------------ helpers

export { rng } from './fixtures';

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const mib = (b: number) => Math.round(b / 104857.6) / 10;
const quiet: PipelineLogger = { debug() {}, info() {}, warn() {}, error() {} };
const CREDENTIALS = { accessKeyId: 'soak', secretAccessKey: 'soak' };
const REGION = 'us-east-1';

const SYMBOLS = ['EURUSD', 'GBPUSD', 'XAUUSD'] as const;
const REGIME: Record<string, 'T' | 'R' | 'B'> = { EURUSD: 'T', GBPUSD: 'R', XAUUSD: 'B' };
const ERROR_TYPES = ['timeout', 'requote'] as const;
const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SLIPPAGE_BOUNDS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 50];
const SIZE_BOUNDS = [100, 500, 1000, 2500];
const SHARDS = 4;

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const a =
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

interface DeadLetterMsg {
  reason: string;
  source: string;
  stage: string;
}

async function drainDlq(sqs: SQSClient, dlqUrl: string): Promise<DeadLetterMsg[]> {
  const out: DeadLetterMsg[] = [];
  for (let empty = 0; empty < 2; ) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!r.Messages?.length) {
      empty++;
      continue;
    }
    for (const m of r.Messages) {
      const a = m.MessageAttributes ?? {};
      let stage = '';
      try {
        stage = String(
          (JSON.parse(a[DLQ_ATTR_DETAIL]?.StringValue ?? '{}') as { stage?: unknown }).stage ?? '',
        );
      } catch {
        stage = '?';
      }
      out.push({
        reason: a[DLQ_ATTR_REASON]?.StringValue ?? '(redriven by the queue)',
        source: a[DLQ_ATTR_SOURCE]?.StringValue ?? m.MessageId ?? '',
        stage,
      });
    }
  }
  return out;
}

/** Wraps a store so that `onApply` can answer (or delay) instead of the real store. */
function wrapStore(
  inner: Store,
  onApply: (reqs: readonly ApplyRequest[]) => Promise<ApplyResult[] | undefined>,
): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'apply')
        return async (reqs: readonly ApplyRequest[]) => (await onApply(reqs)) ?? target.apply(reqs);
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

// --------------------------------------------------------------------------------------------- soak

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const faultRate = opts.faultRate ?? 0.2;
  const perKind = faultRate / FAULT_KINDS.length;
  const enabled = new Set<string>(opts.faultKinds ?? [...FAULT_KINDS, 'throttle-sdk', 'lost-response']);
  const rate = (k: string) => (enabled.has(k) ? perKind : 0);
  const seed = opts.seed ?? 1;
  const visibility = opts.visibilityTimeoutSeconds ?? 2;
  const publishersN = opts.publishers ?? 2;
  const maxQueueDepth = opts.maxQueueDepth ?? 200;
  const log = opts.log ?? (() => {});
  if (!(opts.events > 0) || !Number.isInteger(opts.events))
    throw new Error(`events must be a positive integer, got ${opts.events}`);
  if (!(faultRate >= 0 && faultRate <= 1)) throw new Error(`faultRate must be in 0..1, got ${faultRate}`);
  if (opts.store === 'dynamodb' && !opts.dynamoEndpoint)
    throw new Error('dynamoEndpoint is required for store "dynamodb"');

  const started = performance.now();
  const faultRng = rng(seed * 7919 + 1);
  const faults: SoakReport['faults'] = {
    'crash-after-commit': 0,
    throttle: 0,
    'visibility-expiry': 0,
    'duplicate-send': 0,
    malformed: 0,
    'throttle-sdk': 0,
    'lost-response': 0,
  };
  /** Idempotency keys (or raw SQS ids) that met a fault. */
  const faulted = new Set<string>();

  // RSS sampling.
  const samples: RssSample[] = [];
  // Under `node --expose-gc` every sample follows a full GC, so the heap figure is the live data.
  const gc = (globalThis as { gc?: () => void }).gc;
  const sample = () => {
    gc?.();
    const m = process.memoryUsage();
    const others: Record<string, number> = {};
    for (const [k, pid] of Object.entries(opts.watchPids ?? {})) others[k] = rssOf(pid);
    samples.push({
      tS: (performance.now() - started) / 1000,
      rssMiB: mib(m.rss),
      heapMiB: mib(m.heapUsed),
      others,
    });
  };
  sample();
  const sampler = setInterval(sample, opts.rssSampleMs ?? 1000);
  sampler.unref();

  const sqs = new SQSClient({ endpoint: opts.sqsEndpoint, region: REGION, credentials: CREDENTIALS });
  const name = `soak-${process.pid}-${Date.now().toString(36)}`;
  const { queueUrl, dlqUrl } = await ensureQueuePair(sqs, {
    queueName: name,
    dlqName: `${name}-dlq`,
    visibilityTimeoutSeconds: visibility,
    // High: nothing valid may ever be redriven; malformed messages go to the DLQ through the pipeline.
    maxReceiveCount: 1000,
  });

  // ---- the store, with SDK-level faults on DynamoDB
  let baseStore: Store;
  let ddbCleanup: (() => Promise<void>) | undefined;
  if (opts.store === 'dynamodb') {
    const client = new DynamoDBClient({
      endpoint: opts.dynamoEndpoint!,
      region: REGION,
      credentials: CREDENTIALS,
    });
    const ddbRng = rng(seed * 104729 + 3);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const cmd = (context as { commandName?: string }).commandName;
        if (cmd !== 'TransactWriteItemsCommand') return next(args);
        const x = ddbRng();
        if (x < rate('throttle-sdk') / 2) {
          faults['throttle-sdk']++;
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput (injected)'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
        const out = await next(args);
        if (x >= rate('throttle-sdk') / 2 && x < rate('throttle-sdk') / 2 + rate('lost-response') / 2) {
          faults['lost-response']++;
          // DynamoDB committed; the answer is lost on the way back.
          throw Object.assign(new Error('socket timed out after the request was sent (injected)'), {
            name: 'TimeoutError',
          });
        }
        return out;
      },
      { step: 'initialize', name: 'soakFaults' },
    );
    const tables = { seriesTable: `${name}-series`, ledgerTable: `${name}-ledger` };
    await createTables(client, tables);
    baseStore = await DynamoStore.open({ client, ...tables, ownsClient: false });
    ddbCleanup = async () => {
      await deleteTables(client, tables).catch(() => undefined);
      client.destroy();
    };
  } else {
    baseStore = await MemoryStore.open({});
  }

  // ---- store-level faults: throttled requests, slowed applies (visibility expiry)
  let slowInFlight = 0;
  const store = wrapStore(baseStore, async (reqs) => {
    if (reqs.every((r) => r.group.job === 'accrue')) return undefined; // the pipeline's own metrics
    const pv = rate('visibility-expiry');
    if (pv > 0 && (faults['visibility-expiry'] === 0 || faultRng() < pv)) {
      faults['visibility-expiry']++;
      for (const r of reqs) faulted.add(r.id);
      slowInFlight++;
      try {
        await sleep(visibility * 1500);
        return await baseStore.apply(reqs);
      } finally {
        slowInFlight--;
      }
    }
    const pt = rate('throttle');
    const refused = reqs.map(
      (r) => r.group.job !== 'accrue' && pt > 0 && (faults.throttle === 0 || faultRng() < pt),
    );
    if (!refused.some(Boolean)) return undefined;
    const rest = reqs.filter((_, i) => !refused[i]);
    const passed = rest.length > 0 ? await baseStore.apply(rest) : [];
    let k = 0;
    return reqs.map((r, i): ApplyResult => {
      if (!refused[i]) return passed[k++]!;
      faults.throttle++;
      faulted.add(r.id);
      return {
        id: r.id,
        status: 'failed',
        error: new TransientError('ProvisionedThroughputExceeded (injected)'),
        rejected: [],
      };
    });
  });

  // ---- the pipeline behind the runner, with crashes between commit and delete
  const deadLetters = new SqsDeadLetterSink({ client: sqs, queueUrl: dlqUrl });
  const runner = new SqsEventSourceRunner({
    client: sqs,
    queueUrl,
    waitTimeSeconds: 1,
    batchSize: opts.batchSize ?? 10,
    concurrency: opts.concurrency ?? 4,
    hooks: {
      beforeDelete: (records) => {
        // The first batch always dies (every kind is injected at least once, even in short runs).
        const p = rate('crash-after-commit');
        if (p > 0 && (faults['crash-after-commit'] === 0 || faultRng() < p)) {
          faults['crash-after-commit']++;
          for (const r of records) faulted.add(idOf(r.body) ?? r.messageId);
          throw new Error('worker killed after the store commit (injected)');
        }
      },
    },
    handler: (records) =>
      processBatch(records, {
        store,
        profile: ARIA_PROFILE,
        deadLetters,
        logger: quiet,
        now: Date.now,
        instance: 'soak',
      }),
  });

  // ---- producers, with duplicate sends (response lost after SQS accepted the batch)
  const producerSqs = new SQSClient({
    endpoint: opts.sqsEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  const sendRng = rng(seed * 31 + 5);
  producerSqs.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (
        (context as { commandName?: string }).commandName === 'SendMessageBatchCommand' &&
        rate('duplicate-send') > 0 &&
        (faults['duplicate-send'] === 0 || sendRng() < rate('duplicate-send'))
      ) {
        faults['duplicate-send']++;
        const entries = (args.input as { Entries?: { MessageBody?: string }[] }).Entries ?? [];
        for (const e of entries) faulted.add(idOf(e.MessageBody ?? '') ?? '');
        throw Object.assign(new Error('connection reset after the request was sent (injected)'), {
          name: 'TimeoutError',
        });
      }
      return out;
    },
    { step: 'initialize', name: 'soakDuplicateSends' },
  );
  let messageBytes = 0;
  let messagesSeen = 0;
  producerSqs.middlewareStack.add(
    (next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName === 'SendMessageBatchCommand') {
        for (const e of (args.input as { Entries?: { MessageBody?: string }[] }).Entries ?? []) {
          messageBytes += Buffer.byteLength(e.MessageBody ?? '');
          messagesSeen++;
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'soakBytes', priority: 'low' },
  );
  const expected = new ExpectedTotals();
  const publisherErrors: string[] = [];
  const publishers = Array.from(
    { length: publishersN },
    (_, i) =>
      new AccruePublisher({
        queueUrl,
        group: { job: 'soak', instance: `p${i}` },
        sqs: producerSqs,
        maxMessageBytes: opts.maxMessageBytes ?? 65_536,
        flushIntervalMs: 200,
        backoffBaseMs: 20,
        backoffMaxMs: 500,
        maxAttempts: 20,
        whenFull: 'throw',
        onError: (e) => publisherErrors.push(e.message),
      }),
  );

  // Raw messages: malformed (whole message to the DLQ) and mixed (one invalid event among valid ones).
  const rawIds = { malformed: new Set<string>(), mixed: new Set<string>() };
  const RAW_GROUP = { job: 'soak', instance: 'raw' };
  let rawSeq = 0;
  const sendRaw = async () => {
    const n = rawSeq++;
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
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'bad', MessageBody: bad },
          { Id: 'mixed', MessageBody: mixed },
        ],
      }),
    );
    if (out.Failed?.length) throw new Error(`raw send failed: ${JSON.stringify(out.Failed)}`);
    for (const s of out.Successful ?? []) {
      if (s.Id === 'bad') rawIds.malformed.add(s.MessageId!);
      else rawIds.mixed.add(s.MessageId!);
      faulted.add(s.Id === 'bad' ? s.MessageId! : `soak-mixed-${n}`);
    }
    faults.malformed += 2;
    expected.add(RAW_GROUP, 'soak_raw_total', { kind: 'mixed' }, 2);
    expected.add(RAW_GROUP, 'soak_raw_total', { kind: 'mixed\n"quoted"' }, 3);
  };

  const abandon = async () => {
    await runner.stop().catch(() => undefined);
    clearInterval(sampler);
    await Promise.all(publishers.map((p) => p.close({ timeoutMs: 1000 }).catch(() => undefined)));
    producerSqs.destroy();
    await baseStore.close().catch(() => undefined);
    await ddbCleanup?.();
    sqs.destroy();
  };
  runner.start();
  let drained = false;
  let published = 0;
  let producerStats: Awaited<ReturnType<AccruePublisher['close']>>[];
  try {
    // ---- publish
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const t0 = Date.now() - 3_600_000;
    const estMessages = Math.max(1, opts.events / 450);
    const rawEvery = Math.max(1, Math.floor(opts.events / Math.max(1, Math.round(estMessages * perKind))));
    let lastDepthCheck = 0;
    for (let i = 0; i < opts.events; i++) {
      const p = i % publishersN;
      const pub = publishers[p]!;
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
        expected.observe(
          group,
          'aria_execution_latency_seconds',
          { symbol, action, status, regime },
          LATENCY_BOUNDS,
          latency,
        );
        expected.observe(group, 'aria_slippage_pips', { symbol, action, regime }, SLIPPAGE_BOUNDS, slippage);
        expected.add(group, 'aria_trade_volume_total', { symbol, action }, volume);
      } else if (x < 0.62) {
        const error_type = pick(ERROR_TYPES);
        pub.error({ error_type, symbol, time: t0 + (i % 1_000_000) });
        expected.add(group, 'aria_errors_total', { error_type, symbol }, 1);
      } else if (x < 0.64) {
        const type = r() < 0.5 ? 'real_time' : 'daily';
        const value = Math.floor((r() - 0.4) * 1e6) / 4;
        const time = t0 + Math.floor(r() * 3_000_000);
        pub.pnl({ type, value, time });
        expected.set(group, 'aria_pnl_dollars', { type }, time, value);
      } else if (x < 0.8) {
        const shard = `s${Math.floor(r() * SHARDS)}`;
        const value = 1 + Math.floor(r() * 10);
        pub.counter({ name: 'soak_units_total', labels: { shard }, value, time: t0 + (i % 1_000_000) });
        expected.add(group, 'soak_units_total', { shard }, value);
      } else if (x < 0.88) {
        const shard = `s${Math.floor(r() * SHARDS)}`;
        const value = 1 + Math.floor(r() * 5);
        if (r() < 0.5) {
          pub.gauge.inc({ name: 'soak_balance', labels: { shard }, value, time: t0 + (i % 1_000_000) });
          expected.add(group, 'soak_balance', { shard }, value);
        } else {
          pub.gauge.dec({ name: 'soak_balance', labels: { shard }, value, time: t0 + (i % 1_000_000) });
          expected.add(group, 'soak_balance', { shard }, -value);
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
        expected.observe(group, 'soak_payload_bytes', { shard }, SIZE_BOUNDS, value);
      } else {
        const shard = `s${Math.floor(r() * SHARDS)}`;
        const value = Math.floor(r() * 1e6);
        const time = t0 + Math.floor(r() * 3_000_000);
        pub.gauge.set({ name: 'soak_last_value', labels: { shard }, value, time });
        expected.set(group, 'soak_last_value', { shard }, time, value);
      }
      published++;
      if (rate('malformed') > 0 && i % rawEvery === rawEvery - 1) await sendRaw();
      // Back-pressure: bounded producer buffers and a bounded queue, so memory stays flat however long it runs.
      if (i % 1000 === 999) {
        if (pub.stats().eventsBuffered > 20_000) await pub.flush();
        const now = performance.now();
        if (now - lastDepthCheck > 200) {
          lastDepthCheck = now;
          while ((await queueDepth(sqs, queueUrl)) > maxQueueDepth) await sleep(100);
        }
        if (i % 100_000 === 99_999)
          log(
            `published ${i + 1} events; runner received ${runner.stats.received}, deleted ${runner.stats.deleted}; rss ${samples.at(-1)?.rssMiB} MiB`,
          );
      }
    }
    if (rate('malformed') > 0 && rawSeq === 0) await sendRaw();
    producerStats = await Promise.all(publishers.map((p) => p.close()));
    producerSqs.destroy();
    log(`all ${published} events sent; waiting for the queue to drain`);

    // ---- drain
    const drainDeadline = Date.now() + (opts.drainTimeoutMs ?? 600_000);
    let quietChecks = 0;
    while (Date.now() < drainDeadline) {
      const depth = await queueDepth(sqs, queueUrl);
      quietChecks = depth === 0 && slowInFlight === 0 ? quietChecks + 1 : 0;
      if (quietChecks >= 3) {
        drained = true;
        break;
      }
      await sleep(250);
    }
  } catch (e) {
    await abandon();
    throw e;
  }
  await runner.stop();
  clearInterval(sampler);
  sample();
  const durationS = (performance.now() - started) / 1000;

  // ---- verify
  const snap = await baseStore.snapshot();
  const cmp = expected.compare(snap, 'soak');
  const dead = await drainDlq(sqs, dlqUrl);
  await Promise.all(
    [queueUrl, dlqUrl].map((q) => sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => undefined)),
  );
  await baseStore.close();
  await ddbCleanup?.();
  sqs.destroy();

  const checks: SoakCheck[] = [];
  const check = (n: string, ok: boolean, detail: string) => checks.push({ name: n, ok, detail });
  const sum = (k: 'eventsSent' | 'eventsFailed' | 'messagesSent' | 'messagesRetried' | 'eventsDropped') =>
    producerStats.reduce((a, s) => a + s[k], 0);
  check('queue drained', drained, drained ? 'depth 0' : 'messages left on the queue at the deadline');
  check(
    'producer sent every event',
    sum('eventsSent') === published && sum('eventsFailed') === 0 && sum('eventsDropped') === 0,
    `published ${published}, sent ${sum('eventsSent')}, failed ${sum('eventsFailed')}, dropped ${sum('eventsDropped')}${publisherErrors.length ? `; ${publisherErrors[0]}` : ''}`,
  );
  checks.push(...cmp.checks);
  check('zero lost', cmp.lost === 0, `${cmp.lost} events lost`);
  check('zero double counted', cmp.doubled === 0, `${cmp.doubled} events counted twice`);
  const byReason: Record<string, number> = {};
  for (const d of dead) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
  const wholeSources = new Set(dead.filter((d) => d.stage === 'decode').map((d) => d.source));
  const eventSources = new Set(dead.filter((d) => d.stage !== 'decode').map((d) => d.source));
  const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));
  check(
    'every malformed message dead-lettered whole',
    sameSet(wholeSources, rawIds.malformed),
    `${rawIds.malformed.size} sent, ${wholeSources.size} distinct in the DLQ`,
  );
  check(
    'every invalid event dead-lettered alone',
    sameSet(eventSources, rawIds.mixed),
    `${rawIds.mixed.size} mixed messages sent, ${eventSources.size} distinct sources in the DLQ`,
  );
  check(
    'nothing redriven by the queue',
    (byReason['(redriven by the queue)'] ?? 0) === 0,
    `${byReason['(redriven by the queue)'] ?? 0} messages without an Accrue reason`,
  );
  if (faultRate > 0)
    for (const k of FAULT_KINDS.filter((x) => enabled.has(x)))
      check(`fault injected: ${k}`, faults[k] > 0, `${faults[k]} times`);
  const totalMessages = sum('messagesSent') + rawIds.malformed.size + rawIds.mixed.size;
  faulted.delete('');
  const faultedMessageShare = totalMessages ? Math.round((faulted.size / totalMessages) * 1000) / 1000 : 0;
  if (faultRate >= 0.1 && enabled.size >= FAULT_KINDS.length)
    check(
      'at least 10% of messages met a fault',
      faultedMessageShare >= 0.1,
      `${faulted.size} of ${totalMessages} (${(faultedMessageShare * 100).toFixed(1)}%)`,
    );
  const rssMax = Math.max(...samples.map((s) => s.rssMiB));
  const half = samples.slice(Math.floor(samples.length / 2));
  const slopePerMin =
    Math.round(
      slope(
        half.map((s) => s.tS / 60),
        half.map((s) => s.rssMiB),
      ) * 10,
    ) / 10;
  const limit = opts.rssLimitMiB ?? 1536;
  check('RSS bounded', rssMax <= limit, `max ${rssMax} MiB (limit ${limit})`);
  const othersMaxMiB: Record<string, number> = {};
  for (const s of samples)
    for (const [k, v] of Object.entries(s.others))
      if (Number.isFinite(v)) othersMaxMiB[k] = Math.max(othersMaxMiB[k] ?? 0, v);

  const passed = checks.filter((c) => c.ok).length;
  return {
    options: {
      events: opts.events,
      faultRate,
      store: opts.store,
      seed,
      concurrency: opts.concurrency ?? 4,
      batchSize: opts.batchSize ?? 10,
      visibilityTimeoutSeconds: visibility,
      maxMessageBytes: opts.maxMessageBytes ?? 65_536,
      publishers: publishersN,
    },
    durationS: Math.round(durationS * 10) / 10,
    eventsPerSec: Math.round(published / durationS),
    eventsPublished: published,
    producer: {
      messagesSent: sum('messagesSent'),
      eventsSent: sum('eventsSent'),
      eventsFailed: sum('eventsFailed'),
      retried: sum('messagesRetried'),
    },
    avgEventsPerMessage: Math.round(sum('eventsSent') / Math.max(1, sum('messagesSent'))),
    avgMessageBytes: Math.round(messageBytes / Math.max(1, messagesSeen)),
    rawMessages: { malformed: rawIds.malformed.size, mixed: rawIds.mixed.size },
    faults,
    faultedMessageShare,
    runner: { ...runner.stats },
    deadLetters: { total: dead.length, byReason },
    series: expected.size,
    lostEvents: cmp.lost,
    doubledEvents: cmp.doubled,
    rss: {
      samples: samples.length,
      maxMiB: rssMax,
      firstMiB: samples[0]!.rssMiB,
      lastMiB: samples.at(-1)!.rssMiB,
      secondHalfSlopeMiBPerMin: slopePerMin,
      heapMaxMiB: Math.max(...samples.map((x) => x.heapMiB)),
      heapLastMiB: samples.at(-1)!.heapMiB,
      heapSecondHalfSlopeMiBPerMin:
        Math.round(
          slope(
            half.map((x) => x.tS / 60),
            half.map((x) => x.heapMiB),
          ) * 10,
        ) / 10,
      othersMaxMiB,
      series: samples.filter((_, k) => k % Math.max(1, Math.ceil(samples.length / 60)) === 0),
    },
    checks,
    passed,
    failed: checks.length - passed,
  };
}

/** The idempotency key of an envelope body (cheap: the publisher writes `id` near the start). */
function idOf(body: string): string | undefined {
  return /"id":"([^"]+)"/.exec(body.slice(0, 200))?.[1];
}

// ---------------------------------------------------------------------------------------------- CLI

export function parseSoakArgs(argv: readonly string[]): {
  events: number;
  faultRate: number;
  store: 'memory' | 'dynamodb';
  seed: number;
  concurrency: number;
  json?: string;
  faultKinds?: readonly (FaultKind | 'throttle-sdk' | 'lost-response')[];
} {
  const val = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const problems: string[] = [];
  const num = (flag: string, def: number, ok: (n: number) => boolean, rule: string): number => {
    const v = val(flag);
    if (v === undefined) return def;
    const n = Number(v.replaceAll('_', ''));
    if (!ok(n)) problems.push(`${flag} ${rule}, got ${JSON.stringify(v)}`);
    return n;
  };
  const events = num(
    '--events',
    1_000_000,
    (n) => Number.isInteger(n) && n > 0 && n <= 1e9,
    'must be an integer in 1..1e9',
  );
  const faultRate = num(
    '--fault-rate',
    0.2,
    (n) => Number.isFinite(n) && n >= 0 && n <= 1,
    'must be a number in 0..1',
  );
  const seed = num('--seed', 1, (n) => Number.isInteger(n) && n >= 0, 'must be a non-negative integer');
  const concurrency = num(
    '--concurrency',
    4,
    (n) => Number.isInteger(n) && n >= 1 && n <= 100,
    'must be an integer in 1..100',
  );
  const store = val('--store') ?? 'dynamodb';
  if (store !== 'memory' && store !== 'dynamodb')
    problems.push(`--store must be "memory" or "dynamodb", got ${JSON.stringify(store)}`);
  if (problems.length) throw new Error(problems.join('; '));
  const json = val('--json');
  const kinds = val('--faults');
  const all = [...FAULT_KINDS, 'throttle-sdk', 'lost-response'] as const;
  const faultKinds = kinds?.split(',').filter(Boolean) as (typeof all)[number][] | undefined;
  for (const k of faultKinds ?? [])
    if (!(all as readonly string[]).includes(k))
      problems.push(`--faults: unknown kind ${JSON.stringify(k)} (known: ${all.join(', ')})`);
  if (problems.length) throw new Error(problems.join('; '));
  return {
    ...(faultKinds ? { faultKinds } : {}),
    events,
    faultRate,
    store: store as 'memory' | 'dynamodb',
    seed,
    concurrency,
    ...(json ? { json } : {}),
  };
}

async function main(): Promise<void> {
  const args = parseSoakArgs(process.argv.slice(2));
  // @ts-expect-error -- plain ESM helper without types (test/support/emulators.mjs)
  const emu = (await import('../test/support/emulators.mjs')) as {
    startDynamoDbLocal(): Promise<{ endpoint: string; pid: number; stop(): Promise<void> }>;
    startSqsEmulatorProcess(): Promise<{ endpoint: string; pid: number; stop(): Promise<void> }>;
  };
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = () => Promise.all(started.map((s) => s.stop()));
  process.once('SIGINT', () => {
    void stopAll().then(() => process.exit(130));
  });
  try {
    const sqsEmu = await emu.startSqsEmulatorProcess();
    started.push(sqsEmu);
    const ddb = args.store === 'dynamodb' ? await emu.startDynamoDbLocal() : undefined;
    if (ddb) started.push(ddb);
    const watchPids: Record<string, number> = { 'sqs-emulator': sqsEmu.pid };
    if (ddb) watchPids['dynamodb-local'] = ddb.pid;
    console.log(
      `soak: ${args.events} events, fault rate ${args.faultRate}, store ${args.store}, seed ${args.seed}`,
    );
    const rep = await runSoak({
      events: args.events,
      faultRate: args.faultRate,
      store: args.store,
      seed: args.seed,
      concurrency: args.concurrency,
      ...(args.faultKinds ? { faultKinds: args.faultKinds } : {}),
      sqsEndpoint: sqsEmu.endpoint,
      ...(ddb ? { dynamoEndpoint: ddb.endpoint } : {}),
      watchPids,
      drainTimeoutMs: 1_800_000,
      log: (l) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${l}`),
    });
    const failedChecks = rep.checks.filter((c) => !c.ok);
    console.log(
      `duration ${rep.durationS} s (${rep.eventsPerSec} events/s end to end); ${rep.producer.messagesSent} messages of ~${rep.avgEventsPerMessage} events (~${rep.avgMessageBytes} bytes)`,
    );
    console.log(
      `faults: ${JSON.stringify(rep.faults)}; messages that met a fault: ${(rep.faultedMessageShare * 100).toFixed(1)}%`,
    );
    console.log(`runner: ${JSON.stringify(rep.runner)}`);
    console.log(`dead letters: ${JSON.stringify(rep.deadLetters)}`);
    console.log(
      `series checked: ${rep.series}; lost events ${rep.lostEvents}; double counted ${rep.doubledEvents}`,
    );
    console.log(
      `RSS: max ${rep.rss.maxMiB} MiB, first ${rep.rss.firstMiB}, last ${rep.rss.lastMiB}, second-half trend ${rep.rss.secondHalfSlopeMiBPerMin} MiB/min over ${rep.rss.samples} samples; heap max ${rep.rss.heapMaxMiB} MiB, last ${rep.rss.heapLastMiB}, second-half trend ${rep.rss.heapSecondHalfSlopeMiBPerMin} MiB/min; emulators max ${JSON.stringify(rep.rss.othersMaxMiB)}`,
    );
    for (const c of failedChecks) console.log(`FAILED ${c.name}: ${c.detail}`);
    // Always kept, so that a failed soak leaves its evidence.
    const file =
      args.json ??
      path.join(__dirname, 'results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(rep, null, 2)}\n`);
    console.log(`report: ${path.relative(process.cwd(), file)}`);
    console.log(`${rep.passed} passed, ${rep.failed} failed`);
    process.exitCode = rep.failed === 0 ? 0 : 1;
  } finally {
    await stopAll();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    console.log('0 passed, 1 failed');
    process.exitCode = 1;
  });
}
