/**
 * The hand-written validator (and its generated fast path) against the committed JSON Schema, validated
 * by ajv: the same accept/reject decision for every corpus event, except the documented rules a JSON
 * Schema can't express, where the decoder is stricter (docs/events.md, "What the schema can't say").
 */
import Ajv from 'ajv';
import schema from '../../../schema/envelope-v1.schema.json';
import { ACCEPTED_EVENTS, INVALID_EVENTS } from './corpus';
import { decode, envelope, execution, type Json, NOW, T0 } from './helpers';

const ajv = new Ajv({ allErrors: true, strict: true, allowMatchingProperties: true });
const validate = ajv.compile(schema);

/** Corpus cases where only the decoder can decide (the schema accepts them). */
const DECODER_ONLY = new Set([
  'histogram buckets descending', // strictly ascending
  'generic op conflicting with a profile histogram', // family consistency
  'generic op with the wrong labels for a profile metric',
  'generic histogram with other buckets than the profile',
  'label repeats a group label', // depends on the group
  '31 labels with a 2-label group', // series labels + group labels <= maxLabelsPerSeries
]);

const extra: [string, unknown][] = [
  [
    '31 labels with a 2-label group',
    {
      kind: 'counter',
      time: T0,
      name: 'x',
      labels: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`l${i}`, 'v'])),
    },
  ],
  ['astral characters at the symbol length bound', execution({ symbol: '🙂'.repeat(32) })],
  ['astral characters over the symbol length bound', execution({ symbol: '🙂'.repeat(33) })],
  ['one astral character as symbol', execution({ symbol: '🙂' })],
  [
    'label value of 1024 astral characters',
    { kind: 'counter', time: T0, name: 'x', labels: { a: '🙂'.repeat(1024) } },
  ],
  ['error event', { kind: 'error', time: T0, error_type: 'timeout', symbol: 'EURUSD' }],
  ['error event with NUL type', { kind: 'error', time: T0, error_type: '\u0000', symbol: 'EURUSD' }],
  ['kill switch', { kind: 'kill_switch', time: T0, active: false }],
  ['execution with all optional', execution({ volume: 1e9 })],
  ['execution volume over max', execution({ volume: 1e9 + 1 })],
  ['push DELETE without body', { kind: 'push', time: T0, method: 'DELETE' }],
  ['gauge inc without value', { kind: 'gauge', time: T0, op: 'inc', name: 'g' }],
  ['counter with help', { kind: 'counter', time: T0, name: 'c_total', help: 'Help "with" \\ and\nnewline.' }],
  ['time as float-looking integer', execution({ time: 1.7672256e12 })],
  ['time at now + 5 min', execution({ time: NOW + 300_000 })],
];

const corpus: [string, unknown][] = [
  ...INVALID_EVENTS.map(([n, e]) => [n, e] as [string, unknown]),
  ...ACCEPTED_EVENTS,
  ...extra,
];

describe('decoder vs committed JSON Schema (ajv)', () => {
  it.each(corpus)('%s: same decision', (name, event) => {
    const env = envelope([event]) as Json;
    const schemaOk = validate(env);
    const r = decode([event]);
    const decoderOk = r.rejected.length === 0;
    if (DECODER_ONLY.has(name)) {
      expect(schemaOk).toBe(true);
      expect(decoderOk).toBe(false);
    } else {
      expect({ name, decoderOk }).toEqual({ name, decoderOk: schemaOk });
    }
  });

  it('accepts the bench corpus of realistic ARIA messages in both', async () => {
    const { ariaMessage } = await import('../../../bench/ingest');
    for (let seed = 1; seed <= 5; seed++) {
      const body = ariaMessage(seed, 300, T0);
      expect(validate(JSON.parse(body))).toBe(true);
      const r = decode(body);
      expect(r.rejected).toEqual([]);
    }
  });
});

describe('generated fast path vs full validator', () => {
  it.each(corpus)('%s: identical result with and without the fast path', (_name, event) => {
    const a = decode([event, event, execution()], { maxMessageBytes: 1e7 });
    const b = decode([event, event, execution()], { fastPath: false, maxMessageBytes: 1e7 });
    expect(a).toEqual(b);
  });
});
