/**
 * Unit tests of the producer client with a fake SQS client (mocks are fine here; the real protocol is
 * in test/integration/client-publisher.test.ts): validation at the call site, packing, backoff, error
 * classification, interval flushing, constructor checks.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { AccruePublisher, isTransientError, PublisherClosedError, packBatches } from '../../../shared/client';
import { buildBody, encodeEvent, envelopeOverhead } from '../../../shared/client/packing';
import { decodeMessage } from '../../../shared/ingest';
import { ValidationError } from '../../../shared/model/errors';
import { ARIA_PROFILE } from '../../../shared/profiles';

const QUEUE = 'http://127.0.0.1:1/000000000000/q';
const GROUP = { job: 'aria-pro', instance: 'unit' };
const NOW = 1_767_225_600_000;

/** Fake SQS: records bodies; always succeeds. */
function fakeSqs(): { sqs: SQSClient; bodies: string[] } {
  const bodies: string[] = [];
  const sqs = {
    send: async (cmd: { input: { Entries: { Id: string; MessageBody: string }[] } }) => {
      for (const e of cmd.input.Entries) bodies.push(e.MessageBody);
      return { Successful: cmd.input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    },
    destroy: () => undefined,
  } as unknown as SQSClient;
  return { sqs, bodies };
}

function publisher(extra: Partial<ConstructorParameters<typeof AccruePublisher>[0]> = {}) {
  const f = fakeSqs();
  const p = new AccruePublisher({ queueUrl: QUEUE, group: GROUP, sqs: f.sqs, now: () => NOW, ...extra });
  return { p, ...f };
}

const exec = {
  symbol: 'EURUSD',
  action: 'BUY',
  status: 'success',
  regime: 'T',
  latency_seconds: 0.02,
  slippage_pips: 0.3,
} as const;

describe('invalid events throw ValidationError at the call site and are not accepted', () => {
  const oversize = 'x'.repeat(300_000);
  it.each<[string, (p: AccruePublisher) => unknown, RegExp]>([
    [
      'NaN latency',
      (p) => p.execution({ ...exec, latency_seconds: Number.NaN }),
      /latency_seconds: must be finite/,
    ],
    [
      'Infinity slippage',
      (p) => p.execution({ ...exec, slippage_pips: Number.POSITIVE_INFINITY }),
      /slippage_pips: must be finite/,
    ],
    [
      'negative latency',
      (p) => p.execution({ ...exec, latency_seconds: -1 }),
      /latency_seconds: must be >= 0/,
    ],
    [
      'huge latency',
      (p) => p.execution({ ...exec, latency_seconds: 1e308 }),
      /latency_seconds: must be <= 3600/,
    ],
    [
      'wrong enum',
      (p) => p.execution({ ...exec, action: 'HOLD' as 'BUY' }),
      /action: must be one of BUY, SELL/,
    ],
    [
      'wrong type',
      (p) => p.connection({ connected: 'yes' as unknown as boolean }),
      /connected: must be true or false/,
    ],
    [
      'string number',
      (p) => p.pnl({ type: 'daily', value: '12' as unknown as number }),
      /value: must be a number/,
    ],
    ['missing field', (p) => p.error({ error_type: 'timeout' } as never), /symbol: is required/],
    ['unknown field', (p) => p.killSwitch({ active: true, reason: 'x' } as never), /reason: unknown field/],
    ['unknown kind', (p) => p.publish({ kind: 'trade' as never }), /unknown event kind "trade"/],
    ['negative counter', (p) => p.counter({ name: 'x_total', value: -1 }), /value: must be >= 0/],
    ['counter above 2^53', (p) => p.counter({ name: 'x_total', value: 2 ** 60 }), /value: must be <= /],
    ['bad metric name', (p) => p.counter({ name: '1bad name' }), /name: must match/],
    ['reserved prefix', (p) => p.counter({ name: 'accrue_ingest_events_accepted_total' }), /reserved/],
    // Drifted copy (issue 12): the client let these through and the decoder refused them.
    ['per-group gauge name', (p) => p.counter({ name: 'push_time_seconds' }), /name: is reserved/],
    ['__ prefix', (p) => p.counter({ name: '__x_total' }), /name: must not start with "__"/],
    [
      '__proto__ label',
      (p) => p.counter({ name: 'x_total', labels: JSON.parse('{"__proto__": "x"}') }),
      /labels.__proto__: label name must not start with "__"/,
    ],
    [
      'NUL in label value',
      (p) => p.counter({ name: 'x_total', labels: { a: 'b\u0000c' } }),
      /must not contain NUL/,
    ],
    [
      'non-string label value',
      (p) => p.counter({ name: 'x_total', labels: { a: 1 as unknown as string } }),
      /must be a string/,
    ],
    [
      'gauge set without value',
      (p) => p.publish({ kind: 'gauge', op: 'set', name: 'g' }),
      /value: is required/,
    ],
    [
      'descending buckets',
      (p) => p.histogram.observe({ name: 'h', value: 1, buckets: [1, 0.5] }),
      /strictly ascending/,
    ],
    [
      'NaN bucket',
      (p) => p.histogram.observe({ name: 'h', value: 1, buckets: [Number.NaN] }),
      /buckets\[0\]: must be finite/,
    ],
    [
      'time beyond the Date range (as the decoder)',
      (p) => p.connection({ connected: true, time: 8.64e15 + 1 }),
      /time: must be <= 8640000000000000 \(end of the Date range\)/,
    ],
    ['fractional time', (p) => p.connection({ connected: true, time: 1.5 }), /time: must be an integer/],
    [
      'oversize event',
      (p) => p.counter({ name: 'x_total', help: oversize }),
      /help: must be a string of at most/,
    ],
    [
      'oversize label value',
      (p) => p.counter({ name: 'x_total', labels: { a: oversize } }),
      /at most 1024 characters/,
    ],
  ])('%s', (_name, call, message) => {
    const { p } = publisher();
    let err: unknown;
    try {
      call(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(message);
    expect(p.stats().eventsAccepted).toBe(0);
  });

  it('reports every problem of an event, not just the first', () => {
    const { p } = publisher();
    expect(() =>
      p.execution({ ...exec, latency_seconds: -1, slippage_pips: Number.NaN, regime: 'X' as 'T' }),
    ).toThrow(/latency_seconds.*; .*slippage_pips.*; |regime.*latency_seconds/);
  });

  it('an event larger than a message is refused with too_large', () => {
    const { p } = publisher({ maxMessageBytes: 1024 });
    expect(() => p.counter({ name: 'x_total', labels: { a: 'y'.repeat(1000) } })).toThrow(
      /a message holds at most/,
    );
  });
});

describe('valid but awkward input round-trips through the real decoder', () => {
  it.each<[string, (p: AccruePublisher) => boolean]>([
    [
      'quotes, backslashes and newlines in label values',
      (p) => p.counter({ name: 'x_total', labels: { note: 'a "q" \\ b\nc' } }),
    ],
    ['a label called constructor', (p) => p.counter({ name: 'x_total', labels: { constructor: 'ok' } })],
    ['unicode', (p) => p.counter({ name: 'x_total', labels: { who: 'Zoë 🚀 €' } })],
    ['counter of 2^53', (p) => p.counter({ name: 'x_total', value: 2 ** 53 })],
    ['gauge dec default', (p) => p.gauge.dec({ name: 'open_orders' })],
    ['histogram', (p) => p.histogram.observe({ name: 'fill_seconds', value: 0.3, buckets: [0.1, 0.5, 1] })],
    ['push', (p) => p.push('PUT', '# TYPE up gauge\nup 1\n')],
    [
      'every ARIA event',
      (p) =>
        p.execution(exec) &&
        p.error({ error_type: 'requote', symbol: 'XAUUSD' }) &&
        p.pnl({ type: 'real_time', value: -3.5 }) &&
        p.performance({ win_rate: 0.61, drawdown_percent: 4.2 }) &&
        p.connection({ connected: true }) &&
        p.killSwitch({ active: false }),
    ],
  ])('%s', async (_name, call) => {
    const { p, bodies } = publisher();
    expect(call(p)).toBe(true);
    await p.close();
    expect(bodies).toHaveLength(1);
    const d = decodeMessage(bodies[0]!, 'fallback', ARIA_PROFILE, { nowMs: NOW });
    expect(d.rejected).toEqual([]);
    expect(d.acceptedCount).toBe(p.stats().eventsAccepted);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ v: 1, group: GROUP });
  });
});

describe('event times ahead of the clock: the client and the gateway agree', () => {
  it.each([
    ['1 h ahead', 3_600_000, NOW + 300_000, 1],
    ['just inside the skew', 300_000, NOW + 300_000, undefined],
    ['a year ahead (gauge set)', 365 * 86_400_000, NOW + 300_000, 1],
  ])(
    '%s: accepted here, clamped to SentTimestamp + skew by the decoder',
    async (_n, ahead, applied, clamped) => {
      const { p, bodies } = publisher();
      expect(p.publish({ kind: 'gauge', op: 'set', name: 'ahead_g', value: 1, time: NOW + ahead })).toBe(
        true,
      );
      await p.close();
      const d = decodeMessage(bodies[0]!, 'fallback', ARIA_PROFILE, { nowMs: NOW, maxFutureMs: 300_000 });
      expect(d.rejected).toEqual([]);
      expect(d.acceptedCount).toBe(1);
      expect(d.clamped).toBe(clamped);
      expect(JSON.stringify(d)).toContain(String(applied));
    },
  );
});

describe('packing', () => {
  it('body size is exactly overhead + event bytes + commas', () => {
    const group = JSON.stringify(GROUP);
    const evs = [encodeEvent({ a: 'é' }), encodeEvent({ b: 2 }), encodeEvent({ c: '🚀' })];
    const body = buildBody('123e4567-e89b-12d3-a456-426614174000', group, evs);
    expect(Buffer.byteLength(body)).toBe(envelopeOverhead(group) + evs.reduce((s, e) => s + e.bytes, 0) + 2);
    expect(JSON.parse(body).events).toEqual([{ a: 'é' }, { b: 2 }, { c: '🚀' }]);
  });

  it.each([
    [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 10, 100, [10, 2]],
    [[60, 50, 40], 10, 100, [1, 2]],
    [[200, 1], 10, 100, [1, 1]],
    [[], 10, 100, []],
  ])('packBatches(%j, %d entries, %d bytes)', (sizes, entries, bytes, expected) => {
    const out = packBatches(
      sizes.map((b) => ({ bytes: b })),
      entries,
      bytes,
    );
    expect(out.map((b) => b.length)).toEqual(expected);
  });

  it('seals a message before it would exceed maxMessageBytes', async () => {
    const { p, bodies } = publisher({ maxMessageBytes: 2000 });
    for (let i = 0; i < 200; i++) p.counter({ name: 'x_total', labels: { i: String(i) } });
    await p.close();
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(2000);
    // every message but the last is at least half full
    for (const b of bodies.slice(0, -1)) expect(Buffer.byteLength(b)).toBeGreaterThan(1000);
    expect(bodies.reduce((n, b) => n + JSON.parse(b).events.length, 0)).toBe(200);
    expect(new Set(bodies.map((b) => JSON.parse(b).id)).size).toBe(bodies.length);
  });
});

describe('error classification (backoff: test/unit/aws/retry.test.ts)', () => {
  it.each<[string, unknown, boolean]>([
    ['throttling', { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }, true],
    ['retryable flag', { name: 'X', $retryable: {}, $metadata: { httpStatusCode: 400 } }, true],
    ['500', { name: 'X', $metadata: { httpStatusCode: 500 } }, true],
    ['429', { name: 'X', $metadata: { httpStatusCode: 429 } }, true],
    ['network', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['queue missing', { name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } }, false],
    ['access denied', { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }, false],
    ['not an object', 'boom', false],
    ['null', null, false],
  ])('%s → transient %s', (_n, err, transient) => {
    expect(isTransientError(err)).toBe(transient);
  });
});

describe('lifecycle', () => {
  it('the interval flushes a partial message without close()', async () => {
    const { p, bodies } = publisher({ flushIntervalMs: 20 });
    p.killSwitch({ active: true });
    const deadline = Date.now() + 2000;
    while (bodies.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(bodies).toHaveLength(1);
    await p.close();
  });

  it('flush() waits for delivery; close() refuses new events and is idempotent', async () => {
    const { p, bodies } = publisher();
    p.pnl({ type: 'daily', value: 1 });
    await p.flush();
    expect(bodies).toHaveLength(1);
    const a = p.close();
    expect(p.close()).toBe(a);
    expect(() => p.pnl({ type: 'daily', value: 2 })).toThrow(PublisherClosedError);
    expect(await a).toMatchObject({ eventsAccepted: 1, eventsSent: 1 });
  });

  it('fills in time with the clock when absent and keeps a given time', async () => {
    const { p, bodies } = publisher();
    p.connection({ connected: true });
    p.connection({ connected: false, time: NOW - 5 });
    await p.close();
    expect(JSON.parse(bodies[0]!).events.map((e: { time: number }) => e.time)).toEqual([NOW, NOW - 5]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no job', { group: { instance: 'x' } }, /group.job|grouping_key.job/],
    ['bad queue url', { queueUrl: 'not a url' }, /queueUrl/],
    ['__proto__ group label', { group: JSON.parse('{"job":"a","__proto__":"x"}') }, /__/],
    ['message limit above SQS', { maxMessageBytes: 300_000 }, /maxMessageBytes/],
    ['NaN interval', { flushIntervalMs: Number.NaN }, /flushIntervalMs/],
    ['bad whenFull', { whenFull: 'block' }, /whenFull/],
  ])('constructor refuses %s', (_n, opts, message) => {
    const f = fakeSqs();
    expect(
      () => new AccruePublisher({ queueUrl: QUEUE, group: GROUP, sqs: f.sqs, ...opts } as never),
    ).toThrow(message);
  });

  it('a throwing onError callback does not break delivery accounting', async () => {
    const sqs = {
      send: async () => {
        throw Object.assign(new Error('nope'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      },
      destroy() {},
    } as unknown as SQSClient;
    const p = new AccruePublisher({
      queueUrl: QUEUE,
      group: GROUP,
      sqs,
      onError: () => {
        throw new Error('callback bug');
      },
    });
    p.killSwitch({ active: true });
    expect(await p.close()).toMatchObject({ eventsAccepted: 1, eventsFailed: 1, eventsBuffered: 0 });
  });
});

describe('hostile shapes through the typed methods', () => {
  it.each<[string, (p: AccruePublisher) => unknown, RegExp]>([
    [
      'buckets not an array',
      (p) => p.histogram.observe({ name: 'h', value: 1, buckets: 'nope' as never }),
      /buckets: must be an array/,
    ],
    ['an event that is null', (p) => p.publish(null as never), /.+/],
  ])('%s is refused', (_n, call, message) => {
    const { p } = publisher();
    expect(() => call(p)).toThrow(message);
    expect(p.stats().eventsAccepted).toBe(0);
  });
});

it('a kind or op smuggled into a typed method cannot change what it sends', async () => {
  const { p, bodies } = publisher();
  p.execution({ ...exec, kind: 'counter' } as never);
  p.gauge.set({ name: 'g', value: 5, op: 'inc' } as never);
  await p.close();
  const events = JSON.parse(bodies[0]!).events as { kind: string; op?: string }[];
  expect(events.map((e) => [e.kind, e.op])).toEqual([
    ['execution', undefined],
    ['gauge', 'set'],
  ]);
}, 10_000);

it('retries with a frozen injected clock (scheduling uses the real clock)', async () => {
  let calls = 0;
  const sqs = {
    send: async (cmd: { input: { Entries: { Id: string }[] } }) => {
      calls++;
      if (calls < 3)
        throw Object.assign(new Error('slow down'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400 },
        });
      return { Successful: cmd.input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    },
    destroy: () => undefined,
  } as unknown as SQSClient;
  const p = new AccruePublisher({
    queueUrl: QUEUE,
    group: GROUP,
    sqs,
    now: () => NOW,
    backoffBaseMs: 5,
    backoffMaxMs: 10,
  });
  p.killSwitch({ active: true });
  expect(await p.close()).toMatchObject({ eventsSent: 1, messagesRetried: 2, sendCalls: 3 });
}, 10_000);
