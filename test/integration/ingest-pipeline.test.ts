/**
 * The SQS pipeline end to end, over the real protocol: SQS emulator (AWS SDK v3) → local event-source
 * runner → processBatch (real decoder, ARIA profile) → a real store; dead letters on a real DLQ.
 * Exact totals under fault injection: worker death between commit and delete, throttling store,
 * visibility timeout expiring during slow processing, producer duplicates, poison messages.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RunnerHooks } from '../../shared/aws/sqs-runner';
import { TransientError } from '../../shared/model/errors';
import { MemoryStore } from '../../shared/store';
import { createTables, DynamoStore } from '../../shared/store/dynamodb';
import type { ApplyResult, Store, ValidApplyRequest } from '../../shared/store/types';
import { testDynamoClient, testSqsClient, uniqueName } from '../support/aws';
import { validApplies } from '../support/edge';
import {
  counter,
  drainDlq,
  envelope,
  execution,
  type Harness,
  histogramCount,
  queueDepth,
  scalarTotal,
  scalarValue,
  startHarness,
  until,
} from './ingest-harness';

const OWN = { job: 'accrue', instance: 'it' };
const EU = { job: 'aria', instance: 'eu-1' };
const US = { job: 'aria', instance: 'us-1' };

interface StoreCase {
  name: string;
  open(): Promise<Store>;
}
const stores: StoreCase[] = [
  { name: 'memory', open: () => MemoryStore.open({}) },
  {
    name: 'dynamodb',
    async open() {
      const client = testDynamoClient();
      const tables = { seriesTable: uniqueName('series'), ledgerTable: uniqueName('ledger') };
      await createTables(client, tables);
      return DynamoStore.open({ client, ...tables, ownsClient: true });
    },
  },
];

let sqs: SQSClient;
beforeAll(() => {
  sqs = testSqsClient();
});
afterAll(() => sqs.destroy());

/** Wraps a store: `onApply` may answer for some requests instead of the real store. */
/** A runner hook: the worker dies after the store commit and before the delete, the first `times` batches. */
function dyingWorker(times: number): { hooks: RunnerHooks; deaths: () => number } {
  let deaths = 0;
  const beforeDelete = () => {
    if (deaths >= times) return;
    deaths++;
    throw new Error('worker killed after commit');
  };
  return { hooks: { beforeDelete }, deaths: () => deaths };
}

function wrap(
  inner: Store,
  onApply: (reqs: readonly ValidApplyRequest[]) => Promise<ApplyResult[] | undefined>,
): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'apply') {
        return async (reqs: readonly ValidApplyRequest[]) =>
          (await onApply(reqs)) ?? target.apply(validApplies(reqs));
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe.each(stores)('ingest pipeline on the $name store', ({ open }) => {
  let store: Store;
  let h: Harness | undefined;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await store.close();
  });

  async function settle(): Promise<void> {
    await until(async () => (await queueDepth(sqs, h!.queueUrl)) === 0, 60_000, 'queue drained');
  }

  it('counts thousands of events across many messages exactly', async () => {
    h = await startHarness(sqs, store);
    const bodies: string[] = [];
    let volume = 0;
    for (let m = 0; m < 60; m++) {
      const events: unknown[] = [];
      for (let e = 0; e < 40; e++) {
        const v = 1 + ((m * 40 + e) % 5);
        volume += v;
        events.push(execution(e % 2 ? 'EURUSD' : 'GBPJPY', v));
      }
      for (let e = 0; e < 10; e++) events.push(counter('t_orders_total', 1, { desk: e % 2 ? 'a' : 'b' }));
      bodies.push(envelope(`bulk-${m}`, m % 2 ? EU : US, events));
    }
    await h.send(bodies);
    await settle();
    const snap = await store.snapshot();
    expect(
      scalarTotal(snap, EU, 'aria_trade_volume_total') + scalarTotal(snap, US, 'aria_trade_volume_total'),
    ).toBe(volume);
    expect(
      histogramCount(snap, EU, 'aria_execution_latency_seconds') +
        histogramCount(snap, US, 'aria_execution_latency_seconds'),
    ).toBe(2400);
    expect(scalarTotal(snap, EU, 't_orders_total') + scalarTotal(snap, US, 't_orders_total')).toBe(600);
    expect(scalarTotal(snap, OWN, 'accrue_ingest_events_accepted_total')).toBe(3000);
    expect(scalarValue(snap, OWN, 'accrue_ingest_messages_total', { outcome: 'applied' })).toBe(60);
    expect(histogramCount(snap, OWN, 'accrue_ingest_batch_size')).toBe(h.runner.stats.batches);
    expect(await drainDlq(sqs, h.dlqUrl)).toEqual([]);
  });

  it('counts once when the worker dies after the store commit and before the delete', async () => {
    const dies = dyingWorker(2);
    h = await startHarness(sqs, store, {
      concurrency: 1,
      hooks: dies.hooks,
    });
    await h.send(
      Array.from({ length: 20 }, (_, m) =>
        envelope(
          `die-${m}`,
          EU,
          Array.from({ length: 10 }, () => counter('t_total', 1)),
        ),
      ),
    );
    await settle();
    const snap = await store.snapshot();
    expect(dies.deaths()).toBe(2);
    expect(scalarTotal(snap, EU, 't_total')).toBe(200);
    expect(scalarTotal(snap, OWN, 'accrue_ingest_duplicates_skipped_total')).toBeGreaterThan(0);
    expect(scalarValue(snap, OWN, 'accrue_ingest_messages_total', { outcome: 'applied' })).toBe(20);
    expect(h.runner.stats.handlerErrors).toBe(2);
  });

  it('retries what a throttling store refused and ends with exact totals', async () => {
    const attempts = new Map<string, number>();
    const throttled = wrap(store, async (reqs) => {
      if (reqs.some((r) => r.group.job === 'accrue')) return undefined;
      const refused = reqs.map((r) => {
        const n = (attempts.get(r.id) ?? 0) + 1;
        attempts.set(r.id, n);
        // Every other message is refused on its first two attempts.
        return Number(r.id.split('-')[1]) % 2 === 1 && n <= 2;
      });
      if (!refused.some(Boolean)) return undefined;
      const passed = await store.apply(validApplies(reqs.filter((_, i) => !refused[i])));
      let k = 0;
      return reqs.map(
        (r, i): ApplyResult =>
          refused[i]
            ? {
                id: r.id,
                status: 'failed',
                error: new TransientError('ProvisionedThroughputExceeded'),
                rejected: [],
              }
            : passed[k++]!,
      );
    });
    h = await startHarness(sqs, throttled, { visibilityTimeoutSeconds: 2 });
    await h.send(
      Array.from({ length: 30 }, (_, m) =>
        envelope(`thr-${m}`, US, [counter('t_total', 2), execution('EURUSD', 3)]),
      ),
    );
    await settle();
    const snap = await store.snapshot();
    expect(scalarTotal(snap, US, 't_total')).toBe(60);
    expect(scalarTotal(snap, US, 'aria_trade_volume_total')).toBe(90);
    expect(scalarValue(snap, OWN, 'accrue_ingest_messages_total', { outcome: 'failed' })).toBe(30);
    expect(scalarValue(snap, OWN, 'accrue_ingest_messages_total', { outcome: 'applied' })).toBe(30);
    expect(
      [...attempts.entries()].filter(([id]) => Number(id.split('-')[1]) % 2 === 1).every(([, n]) => n === 3),
    ).toBe(true);
  });

  it('counts once when the visibility timeout expires and a second poller gets the message during slow processing', async () => {
    const seen = new Map<string, number>();
    let slowed = false;
    let slowDone = false;
    const slow = wrap(store, async (reqs) => {
      for (const r of reqs) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
      if (!slowed && reqs.some((r) => r.group.job === 'aria')) {
        slowed = true;
        await sleep(2500); // > visibility timeout (1 s): the message is redelivered meanwhile
        const late = await store.apply(validApplies(reqs)); // the slow attempt commits last
        slowDone = true;
        return late;
      }
      return undefined;
    });
    h = await startHarness(sqs, slow, { concurrency: 2, visibilityTimeoutSeconds: 1 });
    await h.send(
      Array.from({ length: 5 }, (_, m) =>
        envelope(`vis-${m}`, EU, [counter('t_total', 1), counter('t_total', 1)]),
      ),
    );
    await until(() => slowed);
    await settle();
    await until(() => slowDone, 10_000, 'slow attempt finished');
    await settle();
    const snap = await store.snapshot();
    expect(scalarTotal(snap, EU, 't_total')).toBe(10);
    expect([...seen.values()].some((n) => n >= 2)).toBe(true);
    expect(scalarTotal(snap, OWN, 'accrue_ingest_duplicates_skipped_total')).toBeGreaterThan(0);
  });

  it('applies a message the producer sent twice (same idempotency key, new SQS message id) once', async () => {
    // Visibility 30 s: no redelivery on a slow machine, so every duplicate here is the producer's.
    h = await startHarness(sqs, store, {
      batchSize: 20,
      batchingWindowMs: 300,
      visibilityTimeoutSeconds: 30,
    });
    const bodies = Array.from({ length: 10 }, (_, m) => envelope(`dup-${m}`, EU, [counter('t_total', 5)]));
    const ids1 = await h.send(bodies);
    const ids2 = await h.send(bodies);
    expect(new Set([...ids1, ...ids2]).size).toBe(20);
    await settle();
    const snap = await store.snapshot();
    expect(scalarTotal(snap, EU, 't_total')).toBe(50);
    expect(scalarTotal(snap, OWN, 'accrue_ingest_duplicates_skipped_total')).toBe(10);
  });

  it('dead-letters a poison message with its reason while the rest of its batch is applied', async () => {
    h = await startHarness(sqs, store, {
      batchSize: 10,
      batchingWindowMs: 500,
      concurrency: 1,
      visibilityTimeoutSeconds: 30,
    });
    const poison = '{"v":1,"group":{"job":"aria"},"events":[ {"kind":"execution"';
    const mixed = envelope('mixed-1', EU, [
      execution('EURUSD', 2),
      { ...execution('EURUSD', 1), regime: 'X' },
      execution('USDJPY', 4),
    ]);
    const ids = await h.send([envelope('good-1', EU, [counter('t_total', 7)]), poison, mixed]);
    await settle();
    const snap = await store.snapshot();
    expect(scalarTotal(snap, EU, 't_total')).toBe(7);
    expect(scalarTotal(snap, EU, 'aria_trade_volume_total')).toBe(6);
    let dead: Awaited<ReturnType<typeof drainDlq>> = [];
    await until(async () => {
      dead = dead.concat(await drainDlq(sqs, h!.dlqUrl));
      return dead.length >= 2;
    });
    const bySource = new Map(dead.map((d) => [d.source, d]));
    expect(bySource.get(ids[1]!)).toMatchObject({ body: poison, reason: 'decode' });
    expect(String(bySource.get(ids[1]!)!.detail.message)).toMatch(/not JSON/);
    expect(bySource.get(ids[2]!)).toMatchObject({ reason: 'invalid' });
    expect(bySource.get(ids[2]!)!.detail).toMatchObject({
      stage: 'event',
      index: 1,
      // Scoped to the producer: `<SenderId>/<id>` (docs/events.md "Idempotency").
      idempotencyKey: expect.stringMatching(/^[^/]+\/mixed-1$/),
    });
    expect(JSON.parse(bySource.get(ids[2]!)!.body)).toMatchObject({ kind: 'execution', regime: 'X' });
    expect(dead).toHaveLength(2);
    expect(scalarValue(snap, OWN, 'accrue_ingest_events_rejected_total', { reason: 'decode' })).toBe(1);
    expect(scalarValue(snap, OWN, 'accrue_ingest_events_rejected_total', { reason: 'invalid' })).toBe(1);
    expect(scalarValue(snap, OWN, 'accrue_ingest_messages_total', { outcome: 'dead_lettered' })).toBe(1);
  });

  // One DLQ copy per poisoned message although SQS delivers at least once (the soak found 2 to 13 copies):
  // the pipeline removes a message from the queue as soon as its dead letters are in the DLQ.
  const poison = '{"v":1,"id":"poison-1","group":{"job":"aria"},"events":[{"kind":"counter"';
  const copiesOf = async (source: string) => {
    const dead = await drainDlq(sqs, h!.dlqUrl);
    return dead.filter((d) => d.source === source).map((d) => d.detail.stage);
  };

  it('dead-letters a poison message once although its batch dies after the commit and comes back', async () => {
    const dies = dyingWorker(2);
    h = await startHarness(sqs, store, {
      concurrency: 1,
      batchingWindowMs: 500,
      hooks: dies.hooks,
    });
    const ids = await h.send([poison, envelope('beside-1', EU, [counter('t_total', 3)])]);
    await settle();
    expect(dies.deaths()).toBe(2);
    expect(scalarTotal(await store.snapshot(), EU, 't_total')).toBe(3);
    expect(await copiesOf(ids[0]!)).toEqual(['decode']);
  });

  it('dead-letters a poison message once when a slow apply lets its visibility expire meanwhile', async () => {
    let slowed = false;
    let slowDone = false;
    const slow = wrap(store, async (reqs) => {
      if (slowed || !reqs.some((r) => r.group.job === 'aria')) return undefined;
      slowed = true;
      await sleep(2500); // > visibility timeout (1 s): another poller receives the batch meanwhile
      const late = await store.apply(reqs);
      slowDone = true;
      return late;
    });
    h = await startHarness(sqs, slow, { concurrency: 2, visibilityTimeoutSeconds: 1, batchingWindowMs: 500 });
    const ids = await h.send([poison, envelope('beside-2', EU, [counter('t_total', 4)])]);
    await until(() => slowed);
    await until(() => slowDone, 10_000, 'slow attempt finished');
    await settle();
    expect(scalarTotal(await store.snapshot(), EU, 't_total')).toBe(4);
    expect(await copiesOf(ids[0]!)).toEqual(['decode']);
  });

  it('dead-letters an invalid event once although its message dies after the commit and comes back', async () => {
    const dies = dyingWorker(1);
    h = await startHarness(sqs, store, {
      concurrency: 1,
      hooks: dies.hooks,
    });
    const mixed = envelope('mixed-2', EU, [
      execution('EURUSD', 2),
      { ...execution('EURUSD', 1), regime: 'X' },
    ]);
    const ids = await h.send([mixed]);
    // The message leaves the queue before its batch ends (its dead letter is in the DLQ): wait for the death.
    await until(() => dies.deaths() === 1, 10_000, 'worker died');
    await settle();
    expect(scalarTotal(await store.snapshot(), EU, 'aria_trade_volume_total')).toBe(2);
    expect(await copiesOf(ids[0]!)).toEqual(['event']);
  });

  it('dead-letters an invalid event once when two deliveries of its message run at the same time', async () => {
    // The first delivery's apply outlasts the visibility timeout: a second poller receives the message,
    // applies it and dead-letters its invalid event; the first then commits as a `duplicate`.
    let slowed = false;
    let slowDone = false;
    const slow = wrap(store, async (reqs) => {
      if (slowed || !reqs.some((r) => r.group.job === 'aria')) return undefined;
      slowed = true;
      await sleep(2500);
      const late = await store.apply(reqs);
      slowDone = true;
      return late;
    });
    h = await startHarness(sqs, slow, { concurrency: 2, visibilityTimeoutSeconds: 1 });
    const mixed = envelope('mixed-3', EU, [
      execution('EURUSD', 2),
      { ...execution('EURUSD', 1), regime: 'X' },
    ]);
    const ids = await h.send([mixed]);
    await until(() => slowed);
    await until(() => slowDone, 10_000, 'slow attempt finished');
    await settle();
    const snap = await store.snapshot();
    expect(scalarTotal(snap, EU, 'aria_trade_volume_total')).toBe(2);
    expect(await copiesOf(ids[0]!)).toEqual(['event']);
    expect(scalarValue(snap, OWN, 'accrue_ingest_events_rejected_total', { reason: 'invalid' })).toBe(1);
  });
});

describe('hostile messages through the whole pipeline (memory store)', () => {
  let store: Store;
  let h: Harness;
  const ids: string[] = [];
  const now = Date.now();
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  const cases: [name: string, body: string, expected: string[]][] = [
    ['events not an array', envelope('h-1', EU, 'x' as unknown as unknown[]), ['decode']],
    ['version as a string', JSON.stringify({ v: '1', group: EU, events: [] }), ['decode']],
    [
      'NaN literal (not JSON)',
      '{"v":1,"group":{"job":"a"},"events":[{"kind":"counter","value":NaN}]}',
      ['decode'],
    ],
    ['__proto__ as a group label', '{"v":1,"group":{"job":"a","__proto__":"x"},"events":[]}', ['decode']],
    [
      'constructor.prototype in the envelope',
      '{"v":1,"group":{"job":"a"},"events":[],"constructor":{"prototype":{"polluted":1}}}',
      ['decode'],
    ],
    ['id with the reserved #', envelope('a#1', EU, []), ['decode']],
    ['deeply nested garbage', deep(2000), ['decode']],
    ['huge counter value', envelope('h-2', EU, [counter('t_total', 1e300)]), ['invalid']],
    [
      'Infinity via 1e999',
      `{"v":1,"id":"h-3","group":{"job":"aria","instance":"eu-1"},"events":[{"kind":"counter","time":${now},"name":"t_total","value":1e999}]}`,
      ['invalid'],
    ],
    ['negative counter increment', envelope('h-4', EU, [counter('t_total', -1)]), ['invalid']],
    [
      'wrong type in a domain event',
      envelope('h-5', EU, [{ ...execution('EURUSD'), latency_seconds: '0.1' }]),
      ['invalid'],
    ],
    ['unknown event kind', envelope('h-6', EU, [{ kind: 'teleport', time: now }]), ['unknown_event']],
    [
      'label value over the limit',
      envelope('h-7', EU, [counter('t_total', 1, { desk: 'x'.repeat(5000) })]),
      ['limit'],
    ],
    [
      '__proto__ as an event label',
      `{"v":1,"id":"h-8","group":{"job":"aria","instance":"eu-1"},"events":[{"kind":"counter","time":${now},"name":"t_total","labels":{"__proto__":"x"},"value":1}]}`,
      ['invalid_name'],
    ],
    [
      'constructor as a label name (valid)',
      envelope('h-9', EU, [counter('t_ctor_total', 1, { constructor: 'x' })]),
      [],
    ],
    [
      'newlines and quotes in a label value (valid)',
      envelope('h-10', EU, [counter('t_quote_total', 3, { desk: 'a"b\nc\\d' })]),
      [],
    ],
  ];

  beforeAll(async () => {
    store = await MemoryStore.open({});
    h = await startHarness(sqs, store, {
      concurrency: 1,
      batchSize: 10,
      batchingWindowMs: 300,
      visibilityTimeoutSeconds: 30,
    });
    ids.push(...(await h.send(cases.map((c) => c[1]))));
    await until(async () => (await queueDepth(sqs, h.queueUrl)) === 0, 60_000, 'queue drained');
  });
  afterAll(async () => {
    await h.stop();
    await store.close();
  });

  let dead: Awaited<ReturnType<typeof drainDlq>> | undefined;
  it.each(cases.map((c, i) => [c[0], i, c[2]] as const))('%s', async (_name, i, expected) => {
    dead ??= await drainDlq(sqs, h.dlqUrl);
    const mine = dead.filter((d) => d.source === ids[i]);
    expect(mine.map((d) => d.reason)).toEqual(expected);
    if (expected.includes('decode')) expect(mine[0]!.body).toBe(cases[i]![1]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stores the valid hostile-looking series exactly', async () => {
    const snap = await store.snapshot();
    expect(scalarValue(snap, EU, 't_ctor_total', { constructor: 'x' })).toBe(1);
    expect(scalarValue(snap, EU, 't_quote_total', { desk: 'a"b\nc\\d' })).toBe(3);
    expect(scalarTotal(snap, EU, 't_total')).toBe(0);
  });
});

describe('a store refusal names the events of the message (memory store)', () => {
  let store: Store;
  let h: Harness;
  beforeAll(async () => {
    store = await MemoryStore.open({});
    h = await startHarness(sqs, store, { concurrency: 1, visibilityTimeoutSeconds: 30 });
  });
  afterAll(async () => {
    await h.stop();
    await store.close();
  });

  it('dead-letters the refused op with the indexes of the events summed into it, as JSON detail', async () => {
    // fc_x exists as a gauge; a later message's counter events for it conflict in the store, after
    // pre-aggregation summed them into one op.
    await h.send([
      envelope('fc-1', EU, [{ kind: 'gauge', time: Date.now(), name: 'fc_x', op: 'set', value: 1 }]),
    ]);
    await until(async () => (await queueDepth(sqs, h.queueUrl)) === 0, 30_000, 'first message applied');
    await until(async () => scalarTotal(await store.snapshot(), EU, 'fc_x') === 1, 30_000, 'gauge stored');
    const [id] = await h.send([
      envelope('fc-2', EU, [
        counter('fc_ok_total', 1),
        counter('fc_x', 2),
        counter('fc_ok_total', 1),
        counter('fc_x', 3),
      ]),
    ]);
    let dead: Awaited<ReturnType<typeof drainDlq>> = [];
    await until(async () => {
      dead = dead.concat(await drainDlq(sqs, h.dlqUrl));
      return dead.length >= 1;
    });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ source: id, reason: 'family_conflict' });
    expect(dead[0]!.detail).toMatchObject({ stage: 'store', index: 1, events: [1, 3] });
    expect(dead[0]!.detail).not.toHaveProperty('opIndex');
    expect(JSON.parse(dead[0]!.body)).toMatchObject({ kind: 'counter_inc', name: 'fc_x', value: 5 });
    expect(scalarTotal(await store.snapshot(), EU, 'fc_ok_total')).toBe(2);
  });
});
