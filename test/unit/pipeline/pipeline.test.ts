import {
  type BatchResult,
  type IngestRecord,
  OWN_JOB,
  OwnMetrics,
  ownMetricsRequest,
  processBatch,
} from '../../../shared/ingest/pipeline';
import { TransientError } from '../../../shared/model/errors';
import { ARIA_PROFILE } from '../../../shared/profiles';
import type { CounterInc, HistogramObserve } from '../../../shared/store/types';
import { FakeStore, fakeDecode, RecordingLogger, RecordingSink, rec } from './fakes';

function setup() {
  const store = new FakeStore();
  const sink = new RecordingSink();
  const logger = new RecordingLogger();
  let clock = 1_000_000;
  const deps = {
    store,
    profile: ARIA_PROFILE,
    decode: fakeDecode,
    deadLetters: sink,
    logger,
    now: () => (clock += 5),
    instance: 'unit',
  };
  return { store, sink, logger, deps, run: (records: IngestRecord[]) => processBatch(records, deps) };
}

const failures = (r: BatchResult) => r.batchItemFailures.map((f) => f.itemIdentifier).sort();
/** Apply calls that carry messages (the last call of a batch is the own-metrics write). */
const messageCalls = (store: FakeStore) =>
  store.applyCalls.filter((c) => !c.some((r) => r.group.job === OWN_JOB));

describe('processBatch: exactly once and one apply per batch', () => {
  it('applies every message with ONE store.apply call and answers no failures', async () => {
    const { store, run } = setup();
    const r = await run([rec('m1', { n: 2 }), rec('m2', { n: 3 }), rec('m3', { id: 'k3', n: 5 })]);
    expect(r.batchItemFailures).toEqual([]);
    expect(messageCalls(store)).toHaveLength(1);
    expect(messageCalls(store)[0]!.map((q) => q.id)).toEqual(['m1', 'm2', 'k3']);
    expect(store.total).toBe(10);
    expect(r.stats.outcomes).toEqual({ applied: 3, duplicate: 0, failed: 0, dead_lettered: 0 });
    expect(r.stats.eventsAccepted).toBe(10);
  });

  it('sends one request per idempotency key; copies in the batch are duplicates', async () => {
    const { store, run } = setup();
    const r = await run([rec('a', { id: 'same', n: 4 }), rec('b', { id: 'same', n: 4 }), rec('c', { n: 1 })]);
    expect(messageCalls(store)[0]!.map((q) => q.id)).toEqual(['same', 'c']);
    expect(store.total).toBe(5);
    expect(r.stats.outcomes.duplicate).toBe(1);
    expect(r.batchItemFailures).toEqual([]);
  });

  it('counts a redelivered message once and reports it as a duplicate', async () => {
    const { store, run } = setup();
    await run([rec('m1', { n: 7 })]);
    const again = await run([rec('m1', { n: 7 })]);
    expect(store.total).toBe(7);
    expect(again.stats.outcomes).toEqual({ applied: 0, duplicate: 1, failed: 0, dead_lettered: 0 });
    expect(again.stats.eventsAccepted).toBe(0);
  });
});

describe('processBatch: transient failures are retried, nothing else', () => {
  it('returns only the records whose store result is failed', async () => {
    const { store, run } = setup();
    store.failIds.add('m2');
    const r = await run([rec('m1', { n: 1 }), rec('m2', { n: 1 }), rec('m3', { n: 1 })]);
    expect(failures(r)).toEqual(['m2']);
    expect(store.total).toBe(2);
  });

  it('fails an in-batch copy together with the record it copies', async () => {
    const { store, run } = setup();
    store.failIds.add('k');
    const r = await run([rec('a', { id: 'k', n: 1 }), rec('b', { id: 'k', n: 1 })]);
    expect(failures(r)).toEqual(['a', 'b']);
  });

  it('fails every decoded record when store.apply throws, and still dead-letters undecodable ones', async () => {
    const { store, sink, run } = setup();
    store.throwOnApply = true;
    const r = await run([rec('m1', { n: 1 }), rec('bad', 'not json')]);
    expect(failures(r)).toEqual(['m1']);
    expect(sink.sent.map((e) => [e.messageId, e.reason])).toEqual([['bad', 'decode']]);
  });

  it('retries a message whose push is throttled and stops its later pushes', async () => {
    const { store, run } = setup();
    const r = await run([rec('m1', { n: 1, pushes: ['THROTTLE', 'PUT'] }), rec('m2', { pushes: ['POST'] })]);
    expect(failures(r)).toEqual(['m1']);
    expect(store.pushes.map((p) => p.method)).toEqual(['POST']);
  });

  it('retries a transient decode failure instead of dead-lettering it', async () => {
    const { sink, run } = setup();
    const r = await run([rec('m1', { fail: 'transient' })]);
    expect(failures(r)).toEqual(['m1']);
    expect(sink.sent).toEqual([]);
  });
});

describe('processBatch: permanent failures go to the DLQ with their reason', () => {
  it.each([
    ['not JSON', 'not json', 'decode'],
    ['empty body', '', 'decode'],
    ['JSON null', 'null', 'decode'],
    ['a number', '1e999', 'decode'],
    ['decoder refuses the envelope', JSON.stringify({ fail: 'decode' }), 'decode'],
    ['decoder crashes (a bug)', JSON.stringify({ fail: 'crash' }), 'internal'],
    [
      '__proto__ pollution attempt',
      '{"__proto__":{"fail":"decode"},"constructor":{"prototype":{"x":1}}}',
      'ok',
    ],
    ['newlines and quotes', '{"id":"a\\"b\\nc","n":1}', 'ok'],
    ['oversize garbage', 'x'.repeat(300_000), 'decode'],
  ])('%s', async (_name, body, reason) => {
    const { sink, store, run } = setup();
    const r = await run([rec('poison', body), rec('good', { n: 2 })]);
    expect(r.batchItemFailures).toEqual([]);
    expect(store.total).toBe(reason === 'ok' ? 2 + (body.includes('"n":1') ? 1 : 0) : 2);
    if (reason === 'ok') {
      expect(sink.sent).toEqual([]);
    } else {
      expect(sink.sent).toHaveLength(1);
      expect(sink.sent[0]).toMatchObject({ messageId: 'poison', body, reason });
      expect(r.stats.outcomes.dead_lettered).toBe(1);
      expect(r.stats.rejected).toEqual({ [reason]: 1 });
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('copies each rejected event with its index while the valid events are applied', async () => {
    const { sink, store, run } = setup();
    const events = [
      { kind: 'counter' },
      { kind: 'bad', value: 'NaN' },
      { kind: 'counter' },
      { kind: 'bad', value: Infinity },
    ];
    const r = await run([rec('m1', { n: 2, rejected: [1, 3], events })]);
    expect(store.total).toBe(2);
    expect(r.batchItemFailures).toEqual([]);
    expect(sink.sent.map((e) => [e.reason, e.detail.index, JSON.parse(e.body)])).toEqual([
      ['invalid', 1, events[1]],
      ['invalid', 3, { kind: 'bad', value: null }],
    ]);
    expect(r.stats.rejected).toEqual({ invalid: 2 });
  });

  it('copies ops the store refused (family conflict) with the op itself', async () => {
    const { sink, store, run } = setup();
    store.rejectOps.add('t_total');
    const r = await run([rec('m1', { n: 3 })]);
    expect(r.batchItemFailures).toEqual([]);
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0]!.reason).toBe('family_conflict');
    expect(JSON.parse(sink.sent[0]!.body)).toMatchObject({ kind: 'counter_inc', name: 't_total', value: 3 });
    expect(r.stats.rejected).toEqual({ family_conflict: 1 });
  });

  it('dead-letters a refused push, records the push failure and continues with the next push', async () => {
    const { sink, store, run } = setup();
    const r = await run([rec('m1', { pushes: ['CONFLICT', 'PUT'] })]);
    expect(r.batchItemFailures).toEqual([]);
    expect(store.pushes.map((p) => p.group.job)).toEqual(['test']);
    expect(store.pushFailures).toEqual([{ group: { job: 'conflict' }, reason: 'family_conflict' }]);
    expect(sink.sent.map((e) => [e.reason, e.detail.stage, e.detail.pushIndex])).toEqual([
      ['family_conflict', 'push', 0],
    ]);
  });

  it('runs the pushes of a duplicate again (idempotent by push time) but not its rejections count', async () => {
    const { store, run } = setup();
    await run([rec('m1', { n: 1, pushes: ['PUT'], rejected: [1] })]);
    const again = await run([rec('m1', { n: 1, pushes: ['PUT'], rejected: [1] })]);
    expect(store.pushes).toHaveLength(2);
    expect(again.stats.rejected).toEqual({});
  });
});

describe('processBatch: dead letters claimed once per message (concurrent deliveries)', () => {
  it('retries a delivery whose dead letters another delivery is sending, and sends nothing', async () => {
    const { sink, store, run } = setup();
    const first = await run([rec('p', 'not json')]);
    const [key] = [...store.claims.keys()];
    expect(sink.sent).toHaveLength(1);
    store.claims.set(key!, 'live-token'); // another delivery's claim, not settled yet
    const r = await run([rec('p', 'not json')]);
    expect(failures(r)).toEqual(['p']);
    expect(r.stats).toMatchObject({ deadLetters: 0, rejected: {} });
    expect(sink.sent).toHaveLength(1);
    expect(first.stats.rejected).toEqual({ decode: 1 });
  });

  it('answers a delivery whose dead letters were already sent as a duplicate: nothing sent or counted', async () => {
    const { sink, run } = setup();
    await run([rec('p', 'not json'), rec('m', { n: 1, rejected: [1] })]);
    const again = await run([rec('p', 'not json'), rec('m', { n: 1, rejected: [1] })]);
    expect(again.batchItemFailures).toEqual([]);
    expect(again.stats).toMatchObject({ deadLetters: 0, rejected: {} });
    expect(again.stats.outcomes).toMatchObject({ duplicate: 2, dead_lettered: 0 });
    expect(sink.sent.map((e) => e.messageId)).toEqual(['p', 'm']);
  });

  it('releases the claim when the DLQ refuses, so the retry sends', async () => {
    const { sink, run } = setup();
    sink.mode = 'throw';
    expect(failures(await run([rec('m', { n: 1, rejected: [0] })]))).toEqual(['m']);
    sink.mode = 'ok';
    const r = await run([rec('m', { n: 1, rejected: [0] })]);
    expect(r.batchItemFailures).toEqual([]);
    expect(sink.sent).toHaveLength(1);
  });

  it('retries a record whose claim the store could not answer', async () => {
    const { sink, store, run } = setup();
    store.claimDeadLetters = async () => {
      throw new TransientError('ledger throttled');
    };
    const r = await run([rec('p', 'not json'), rec('ok', { n: 1 })]);
    expect(failures(r)).toEqual(['p']);
    expect(sink.sent).toEqual([]);
  });
});

describe('processBatch: a failed DLQ send never loses a record', () => {
  it('returns every record with dead letters as a failure when the sink throws', async () => {
    const { sink, run } = setup();
    sink.mode = 'throw';
    const r = await run([rec('bad', 'nope'), rec('rej', { n: 1, rejected: [0] }), rec('ok', { n: 1 })]);
    expect(failures(r)).toEqual(['bad', 'rej']);
    expect(r.stats.outcomes).toMatchObject({ failed: 2, applied: 1 });
  });

  it('returns only the owners of the entries the sink refused', async () => {
    const { sink, run } = setup();
    sink.mode = 'fail-odd';
    const r = await run([rec('a', 'x'), rec('b', 'y'), rec('c', 'z')]);
    expect(failures(r)).toEqual(['b']);
    expect(sink.sent.map((e) => e.messageId)).toEqual(['a', 'c']);
  });
});

describe('own metrics', () => {
  it('writes one ApplyRequest per batch under {job="accrue", instance}', async () => {
    const { store, run } = setup();
    await run([rec('m1', { n: 2, rejected: [0] }), rec('m1b', { id: 'm1', n: 2 }), rec('bad', '{')]);
    const own = store.applyCalls.at(-1)!;
    expect(own).toHaveLength(1);
    expect({ ...own[0]!.group }).toEqual({ job: 'accrue', instance: 'unit' });
    const byName = (name: string) =>
      own[0]!.ops.filter((o): o is CounterInc => o.name === name && o.kind === 'counter_inc');
    const hist = (name: string) =>
      own[0]!.ops.find((o): o is HistogramObserve => o.name === name && o.kind === 'histogram_observe');
    expect(byName('accrue_ingest_events_accepted_total').map((o) => o.value)).toEqual([2]);
    expect(byName('accrue_ingest_events_rejected_total').map((o) => [o.labels.reason, o.value])).toEqual([
      ['decode', 1],
      ['invalid', 1],
    ]);
    expect(
      Object.fromEntries(byName('accrue_ingest_messages_total').map((o) => [o.labels.outcome, o.value])),
    ).toEqual({
      applied: 1,
      duplicate: 1,
      failed: 0,
      dead_lettered: 1,
    });
    expect(byName('accrue_ingest_duplicates_skipped_total').map((o) => o.value)).toEqual([1]);
    const size = hist('accrue_ingest_batch_size')!;
    expect(size.sum).toBe(3);
    expect(size.counts[size.bounds.indexOf(5)]).toBe(1);
  });

  it.each([
    [0, 0],
    [0.001, 0],
    [0.0011, 1],
    [10, 11],
    [11, 12],
    [Number.MAX_VALUE, 12],
  ])('apply duration %p s lands in bucket %p', (seconds, bucket) => {
    const req = ownMetricsRequest(
      {
        messages: 1,
        outcomes: { applied: 1, duplicate: 0, failed: 0, dead_lettered: 0 },
        eventsAccepted: 1,
        rejected: {},
        deadLetters: 0,
        applyDurationMs: seconds * 1000,
      },
      'i',
      0,
    );
    const h = req.ops.find((o) => o.name === 'accrue_ingest_apply_duration_seconds') as HistogramObserve;
    expect(h.counts.length).toBe(h.bounds.length + 1);
    expect(h.counts.indexOf(1)).toBe(bucket);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(h.count);
  });

  it('gives each batch a fresh request id so own metrics are never skipped as duplicates', () => {
    const stats = {
      messages: 1,
      outcomes: { applied: 1, duplicate: 0, failed: 0, dead_lettered: 0 },
      eventsAccepted: 1,
      rejected: {},
      deadLetters: 0,
      applyDurationMs: 1,
    };
    expect(ownMetricsRequest(stats, 'i', 0).id).not.toBe(ownMetricsRequest(stats, 'i', 0).id);
  });

  it('does not fail the batch when the own-metrics write throws', async () => {
    const { store, logger, deps } = setup();
    const orig = store.apply.bind(store);
    store.apply = async (reqs) => {
      if (reqs[0]?.group.job === OWN_JOB) throw new Error('boom');
      return orig(reqs);
    };
    const r = await processBatch([rec('m1', { n: 1 })], deps);
    expect(r.batchItemFailures).toEqual([]);
    expect(logger.lines.some((l) => l.message === 'own metrics not written; kept for the next batch')).toBe(
      true,
    );
  });

  it('carries counts a failed write could not store into the next write', async () => {
    const { store, deps } = setup();
    const own = new OwnMetrics('unit');
    const orig = store.apply.bind(store);
    let refuse = true;
    store.apply = async (reqs) => {
      if (refuse && reqs[0]?.group.job === OWN_JOB) {
        return reqs.map((r) => ({
          id: r.id,
          status: 'failed' as const,
          error: new TransientError('throttled'),
          rejected: [],
        }));
      }
      return orig(reqs);
    };
    await processBatch([rec('m1', { n: 1 }), rec('m2', { n: 2 })], { ...deps, ownMetrics: own });
    expect(own.pending).toBe(true);
    refuse = false;
    await processBatch([rec('m3', { n: 4 })], { ...deps, ownMetrics: own });
    expect(own.pending).toBe(false);
    const written = [...store.applied.values()].filter((r) => r.group.job === OWN_JOB);
    expect(written).toHaveLength(1);
    const value = (name: string, label?: string) =>
      written[0]!.ops.find(
        (o): o is CounterInc =>
          o.kind === 'counter_inc' && o.name === name && (label === undefined || o.labels.outcome === label),
      )?.value;
    expect(value('accrue_ingest_events_accepted_total')).toBe(7);
    expect(value('accrue_ingest_messages_total', 'applied')).toBe(3);
    const size = written[0]!.ops.find(
      (o): o is HistogramObserve => o.kind === 'histogram_observe' && o.name === 'accrue_ingest_batch_size',
    )!;
    expect([size.count, size.sum]).toEqual([2, 3]);
  });
});

describe('logs', () => {
  it('carry the correlation id (idempotency key) of each message that needs attention', async () => {
    const { store, logger, run } = setup();
    store.failIds.add('key-1');
    await run([rec('sqs-1', { id: 'key-1', n: 1 }), rec('sqs-2', 'garbage')]);
    const warn = logger.lines.filter((l) => l.level === 'warn');
    expect(warn.map((l) => [l.fields.correlation_id, l.fields.outcome])).toEqual([
      ['key-1', 'failed'],
      ['sqs-2', 'dead_lettered'],
    ]);
  });
});
