import { loadConfig } from '../../../shared/config';
import { decodeOptionsFromConfig } from '../../../shared/ingest/decode';
import { DecodeError } from '../../../shared/ingest/errors';
import { AccrueError } from '../../../shared/model/errors';
import { decode, envelope, execution, type Json, NOW } from './helpers';

const big = (n: number) => 'x'.repeat(n);

/** [case, body, expected problem paths, substring of the message] */
const undecodable: [string, string, string[], string][] = [
  ['empty body', '', ['body'], 'body: is not JSON'],
  ['not JSON', 'hello', ['body'], 'body: is not JSON'],
  ['truncated JSON', '{"v":1,"group":{"job":"a"},"events":[', ['body'], 'is not JSON'],
  ['JSON array', '[]', ['body'], 'body: must be a JSON object (envelope v1)'],
  ['JSON string', '"x"', ['body'], 'must be a JSON object'],
  ['JSON null', 'null', ['body'], 'must be a JSON object'],
  ['missing v', JSON.stringify({ group: { job: 'a' }, events: [] }), ['v'], 'v: is required (must be 1)'],
  ['wrong v', JSON.stringify({ v: 2, group: { job: 'a' }, events: [] }), ['v'], 'v: must be 1'],
  ['v as string', JSON.stringify({ v: '1', group: { job: 'a' }, events: [] }), ['v'], 'v: must be 1'],
  ['missing group', JSON.stringify({ v: 1, events: [] }), ['group'], 'group: is required'],
  [
    'group an array',
    JSON.stringify({ v: 1, group: ['a'], events: [] }),
    ['group'],
    'group: must be an object',
  ],
  [
    'group without job',
    JSON.stringify(envelope([], { instance: 'x' })),
    ['group.job'],
    'group.job: is required and must not be empty',
  ],
  [
    'group with empty job',
    JSON.stringify(envelope([], { job: '' })),
    ['group.job'],
    'group.job: is required',
  ],
  [
    'group label value a number',
    JSON.stringify(envelope([], { job: 'a', shard: 3 })),
    ['group.shard'],
    'group.shard: must be a string',
  ],
  [
    'group label name invalid',
    JSON.stringify(envelope([], { job: 'a', 'a-b': 'x' })),
    ['group.a-b'],
    'label name must match',
  ],
  [
    'group __proto__ label',
    '{"v":1,"group":{"job":"a","__proto__":"x"},"events":[]}',
    ['group.__proto__'],
    'must not start with "__"',
  ],
  [
    'group NUL value',
    JSON.stringify(envelope([], { job: 'a\u0000b' })),
    ['group.job'],
    'must not contain NUL',
  ],
  [
    'group value oversize',
    JSON.stringify(envelope([], { job: big(1025) })),
    ['group.job'],
    'must be at most 1024 characters (maxLabelValueLength)',
  ],
  ['events missing', JSON.stringify({ v: 1, group: { job: 'a' } }), ['events'], 'events: is required'],
  [
    'events an object',
    JSON.stringify({ v: 1, group: { job: 'a' }, events: {} }),
    ['events'],
    'events: must be an array',
  ],
  [
    'unknown envelope field',
    JSON.stringify(envelope([], { job: 'a' }, { meta: 1 })),
    ['meta'],
    'meta: unknown field',
  ],
  [
    '__proto__ envelope field',
    '{"v":1,"group":{"job":"a"},"events":[],"__proto__":{"v":1}}',
    ['__proto__'],
    '__proto__: unknown field (known: v, id, group, events)',
  ],
  ['id a number', JSON.stringify(envelope([], { job: 'a' }, { id: 5 })), ['id'], 'id: must be a string'],
  [
    'id empty',
    JSON.stringify(envelope([], { job: 'a' }, { id: '' })),
    ['id'],
    'id: must be a string of 1 to 128 characters',
  ],
  [
    'id too long',
    JSON.stringify(envelope([], { job: 'a' }, { id: big(129) })),
    ['id'],
    'id: must be a string of 1 to 128 characters',
  ],
  [
    'id with # (reserved for store parts)',
    JSON.stringify(envelope([], { job: 'a' }, { id: 'a#1' })),
    ['id'],
    "'#' is reserved",
  ],
  [
    'id with a newline',
    JSON.stringify(envelope([], { job: 'a' }, { id: 'a\nb' })),
    ['id'],
    'id: must be a string of 1 to 128 characters matching ^[A-Za-z0-9_.:/@+=-]+$',
  ],
  [
    'every problem at once',
    JSON.stringify({ v: 3, id: 7, group: { job: '' }, events: 'x', extra: true }),
    ['extra', 'v', 'id', 'events', 'group.job'],
    'undecodable message',
  ],
  [
    'over 256 KiB',
    JSON.stringify(envelope([execution({ symbol: big(262_144) })])),
    ['body'],
    'body: must be at most 262144 bytes',
  ],
  [
    'over 256 KiB in UTF-8 bytes only',
    JSON.stringify(envelope([{ kind: 'counter', time: 1, name: 'x', help: '€'.repeat(90_000) }])),
    ['body'],
    'must be at most 262144 bytes',
  ],
];

describe('whole-message decode errors', () => {
  it.each(undecodable)('%s → DecodeError', (_name, body, paths, message) => {
    let err: unknown;
    try {
      decode(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect(err).toBeInstanceOf(AccrueError);
    const de = err as DecodeError;
    expect(de.reason).toBe('decode');
    expect(de.permanent).toBe(true);
    expect(de.problems.map((p) => p.path)).toEqual(paths);
    expect(de.message).toContain(message);
  });

  it('refuses a body that is not a string', () => {
    expect(() => decode(Buffer.from('{}') as unknown as string)).toThrow(DecodeError);
  });

  it('honours a larger maxMessageBytes', () => {
    const body = JSON.stringify(
      envelope([execution({ symbol: 'E' }), { kind: 'counter', time: 1, name: 'x', help: big(1000) }]),
    );
    expect(() => decode(body, { maxMessageBytes: 100 })).toThrow('must be at most 100 bytes');
    expect(decode(body, { maxMessageBytes: body.length }).acceptedCount).toBe(2);
  });
});

describe('envelope identity and group', () => {
  it('uses the producer id when given, else the SQS message id', () => {
    expect(decode(JSON.stringify(envelope([], { job: 'a' }, { id: 'batch-1' }))).id).toBe('batch-1');
    const r = decode(JSON.stringify(envelope([], { job: 'a' })));
    expect(r.id).toBe('sqs-message-id');
    expect(r.apply.id).toBe('sqs-message-id');
  });

  it.each([
    ['empty instance dropped', { job: 'a', instance: '' }, { job: 'a' }],
    ['labels kept', { job: 'a', instance: 'i', region: 'eu' }, { job: 'a', instance: 'i', region: 'eu' }],
    ['label named constructor', { job: 'a', constructor: 'c' }, { job: 'a', constructor: 'c' }],
  ] as [string, Json, Json][])('normalizes the group: %s', (_name, group, expected) => {
    const r = decode(JSON.stringify(envelope([], group)));
    expect({ ...r.group }).toEqual(expected);
    expect(Object.getPrototypeOf(r.group)).toBeNull();
    expect(r.apply.group).toBe(r.group);
  });

  it('accepts an empty events array and produces an empty request', () => {
    const r = decode([]);
    expect(r.eventCount).toBe(0);
    expect(r.apply.ops).toEqual([]);
    expect(r.apply.eventTimeMs).toBeUndefined();
  });

  it('sets eventTimeMs to the newest accepted event time', () => {
    const r = decode([
      execution({ time: 5 }),
      execution({ time: 9 }),
      execution({ time: 7 }),
      execution({ time: 11, regime: 'Z' }),
    ]);
    expect(r.apply.eventTimeMs).toBe(9);
  });
});

describe('options from the configuration', () => {
  it('takes the label limits, the size bound and the skew (future bound) from loadConfig', () => {
    const config = loadConfig({
      ACCRUE_MAX_MESSAGE_BYTES: '1000',
      ACCRUE_MAX_EVENT_FUTURE_MS: '0',
      ACCRUE_MAX_LABEL_VALUE_LENGTH: '5',
    });
    const opts = decodeOptionsFromConfig(config);
    expect(opts).toEqual({ limits: config.store.limits, maxMessageBytes: 1000, maxFutureMs: 0 });
    const r = decode([execution({ time: NOW + 1, symbol: 'EUR' }), execution({ symbol: 'EURUSD' })], {
      ...opts,
      group: { job: 'a' },
    });
    // The skew bound clamps (events[0] is applied at NOW), the label bound refuses.
    expect(r.rejected.map((x) => x.message)).toEqual([
      'events[1].symbol: must be at most 5 characters (maxLabelValueLength)',
    ]);
    expect(r.clamped).toBe(1);
    expect(r.apply.eventTimeMs).toBe(NOW);
  });
});

describe('eventTimeMs', () => {
  it('counts the events in the ApplyRequest only, not pushes', () => {
    const r = decode([execution({ time: 5 }), { kind: 'push', time: 50, method: 'DELETE' }]);
    expect(r.pushes).toHaveLength(1);
    expect(r.apply.eventTimeMs).toBe(5);
  });
});
