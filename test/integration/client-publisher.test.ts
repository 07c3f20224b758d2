/**
 * AccruePublisher against the SQS emulator (fauxqs via ACCRUE_TEST_SQS_ENDPOINT), with send failures
 * injected by an AWS SDK middleware: whole calls failing (throttling, 5xx, network), and batch entries
 * marked `Failed` — both after SQS stored them (so SQS holds duplicates) and before (so only the retry
 * delivers them). Every received body is decoded by the real ingest decoder; totals are then counted
 * once per idempotency key, as the store does, and must equal exactly what was published.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { AccruePublisher, BufferFullError, PublishError } from '../../shared/client';
import { decodeMessage } from '../../shared/ingest';
import type { AccrueError } from '../../shared/model/errors';
import { ARIA_PROFILE } from '../../shared/profiles';
import { MemoryStore } from '../../shared/store/memory';
import { sqsEndpoint, testSqsClient, uniqueName } from '../support/aws';

const GROUP = { job: 'aria-pro', instance: 'mt5-test' };

interface Received {
  bodies: string[];
  /** body per idempotency key (asserted identical across duplicates). */
  byId: Map<string, string>;
}

async function drain(sqs: SQSClient, queueUrl: string): Promise<Received> {
  const bodies: string[] = [];
  let empty = 0;
  while (empty < 2) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    for (const m of msgs) bodies.push(m.Body!);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: msgs.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  const byId = new Map<string, string>();
  for (const b of bodies) {
    const id = (JSON.parse(b) as { id: string }).id;
    const prev = byId.get(id);
    if (prev !== undefined) expect(b).toBe(prev); // a duplicate carries the same key AND the same body
    byId.set(id, b);
  }
  return { bodies, byId };
}

/** Counts like the store: each idempotency key once. Returns total counter value per metric name and events. */
function countOnce(r: Received): { events: number; counters: Map<string, number>; rejected: number } {
  const counters = new Map<string, number>();
  let events = 0;
  let rejected = 0;
  for (const [id, body] of r.byId) {
    const d = decodeMessage(body, `sqs-${id}`, ARIA_PROFILE);
    expect(d.id).toBe(id);
    expect(d.group).toEqual(GROUP);
    events += d.eventCount;
    rejected += d.rejected.length;
    for (const op of d.apply.ops) {
      if (op.kind === 'counter_inc') counters.set(op.name, (counters.get(op.name) ?? 0) + op.value);
    }
  }
  return { events, counters, rejected };
}

/**
 * Applies EVERY received body (duplicates included, in arrival order) to a real MemoryStore through the
 * real decoder: the store's ledger must skip the duplicate keys. Returns counter totals from its snapshot.
 */
async function applyToStore(r: Received): Promise<{ counters: Map<string, number>; duplicates: number }> {
  const store = await MemoryStore.open();
  let duplicates = 0;
  try {
    for (const b of r.bodies) {
      const d = decodeMessage(b, 'unused', ARIA_PROFILE);
      const [res] = await store.apply([d.apply]);
      if (res!.status === 'duplicate') duplicates++;
      else expect(res!.status).toBe('applied');
    }
    const counters = new Map<string, number>();
    for (const g of (await store.snapshot()).groups) {
      for (const f of g.families) {
        if (f.type !== 'counter') continue;
        for (const series of f.series) counters.set(f.name, (counters.get(f.name) ?? 0) + series.value);
      }
    }
    return { counters, duplicates };
  } finally {
    await store.close();
  }
}

type Fault = (
  input: SendMessageBatchCommandInput,
  call: number,
) => 'throttle' | 'server' | 'network' | 'drop-after' | 'drop-before' | 'ok';

/** A client whose SendMessageBatch calls pass through `fault`. Records every call's entry count and bytes. */
function faultyClient(fault: Fault, calls: { entries: number; bytes: number }[]): SQSClient {
  const client = testSqsClient();
  let n = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchCommandInput;
      const entries = input.Entries ?? [];
      calls.push({
        entries: entries.length,
        bytes: entries.reduce((s, e) => s + Buffer.byteLength(e.MessageBody ?? ''), 0),
      });
      const what = fault(input, n++);
      if (what === 'throttle') {
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400 },
          $retryable: { throttling: true },
        });
      }
      if (what === 'server')
        throw Object.assign(new Error('We encountered an internal error'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        });
      if (what === 'network')
        throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
      if (what === 'drop-before') {
        // Every other entry never reaches SQS and is reported Failed.
        const keep = entries.filter((_, i) => i % 2 === 0);
        const lost = entries.filter((_, i) => i % 2 === 1);
        const res = await next({ ...args, input: { ...input, Entries: keep } });
        const out = res.output as SendMessageBatchCommandOutput;
        out.Failed = [
          ...(out.Failed ?? []),
          ...lost.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError', Message: 'injected' })),
        ];
        return res;
      }
      const res = await next(args);
      if (what === 'drop-after') {
        // SQS stored every entry, but the response claims some failed: the publisher re-sends them.
        const out = res.output as SendMessageBatchCommandOutput;
        const ok = out.Successful ?? [];
        out.Successful = ok.filter((_, i) => i % 3 !== 0);
        out.Failed = [
          ...(out.Failed ?? []),
          ...ok
            .filter((_, i) => i % 3 === 0)
            .map((s) => ({ Id: s.Id!, SenderFault: false, Code: 'ServiceUnavailable', Message: 'injected' })),
        ];
      }
      return res;
    },
    { step: 'initialize', name: 'accrueFaultInjector' },
  );
  return client;
}

/** Publishes a realistic mix; returns the expected counter totals. */
function publishMix(p: AccruePublisher, n: number): Map<string, number> {
  const exp = new Map<string, number>();
  const add = (k: string, v: number) => exp.set(k, (exp.get(k) ?? 0) + v);
  const symbols = ['EURUSD', 'GBPUSD', 'USDJPY', 'XAUUSD'];
  for (let i = 0; i < n; i++) {
    const symbol = symbols[i % symbols.length]!;
    switch (i % 5) {
      case 0:
      case 1:
        expect(
          p.execution({
            symbol,
            action: i % 2 ? 'BUY' : 'SELL',
            status: i % 7 ? 'success' : 'failed',
            regime: 'T',
            latency_seconds: 0.01 + (i % 13) / 100,
            slippage_pips: (i % 5) / 10,
            volume: 2,
          }),
        ).toBe(true);
        add('aria_trade_volume_total', 2);
        break;
      case 2:
        expect(p.error({ error_type: 'timeout', symbol })).toBe(true);
        add('aria_errors_total', 1);
        break;
      case 3:
        expect(
          p.counter({ name: 'orders_total', labels: { symbol, note: 'quote " and\nnewline' }, value: 3 }),
        ).toBe(true);
        add('orders_total', 3);
        break;
      default:
        expect(p.gauge.set({ name: 'open_positions', labels: { symbol }, value: i })).toBe(true);
    }
  }
  return exp;
}

let admin: SQSClient;
const queues: string[] = [];
beforeAll(() => {
  admin = testSqsClient();
});
afterAll(async () => {
  for (const q of queues) await admin.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => undefined);
  admin.destroy();
});

async function newQueue(): Promise<string> {
  const r = await admin.send(new CreateQueueCommand({ QueueName: uniqueName('client') }));
  queues.push(r.QueueUrl!);
  return r.QueueUrl!;
}

describe('publishing to the SQS emulator', () => {
  it('delivers every event, batching by encoded size into ≤10-entry, ≤maxBatchBytes calls', async () => {
    const queueUrl = await newQueue();
    const calls: { entries: number; bytes: number }[] = [];
    const sqs = faultyClient(() => 'ok', calls);
    const p = new AccruePublisher({
      queueUrl,
      group: GROUP,
      sqs,
      maxMessageBytes: 8192,
      maxBatchBytes: 40_000,
    });
    const expected = publishMix(p, 3000);
    const stats = await p.close();
    const got = await drain(admin, queueUrl);

    expect(stats).toMatchObject({
      eventsAccepted: 3000,
      eventsSent: 3000,
      eventsFailed: 0,
      eventsBuffered: 0,
      messagesRetried: 0,
    });
    expect(got.bodies.length).toBe(stats.messagesSent);
    for (const b of got.bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(8192);
    for (const c of calls) {
      expect(c.entries).toBeLessThanOrEqual(10);
      expect(c.bytes).toBeLessThanOrEqual(40_000);
    }
    const counted = countOnce(got);
    expect(counted.rejected).toBe(0);
    expect(counted.events).toBe(3000);
    expect(Object.fromEntries(counted.counters)).toEqual(Object.fromEntries(expected));
    sqs.destroy();
  });

  it('fills messages up to the 256 KiB limit by default and never exceeds it', async () => {
    const queueUrl = await newQueue();
    const calls: { entries: number; bytes: number }[] = [];
    const sqs = faultyClient(() => 'ok', calls);
    const p = new AccruePublisher({ queueUrl, group: GROUP, sqs });
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 800; i++) p.counter({ name: 'big_total', labels: { pad: big, i: String(i) } });
    const stats = await p.close();
    const got = await drain(admin, queueUrl);
    expect(stats.eventsSent).toBe(800);
    for (const b of got.bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(262_144);
    // ~800 KB of events need at least 4 messages and the packer must use them well (> 200 KB each but the last).
    const sizes = got.bodies.map((b) => Buffer.byteLength(b)).sort((a, b) => b - a);
    expect(sizes.length).toBeGreaterThanOrEqual(4);
    expect(sizes[2]).toBeGreaterThan(200_000);
    for (const c of calls) expect(c.bytes).toBeLessThanOrEqual(262_144);
    expect(countOnce(got).counters.get('big_total')).toBe(800);
    sqs.destroy();
  });
});

describe('injected failures: nothing lost, nothing counted twice', () => {
  const fast = {
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    maxMessageBytes: 4096,
    flushIntervalMs: 20,
    maxAttempts: 25,
  };

  /** Half the calls fail in one of five ways, chosen by a seeded generator (mulberry32). */
  function seededMix(seed: number): Fault {
    let a = seed;
    const rnd = () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const kinds = ['throttle', 'drop-after', 'network', 'drop-before', 'server'] as const;
    return () => (rnd() < 0.5 ? kinds[Math.floor(rnd() * kinds.length)]! : 'ok');
  }

  it.each<[string, Fault, boolean]>([
    ['throttling on every 3rd call', (_i, n) => (n % 3 === 0 ? 'throttle' : 'ok'), false],
    ['5xx then network errors', (_i, n) => (n % 4 === 0 ? 'server' : n % 4 === 1 ? 'network' : 'ok'), false],
    [
      'entries marked Failed after SQS stored them (duplicates on the queue)',
      (_i, n) => (n % 2 === 0 ? 'drop-after' : 'ok'),
      true,
    ],
    ['entries marked Failed and never stored', (_i, n) => (n % 2 === 0 ? 'drop-before' : 'ok'), false],
    ['everything at once, at random (seeded)', seededMix(42), true],
  ])('%s', async (_name, fault, expectDuplicates) => {
    const queueUrl = await newQueue();
    const calls: { entries: number; bytes: number }[] = [];
    const sqs = faultyClient(fault, calls);
    const errors: AccrueError[] = [];
    const p = new AccruePublisher({ queueUrl, group: GROUP, sqs, ...fast, onError: (e) => errors.push(e) });
    const expected = publishMix(p, 2000);
    const stats = await p.close();
    const got = await drain(admin, queueUrl);

    expect(errors).toEqual([]);
    expect(stats).toMatchObject({
      eventsAccepted: 2000,
      eventsSent: 2000,
      eventsFailed: 0,
      eventsBuffered: 0,
    });
    expect(stats.messagesRetried).toBeGreaterThan(0);
    // Every key the publisher reported sent is on the queue…
    expect(got.byId.size).toBe(stats.messagesSent);
    // …duplicates exist only where SQS stored an entry the response called failed…
    if (expectDuplicates) expect(got.bodies.length).toBeGreaterThan(got.byId.size);
    else expect(got.bodies.length).toBe(got.byId.size);
    // …and counting once per key gives exactly what was published.
    const counted = countOnce(got);
    expect(counted.events).toBe(2000);
    expect(Object.fromEntries(counted.counters)).toEqual(Object.fromEntries(expected));
    // The real store, fed every delivery including the duplicates, counts each key once too.
    const stored = await applyToStore(got);
    expect(stored.duplicates).toBe(got.bodies.length - got.byId.size);
    expect(Object.fromEntries(stored.counters)).toEqual(Object.fromEntries(expected));
    sqs.destroy();
  });

  it('a permanent error (queue does not exist) reports every event with its body, without retrying', async () => {
    const errors: AccrueError[] = [];
    const p = new AccruePublisher({
      queueUrl: `${sqsEndpoint()}/000000000000/${uniqueName('missing')}`,
      endpoint: sqsEndpoint(),
      group: GROUP,
      onError: (e) => errors.push(e),
      ...fast,
    });
    for (let i = 0; i < 50; i++) p.error({ error_type: 'timeout', symbol: 'EURUSD' });
    const stats = await p.close();
    expect(stats).toMatchObject({
      eventsAccepted: 50,
      eventsSent: 0,
      eventsFailed: 50,
      eventsBuffered: 0,
      messagesRetried: 0,
    });
    const failed = errors.filter((e): e is PublishError => e instanceof PublishError);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((e) => e.permanent)).toBe(true);
    const bodies = failed.flatMap((e) => e.messages.map((m) => m.body));
    const resent = bodies.reduce((n, b) => n + decodeMessage(b, 'x', ARIA_PROFILE).eventCount, 0);
    expect(resent).toBe(50);
  });

  it('transient errors that outlive maxAttempts are reported, same key on every attempt', async () => {
    const queueUrl = await newQueue();
    const seen: string[] = [];
    const calls: { entries: number; bytes: number }[] = [];
    const sqs = faultyClient((input) => {
      for (const e of input.Entries ?? []) seen.push((JSON.parse(e.MessageBody!) as { id: string }).id);
      return 'throttle';
    }, calls);
    const errors: AccrueError[] = [];
    const p = new AccruePublisher({
      queueUrl,
      group: GROUP,
      sqs,
      ...fast,
      maxAttempts: 3,
      onError: (e) => errors.push(e),
    });
    p.connection({ connected: false });
    const stats = await p.close();
    expect(stats).toMatchObject({
      eventsAccepted: 1,
      eventsFailed: 1,
      messagesFailed: 1,
      messagesRetried: 2,
      sendCalls: 3,
    });
    expect(new Set(seen).size).toBe(1);
    expect(seen.length).toBe(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PublishError);
    expect((errors[0] as PublishError).messages[0]!.attempts).toBe(3);
    expect(errors[0]!.message).toMatch(/gave up after 3 attempt/);
    sqs.destroy();
  });
});

describe('bounded buffer', () => {
  /** A client whose sends wait until released. */
  function stalledClient(): { sqs: SQSClient; release: () => void } {
    const sqs = testSqsClient();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    sqs.middlewareStack.add(
      (next) => async (args) => {
        await gate;
        return next(args);
      },
      { step: 'initialize', name: 'stall' },
    );
    return { sqs, release };
  }

  it("whenFull 'drop': returns false, counts the drop, reports once per episode; accepted events still arrive", async () => {
    const queueUrl = await newQueue();
    const { sqs, release } = stalledClient();
    const errors: AccrueError[] = [];
    const p = new AccruePublisher({
      queueUrl,
      group: GROUP,
      sqs,
      maxBufferedEvents: 100,
      maxMessageBytes: 2048,
      onError: (e) => errors.push(e),
    });
    const results = Array.from({ length: 130 }, (_, i) =>
      p.counter({ name: 'ticks_total', labels: { i: String(i % 3) } }),
    );
    expect(results.filter(Boolean)).toHaveLength(100);
    expect(results.slice(100).every((r) => r === false)).toBe(true);
    expect(p.stats()).toMatchObject({ eventsAccepted: 100, eventsDropped: 30, eventsBuffered: 100 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(BufferFullError);
    release();
    const stats = await p.close();
    expect(stats).toMatchObject({
      eventsAccepted: 100,
      eventsSent: 100,
      eventsDropped: 30,
      eventsBuffered: 0,
    });
    expect(countOnce(await drain(admin, queueUrl)).counters.get('ticks_total')).toBe(100);
    sqs.destroy();
  });

  it("whenFull 'throw': throws BufferFullError and accepts nothing", async () => {
    const queueUrl = await newQueue();
    const { sqs, release } = stalledClient();
    const p = new AccruePublisher({ queueUrl, group: GROUP, sqs, maxBufferedEvents: 5, whenFull: 'throw' });
    for (let i = 0; i < 5; i++) p.killSwitch({ active: i % 2 === 0 });
    expect(() => p.killSwitch({ active: true })).toThrow(BufferFullError);
    expect(p.stats()).toMatchObject({ eventsAccepted: 5, eventsDropped: 1 });
    release();
    expect((await p.close()).eventsSent).toBe(5);
    sqs.destroy();
  });

  it('close({ timeoutMs }) reports what it could not send instead of hanging', async () => {
    const queueUrl = await newQueue();
    const calls: { entries: number; bytes: number }[] = [];
    const sqs = faultyClient(() => 'throttle', calls);
    const errors: AccrueError[] = [];
    const p = new AccruePublisher({
      queueUrl,
      group: GROUP,
      sqs,
      backoffBaseMs: 200,
      backoffMaxMs: 200,
      onError: (e) => errors.push(e),
    });
    p.pnl({ type: 'daily', value: -125.5 });
    const stats = await p.close({ timeoutMs: 300 });
    expect(stats).toMatchObject({ eventsAccepted: 1, eventsFailed: 1, eventsBuffered: 0 });
    expect(errors.some((e) => e instanceof PublishError && e.events === 1)).toBe(true);
    sqs.destroy();
  });
});
