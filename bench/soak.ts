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
 * Shapes (bench/soak/shapes.ts, on their own groups, with the same faults): wide messages split into
 * ledger parts, gauge set + incs + decs of one series in one message and across messages, every message
 * redelivered in other batches after the first phase drained (a set redelivered after adds must not undo
 * them), and (DynamoDB) PUTs of 250 and 40 series killed after their first transaction and retried.
 *
 * HTTP (bench/soak/http-pushes.ts, whole-reader.ts): a real service in this process on 127.0.0.1; while the
 * SQS load runs, Pushgateway clients PUT and POST 5..250 series to their own groups, and at the fault rate
 * an attempt is cut half-way through its body (socket destroyed) or after its body (answer lost; with an
 * Idempotency-Key), then retried until answered. A concurrent reader (a second store instance on
 * DynamoDB) snapshots in a loop and checks each pushed group is always exactly the state of one complete
 * push, never older than one it saw, and at the end the state of the last one; the killed PUTs above are
 * watched the same way.
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
 * Parts: bench/soak/{setup,expected,faults,publish,shapes,http-pushes,whole-reader,queues,rss,verify}.ts.
 * Prints the verdict line `N passed, M failed` and exits non-zero when a check failed. The emulators are
 * started with test/support/emulators.mjs and stopped by PID at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsDeadLetterSink } from '../shared/aws/dead-letter';
import { ensureQueuePair } from '../shared/aws/queues';
import { SqsSourceQueue } from '../shared/aws/source-queue';
import { SqsEventSourceRunner } from '../shared/aws/sqs-runner';
import { type PipelineLogger, processBatch } from '../shared/ingest/pipeline';
import { ARIA_PROFILE } from '../shared/profiles';
import { ExpectedTotals, type SoakCheck } from './soak/expected';
import {
  ALL_FAULT_KINDS,
  type AnyFaultKind,
  crashAfterCommit,
  FAULT_KINDS,
  type FaultKind,
  FaultLog,
  faultyStore,
} from './soak/faults';
import { HttpPushers, type HttpPushStats, startSoakService } from './soak/http-pushes';
import { publishAriaMix, RawMessages } from './soak/publish';
import { type DeadLetterMsg, drainDlq, waitDrained } from './soak/queues';
import { RssSampler, type RssSummary } from './soak/rss';
import { CREDENTIALS, openProducers, openStore, REGION, type RequestTimes, roundTimes } from './soak/setup';
import { Shapes } from './soak/shapes';
import { deadLettersByReason, type ProducerTotals, soakChecks } from './soak/verify';
import { PushHistory, type ReaderStats, WholeReader } from './soak/whole-reader';

export { rng } from './fixtures';
export { ExpectedTotals, type SoakCheck } from './soak/expected';
export { FAULT_KINDS, type FaultKind } from './soak/faults';
export { type RssSample, slope } from './soak/rss';

export interface SoakOptions {
  /** Valid events the producers publish (the malformed raw messages and the shapes come on top). */
  readonly events: number;
  /** Share of messages / batches / calls each fault layer acts on, split over the 5 kinds. @default 0.2 */
  readonly faultRate?: number;
  readonly store: 'memory' | 'dynamodb';
  readonly sqsEndpoint: string;
  /** Fault kinds to inject (the SDK-level ones apply to DynamoDB only). @default all */
  readonly faultKinds?: readonly AnyFaultKind[];
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
  /** Messages of each shape in the first phase. @default events / 5,000, within 4..200 */
  readonly shapeScale?: number;
  /** HTTP push clients (one group each). @default 4 */
  readonly httpClients?: number;
  /** Pause between two pushes of one HTTP client (ms). @default 10 (memory), 100 (DynamoDB) */
  readonly httpPauseMs?: number;
  /** Pause between two snapshots of the whole-push reader (ms). @default 20 (memory), 100 (DynamoDB) */
  readonly readerPauseMs?: number;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
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
  readonly shapes: Shapes['counts'];
  readonly http: HttpPushStats;
  readonly reader: ReaderStats;
  /** DynamoDB only: the writing store's requests by command (count, total and longest ms). */
  readonly dynamoRequests?: RequestTimes;
  readonly faults: Record<AnyFaultKind, number>;
  /** Messages (good and raw) that met at least one fault, over all messages sent. */
  readonly faultedMessageShare: number;
  readonly runner: Record<string, number>;
  readonly deadLetters: { total: number; byReason: Record<string, number>; unexpected: DeadLetterMsg[] };
  readonly series: number;
  readonly lostEvents: number;
  readonly doubledEvents: number;
  readonly rss: RssSummary;
  readonly checks: SoakCheck[];
  readonly passed: number;
  readonly failed: number;
}

const quiet: PipelineLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Resolved {
  readonly faultRate: number;
  readonly seed: number;
  readonly visibility: number;
  readonly publishers: number;
  readonly shapeScale: number;
}

function resolve(opts: SoakOptions): Resolved {
  const faultRate = opts.faultRate ?? 0.2;
  if (!(opts.events > 0) || !Number.isInteger(opts.events))
    throw new Error(`events must be a positive integer, got ${opts.events}`);
  if (!(faultRate >= 0 && faultRate <= 1)) throw new Error(`faultRate must be in 0..1, got ${faultRate}`);
  if (opts.store === 'dynamodb' && !opts.dynamoEndpoint)
    throw new Error('dynamoEndpoint is required for store "dynamodb"');
  return {
    faultRate,
    seed: opts.seed ?? 1,
    visibility: opts.visibilityTimeoutSeconds ?? 2,
    publishers: opts.publishers ?? 2,
    shapeScale: opts.shapeScale ?? Math.min(200, Math.max(4, Math.round(opts.events / 5000))),
  };
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const r = resolve(opts);
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const faults = new FaultLog(r.faultRate, opts.faultKinds ?? ALL_FAULT_KINDS);
  const rss = new RssSampler(started, opts.watchPids, opts.rssSampleMs ?? 1000);

  const sqs = new SQSClient({ endpoint: opts.sqsEndpoint, region: REGION, credentials: CREDENTIALS });
  const name = `soak-${process.pid}-${Date.now().toString(36)}`;
  const { queueUrl, dlqUrl } = await ensureQueuePair(sqs, {
    queueName: name,
    dlqName: `${name}-dlq`,
    visibilityTimeoutSeconds: r.visibility,
    // High: nothing valid may ever be redriven; malformed messages go to the DLQ through the pipeline.
    maxReceiveCount: 1000,
  });
  const target = await openStore(opts, name, faults, r.seed);
  const { store, slowInFlight } = faultyStore(target.store, faults, {
    seed: r.seed,
    visibilitySeconds: r.visibility,
  });
  const runner = new SqsEventSourceRunner({
    client: sqs,
    queueUrl,
    waitTimeSeconds: 1,
    batchSize: opts.batchSize ?? 10,
    concurrency: opts.concurrency ?? 4,
    hooks: crashAfterCommit(faults, r.seed),
    handler: (records) =>
      processBatch(records, {
        store,
        profile: ARIA_PROFILE,
        deadLetters: new SqsDeadLetterSink({ client: sqs, queueUrl: dlqUrl }),
        sourceQueue: new SqsSourceQueue({ client: sqs, queueUrl }),
        logger: quiet,
        now: Date.now,
        instance: 'soak',
      }),
  });
  const producers = openProducers(opts, r, queueUrl, faults);
  const expected = new ExpectedTotals();
  const raw = new RawMessages(sqs, queueUrl, expected, faults);
  const shapes = new Shapes(sqs, queueUrl, expected, r.seed, r.shapeScale);
  const drain = () => waitDrained(sqs, queueUrl, slowInFlight, opts.drainTimeoutMs ?? 600_000);
  const dynamo = opts.store === 'dynamodb';
  const service = await startSoakService(target.store);
  const history = new PushHistory();
  const readerStore = await target.openReader();
  const reader = new WholeReader(
    () => readerStore.snapshot(),
    history,
    opts.readerPauseMs ?? (dynamo ? 100 : 20),
  );
  const http = new HttpPushers({
    base: service.base,
    clients: opts.httpClients ?? 4,
    faultRate: r.faultRate,
    seed: r.seed,
    minPushes: Math.max(10, 2 * r.shapeScale),
    pauseMs: opts.httpPauseMs ?? (dynamo ? 100 : 10),
    history,
  });
  const closeHttp = async () => {
    http.stop();
    await service.stop().catch(() => undefined);
    if (readerStore !== target.store) await readerStore.close().catch(() => undefined);
  };

  runner.start();
  reader.start();
  let drained = false;
  let published = 0;
  let producer: ProducerTotals;
  try {
    await shapes.sendFirstPhase();
    const pushing = http.run();
    published = await publishAriaMix({
      events: opts.events,
      seed: r.seed,
      publishers: producers.publishers,
      expected,
      faults,
      raw,
      sqs,
      queueUrl,
      maxQueueDepth: opts.maxQueueDepth ?? 200,
      log,
      progress: () =>
        `runner received ${runner.stats.received}, deleted ${runner.stats.deleted}; rss ${rss.lastMiB} MiB`,
    });
    producer = await producers.close();
    // The HTTP clients push while the producers publish (and at least `minPushes` each).
    http.stop();
    await pushing;
    http.addExpected(expected);
    log(`all ${published} events sent, ${http.stats.pushes} HTTP pushes; waiting for the queue to drain`);
    drained = await drain();
    log('first phase drained; shapes: second phase and redeliveries');
    await shapes.sendSecondPhase();
    drained = drained && (await drain());
    await shapes.killedPushes(
      target.store,
      Math.max(2, Math.round(r.shapeScale / 4)),
      target.killNextPush,
      history,
    );
    await reader.stop();
  } catch (e) {
    await reader.stop().catch(() => undefined);
    await closeHttp();
    await runner.stop().catch(() => undefined);
    rss.stop();
    await producers.close(1000).catch(() => undefined);
    await target.close();
    sqs.destroy();
    throw e;
  }
  await runner.stop();
  await closeHttp();
  rss.stop();
  const durationS = (performance.now() - started) / 1000;

  // ---- verify
  const compared = expected.compare(await target.store.snapshot(), 'soak');
  const dead = await drainDlq(sqs, dlqUrl);
  await Promise.all(
    [queueUrl, dlqUrl].map((q) => sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => undefined)),
  );
  await target.close();
  sqs.destroy();

  faults.faulted.delete('');
  const totalMessages =
    producer.messagesSent + raw.ids.malformed.size + raw.ids.mixed.size + shapes.messagesSent;
  const faultedMessageShare = totalMessages
    ? Math.round((faults.faulted.size / totalMessages) * 1000) / 1000
    : 0;
  const rssSummary = rss.summary();
  const cutMidBody = http.stats.cuts['mid-body'] + http.stats.cuts['mid-body-chunked'];
  const extra: SoakCheck[] = [
    {
      name: 'HTTP pushes cut mid-body or before the answer, then retried until answered',
      ok:
        http.stats.gaveUp === 0 &&
        http.stats.pushes > 0 &&
        (r.faultRate === 0 || (cutMidBody > 0 && http.stats.cuts['lost-answer'] > 0)),
      detail: `${http.stats.pushes} pushes, ${http.stats.attempts} attempts, cuts ${JSON.stringify(http.stats.cuts)}, answers ${JSON.stringify(http.stats.answers)}, gave up ${http.stats.gaveUp}${http.stats.firstError ? `; first error: ${http.stats.firstError}` : ''}`,
    },
    {
      name: 'every push seen whole by a concurrent reader',
      ok: reader.stats.problems === 0 && reader.stats.snapshots > 2,
      detail: `${reader.stats.snapshots} snapshots, ${reader.stats.groupChecks} group checks, ${reader.stats.problems} problems${reader.stats.examples.length ? `: ${reader.stats.examples.join('; ')}` : ''}`,
    },
  ];
  if (target.killNextPush)
    extra.push({
      name: 'pushes killed half-way, then retried',
      ok: shapes.counts.pushesKilled > 0,
      detail: `${shapes.counts.pushesKilled} pushes failed after their first transaction`,
    });
  const checks = soakChecks({
    drained,
    published,
    producer,
    publisherErrors: producers.errors,
    compared,
    dead,
    raw: raw.ids,
    faults,
    faultRate: r.faultRate,
    faultedMessageShare,
    totalMessages,
    rss: rssSummary,
    rssLimitMiB: opts.rssLimitMiB ?? 1536,
    extra,
  });
  const passed = checks.filter((c) => c.ok).length;
  return {
    options: {
      events: opts.events,
      faultRate: r.faultRate,
      store: opts.store,
      seed: r.seed,
      concurrency: opts.concurrency ?? 4,
      batchSize: opts.batchSize ?? 10,
      visibilityTimeoutSeconds: r.visibility,
      maxMessageBytes: opts.maxMessageBytes ?? 65_536,
      publishers: r.publishers,
      shapeScale: r.shapeScale,
    },
    durationS: Math.round(durationS * 10) / 10,
    eventsPerSec: Math.round(published / durationS),
    eventsPublished: published,
    producer: {
      messagesSent: producer.messagesSent,
      eventsSent: producer.eventsSent,
      eventsFailed: producer.eventsFailed,
      retried: producer.messagesRetried,
    },
    avgEventsPerMessage: Math.round(producer.eventsSent / Math.max(1, producer.messagesSent)),
    avgMessageBytes: Math.round(producers.bytes.total / Math.max(1, producers.bytes.messages)),
    rawMessages: { malformed: raw.ids.malformed.size, mixed: raw.ids.mixed.size },
    shapes: shapes.counts,
    http: http.stats,
    reader: reader.stats,
    ...(target.requests ? { dynamoRequests: roundTimes(target.requests) } : {}),
    faults: faults.counts,
    faultedMessageShare,
    runner: { ...runner.stats },
    deadLetters: {
      total: dead.length,
      byReason: deadLettersByReason(dead),
      // Anything but the injected malformed input is a finding: its details are kept.
      unexpected: dead.filter((d) => d.reason !== 'decode' && d.reason !== 'invalid').slice(0, 20),
    },
    series: expected.size,
    lostEvents: compared.lost,
    doubledEvents: compared.doubled,
    rss: rssSummary,
    checks,
    passed,
    failed: checks.length - passed,
  };
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
    console.log(
      `HTTP: ${rep.http.pushes} pushes in ${rep.http.attempts} attempts, cut ${JSON.stringify(rep.http.cuts)}; whole-push reader: ${rep.reader.snapshots} snapshots, ${rep.reader.groupChecks} group checks, ${rep.reader.problems} problems`,
    );
    if (rep.dynamoRequests) {
      const per = Object.entries(rep.dynamoRequests)
        .map(([k, v]) => `${k} ${v.n} (avg ${Math.round(v.ms / Math.max(1, v.n))} ms)`)
        .join(', ');
      console.log(`DynamoDB requests: ${per}`);
    }
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
