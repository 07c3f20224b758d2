/**
 * The generated structural checks (shared/model/shape-check.ts, written by scripts/shape-codegen.ts) decide
 * exactly as TypeBox's own `Value.Check` of the schema they were generated from, and every refusal names
 * at least one path and rule; the walker never reads a key as a prototype.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { noun } from '../../../scripts/shape-codegen';
import { EnvelopeShell, PushEvent } from '../../../shared/ingest/envelope';
import { ENVELOPE, PUSH_EVENT } from '../../../shared/ingest/envelope.generated';
import type { Problem } from '../../../shared/model/errors';
import { type ShapeNode, shapeProblems } from '../../../shared/model/shape-check';
import {
  EmitDefinition,
  EventShallow,
  FieldDefinition,
  MetricDefinition,
  ProfileShallow,
} from '../../../shared/profiles/schema';
import * as Profile from '../../../shared/profiles/shape.generated';

const [stringField, enumField, numberField, booleanField] = FieldDefinition.anyOf;

/** [name, generated node, the TypeBox schema it was generated from, a valid value] */
const PAIRS: [string, ShapeNode, TSchema, Record<string, unknown>][] = [
  ['profile', Profile.PROFILE, ProfileShallow, { name: 'desk', metrics: {}, events: {} }],
  [
    'metric',
    Profile.METRIC,
    MetricDefinition,
    { type: 'histogram', help: 'h', labels: ['a'], buckets: [1, 2], native: { schema: 3, zeroThreshold: 0 } },
  ],
  ['event', Profile.EVENT, EventShallow, { description: 'd', fields: {}, emit: [] }],
  ['string field', Profile.STRING_FIELD, stringField!, { type: 'string', minLength: 1, maxLength: 8 }],
  ['enum field', Profile.ENUM_FIELD, enumField!, { type: 'enum', values: ['a', 'b'], optional: true }],
  ['number field', Profile.NUMBER_FIELD, numberField!, { type: 'number', minimum: 0, integer: true }],
  ['boolean field', Profile.BOOLEAN_FIELD, booleanField!, { type: 'boolean', description: 'x' }],
  [
    'emit',
    Profile.EMIT,
    EmitDefinition,
    { metric: 'm', op: 'observe', value: 'f', default: 0, labels: { a: 'f', b: { value: 'c' } } },
  ],
  ['envelope', ENVELOPE, EnvelopeShell, { v: 1, id: 'k-1', group: { job: 'a' }, events: [] }],
  ['push event', PUSH_EVENT, PushEvent, { kind: 'push', time: 1, method: 'PUT', body: 'x 1\n' }],
];

const HOSTILE: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 60,
  '',
  'x\ny"',
  'x'.repeat(300),
  true,
  [],
  [1, 'a'],
  {},
  { value: 'c' },
  JSON.parse('{"__proto__": {"polluted": 1}}'),
];

/** A valid value with one property replaced (or added, or removed) by `v`. */
const mutated = (valid: Record<string, unknown>) =>
  fc
    .tuple(
      fc.constantFrom(...Object.keys(valid), 'extra', '__proto__', 'constructor'),
      fc.oneof(fc.constantFrom(...HOSTILE), fc.jsonValue()),
    )
    .map(([key, v]) => {
      const out = JSON.parse(JSON.stringify(valid));
      if (v === undefined) delete out[key];
      else
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      return out as unknown;
    });

describe.each(PAIRS)('generated %s check', (_name, node, schema, valid) => {
  const decide = (v: unknown): { ok: boolean; problems: Problem[] } => {
    const problems: Problem[] = [];
    return { ok: shapeProblems(node, v, 'p', problems), problems };
  };

  it('accepts the valid value', () => {
    expect(decide(valid)).toEqual({ ok: true, problems: [] });
  });

  it('decides as TypeBox Value.Check on hostile and random values, naming a path and a rule when it refuses', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(valid), fc.constantFrom(...HOSTILE), fc.jsonValue()), (v) => {
        const { ok, problems } = decide(v);
        expect(ok).toBe(Value.Check(schema, v));
        expect(problems.length > 0).toBe(!ok);
        for (const p of problems) {
          expect(p.path.startsWith('p')).toBe(true);
          expect(p.message).toMatch(/^(must|is required|unknown field)/);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});

describe('rules in words, from the schema', () => {
  it.each([
    [
      MetricDefinition.properties.native,
      'an object { schema: an integer >= -4 and <= 8, zeroThreshold?: a number >= 0 }',
    ],
    [EmitDefinition.properties.op, 'one of "inc", "dec", "set", "observe"'],
    [EmitDefinition.properties.value, 'a string or a number'],
    [enumField!.properties.values, 'an array of at least 1 item(s), each a non-empty string'],
    [ProfileShallow.properties.name, 'a string of at most 64 characters matching ^[a-z][a-z0-9_-]*$'],
    [PushEvent.properties.time, 'an integer >= 0 and <= 8640000000000000'],
  ] as [TSchema, string][])('%#: %s', (schema, words) => {
    expect(noun(schema)).toBe(words);
  });
});
