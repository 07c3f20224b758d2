/**
 * Idempotency keys and the decoder's clock (issue 11 defects 1 and 5, issue 13's producer scope): the
 * real decoder and the memory store behind processBatch.
 */
import { type IngestRecord, processBatch } from '../../../shared/ingest/pipeline';
import { ARIA_PROFILE } from '../../../shared/profiles';
import { MemoryStore } from '../../../shared/store/memory';
import type { Store } from '../../../shared/store/types';
import { seriesValue } from '../../contract/helpers';
import { RecordingLogger, RecordingSink } from './fakes';

const T0 = 1_767_225_600_000;
const G = { job: 'desk', instance: 'eu-1' };

function body(events: unknown[], id?: string): string {
  return JSON.stringify({ v: 1, ...(id ? { id } : {}), group: G, events });
}
const counter = (name: string, time: number, value = 1) => ({ kind: 'counter', time, name, value });

function record(messageId: string, b: string, attributes: Record<string, string> = {}): IngestRecord {
  return { messageId, body: b, receiveCount: 1, attributes };
}

async function setup(nowMs: number, maxFutureMs?: number) {
  const store: Store = await MemoryStore.open();
  const sink = new RecordingSink();
  let clock = nowMs;
  const run = (records: IngestRecord[]) =>
    processBatch(records, {
      store,
      profile: ARIA_PROFILE,
      ...(maxFutureMs === undefined ? {} : { decodeOptions: { maxFutureMs } }),
      deadLetters: sink,
      logger: new RecordingLogger(),
      now: () => clock,
      instance: 'unit',
      ownMetrics: false,
    });
  return { store, sink, run, setClock: (t: number) => (clock = t) };
}

const total = async (store: Store, name: string) => seriesValue(await store.snapshot(), G, name);

describe('idempotency keys', () => {
  it('a body without id re-sent under a new SQS message id is applied once', async () => {
    const { store, run } = await setup(T0);
    const b = body([counter('orders_total', T0, 5)]);
    await run([record('sqs-1', b)]);
    const again = await run([record('sqs-2', b)]); // producer re-send, or a DLQ redrive
    expect(again.stats.outcomes.duplicate).toBe(1);
    expect(await total(store, 'orders_total')).toBe(5);
    // Other bytes are another message.
    await run([record('sqs-3', body([counter('orders_total', T0 + 1, 5)]))]);
    expect(await total(store, 'orders_total')).toBe(10);
  });

  it("one producer's id never makes another producer's message a duplicate", async () => {
    const { store, run } = await setup(T0);
    const b = body([counter('orders_total', T0, 1)], 'nightly-2026-12-03');
    await run([record('1', b, { SenderId: 'AIDAPRODUCERA' })]);
    const r = await run([record('2', b, { SenderId: 'AIDAPRODUCERB' })]);
    expect(r.stats.outcomes.applied).toBe(1);
    // The same producer's redelivery is still a duplicate.
    const d = await run([record('3', b, { SenderId: 'AIDAPRODUCERA' })]);
    expect(d.stats.outcomes.duplicate).toBe(1);
    expect(await total(store, 'orders_total')).toBe(2);
  });
});

describe("the decoder's clock is the message's SentTimestamp", () => {
  it('an event ahead of the skew is clamped the same way on a later redelivery', async () => {
    const sent = T0;
    const { store, run, setClock } = await setup(sent);
    // 95 series, one event 5 min 20 s ahead of the send time: clamped to SentTimestamp + 300 s on every
    // delivery, also 30 s later when the ingest clock would let it through (with the ingest clock, the
    // plan changed and counted twice).
    const events = [];
    for (let i = 0; i < 95; i++) events.push(counter(`s${i}_total`, sent - 1000));
    events.push(counter('late_total', sent + 320_000));
    const b = body(events, 'near-future');
    const attrs = { SentTimestamp: String(sent) };
    const first = await run([record('m', b, attrs)]);
    expect(first.stats.outcomes.applied).toBe(1);
    setClock(sent + 30_000); // redelivered 30 s later: the ingest clock moved, the message did not
    const again = await run([record('m', b, attrs)]);
    expect(again.stats.outcomes).toMatchObject({ duplicate: 1, dead_lettered: 0, failed: 0 });
    expect(await total(store, 's0_total')).toBe(1);
    expect(await total(store, 'late_total')).toBe(1);
    const group = (await store.snapshot()).groups.find((g) => g.key['job'] === G.job)!;
    expect(group.lastEventMs).toBe(sent + 300_000);
  });

  it("clamps a producer pinning a gauge ahead: the owner's next set still wins", async () => {
    const sent = T0;
    const { store, run, setClock } = await setup(sent, 1_000);
    const gauge = (time: number, value: number) => ({ kind: 'gauge', time, name: 'pos', op: 'set', value });
    // time = now + 299 s once pinned the gauge for five minutes; with a 1 s skew it is clamped to sent + 1 s.
    await run([record('a', body([gauge(sent + 299_000, 666)], 'pin'), { SentTimestamp: String(sent) })]);
    setClock(sent + 2_000);
    const r = await run([
      record('b', body([gauge(sent + 2_000, 7)], 'owner'), { SentTimestamp: String(sent + 2_000) }),
    ]);
    expect(r.stats.outcomes.applied).toBe(1);
    expect(await total(store, 'pos')).toBe(7);
  });

  it('a redelivery whose content changed is dead-lettered with its reason, never re-applied', async () => {
    const { store, sink, run } = await setup(T0);
    await run([record('m', body([counter('orders_total', T0, 1)], 'k1'))]);
    const r = await run([record('m', body([counter('orders_total', T0, 7)], 'k1'))]);
    expect(r.batchItemFailures).toEqual([]);
    expect(r.stats.outcomes.dead_lettered).toBe(1);
    expect(sink.sent.map((e) => e.reason)).toEqual(['redelivery_mismatch']);
    expect(sink.sent[0]!.detail).toMatchObject({ stage: 'store', idempotencyKey: 'k1' });
    expect(await total(store, 'orders_total')).toBe(1);
  });
});
