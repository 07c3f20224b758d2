/**
 * A small hand-written structural check of a profile definition, for the ingest Lambda: it loads profiles
 * that were already validated with the full TypeBox check at deploy time (`cdk synth`, see
 * docs/deploy.md), so this one only has to keep the compiler safe and still refuse what the full check
 * refuses (wrong types, unknown keys), with shorter messages. It accepts exactly what `SCHEMA_SHAPE`
 * accepts (test/unit/profiles/lean.test.ts runs both on the same cases) without pulling TypeBox (100 KB
 * minified) into the bundle.
 */
import type { Problem } from '../model/errors';
import type { ShapeCheck } from './compiler';

type Kind = 'string' | 'nonEmptyString' | 'number' | 'integer' | 'boolean' | 'record' | 'array';
/** Property → [expected kind, required, minimum (numbers: value, arrays: items, strings: length)]. */
type Spec = Readonly<Record<string, readonly [Kind, boolean, number?]>>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function kindOk(kind: Kind, v: unknown, min: number | undefined): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'nonEmptyString':
      return typeof v === 'string' && v.length > 0;
    case 'number':
      return typeof v === 'number';
    case 'integer':
      return Number.isInteger(v) && (min === undefined || (v as number) >= min);
    case 'boolean':
      return typeof v === 'boolean';
    case 'record':
      return isRecord(v);
    case 'array':
      return Array.isArray(v) && (min === undefined || v.length >= min);
  }
}

const RULE: Record<Kind, string> = {
  string: 'must be a string',
  nonEmptyString: 'must be a non-empty string',
  number: 'must be a number',
  integer: 'must be an integer',
  boolean: 'must be a boolean',
  record: 'must be an object',
  array: 'must be an array',
};

const join = (base: string, key: string) => (base === '' ? key : `${base}.${key}`);

function checkSpec(v: unknown, spec: Spec, path: string, problems: Problem[]): boolean {
  if (!isRecord(v)) {
    problems.push({ path, message: 'must be an object' });
    return false;
  }
  const before = problems.length;
  for (const key of Object.keys(v)) {
    if (!Object.hasOwn(spec, key))
      problems.push({ path: join(path, key), message: 'is not a known property' });
  }
  for (const [key, [kind, required, min]] of Object.entries(spec)) {
    if (!Object.hasOwn(v, key) || v[key] === undefined) {
      if (required) problems.push({ path: join(path, key), message: 'is required' });
    } else if (!kindOk(kind, v[key], min)) {
      const bound =
        min === undefined ? '' : kind === 'array' ? ` with at least ${min} item(s)` : ` >= ${min}`;
      problems.push({ path: join(path, key), message: RULE[kind] + bound });
    }
  }
  return problems.length === before;
}

function everyItem(
  items: readonly unknown[],
  ok: (x: unknown) => boolean,
  path: string,
  rule: string,
  problems: Problem[],
): boolean {
  let good = true;
  items.forEach((x, i) => {
    if (!ok(x)) {
      good = false;
      problems.push({ path: `${path}[${i}]`, message: rule });
    }
  });
  return good;
}

const PROFILE: Spec = {
  name: ['string', true],
  description: ['string', false],
  metrics: ['record', true],
  events: ['record', true],
};
const METRIC: Spec = {
  type: ['string', true],
  help: ['nonEmptyString', true],
  labels: ['array', false],
  buckets: ['array', false, 1],
  native: ['record', false],
};
const EVENT: Spec = { description: ['string', false], fields: ['record', true], emit: ['array', true] };
const COMMON: Spec = { type: ['string', true], optional: ['boolean', false], description: ['string', false] };
const FIELDS: Record<'string' | 'enum' | 'number' | 'boolean', Spec> = {
  string: { ...COMMON, minLength: ['integer', false, 0], maxLength: ['integer', false, 1] },
  enum: { ...COMMON, values: ['array', true, 1] },
  number: { ...COMMON, minimum: ['number', false], maximum: ['number', false], integer: ['boolean', false] },
  boolean: COMMON,
};
const EMIT: Spec = {
  metric: ['string', true],
  op: ['string', true],
  value: ['number', false],
  default: ['number', false],
  labels: ['record', false],
};

/** Structural checks without a schema library (see the file comment). */
export const LEAN_SHAPE: ShapeCheck = {
  profile(v, problems) {
    let ok = checkSpec(v, PROFILE, '', problems);
    if (typeof v.name === 'string' && !(/^[a-z][a-z0-9_-]*$/.test(v.name) && v.name.length <= 64)) {
      problems.push({ path: 'name', message: 'must match ^[a-z][a-z0-9_-]*$ with at most 64 characters' });
      ok = false;
    }
    return ok;
  },
  metric(v, path, problems) {
    if (!checkSpec(v, METRIC, path, problems)) return false;
    const m = v as Record<string, unknown>;
    let ok = true;
    if (m.type !== 'counter' && m.type !== 'gauge' && m.type !== 'histogram') {
      problems.push({ path: `${path}.type`, message: 'must be one of counter, gauge, histogram' });
      ok = false;
    }
    if (Array.isArray(m.labels))
      ok =
        everyItem(m.labels, (x) => typeof x === 'string', `${path}.labels`, 'must be a string', problems) &&
        ok;
    if (Array.isArray(m.buckets))
      ok =
        everyItem(m.buckets, (x) => typeof x === 'number', `${path}.buckets`, 'must be a number', problems) &&
        ok;
    return ok;
  },
  event: (v, path, problems) => checkSpec(v, EVENT, path, problems),
  field(type, v, path, problems) {
    if (!checkSpec(v, FIELDS[type], path, problems)) return false;
    if (type !== 'enum') return true;
    return everyItem(
      v.values as unknown[],
      (x) => typeof x === 'string' && x.length > 0,
      `${path}.values`,
      'must be a non-empty string',
      problems,
    );
  },
  emit(v, path, problems) {
    // `value` is a field name or a number: checked here rather than in the spec.
    const e = isRecord(v) ? v : undefined;
    const value = e?.value;
    const spec = typeof value === 'string' ? { ...EMIT, value: ['string', false] as const } : EMIT;
    if (!checkSpec(v, spec, path, problems)) return false;
    const d = e!;
    let ok = true;
    if (d.op !== 'inc' && d.op !== 'dec' && d.op !== 'set' && d.op !== 'observe') {
      problems.push({ path: `${path}.op`, message: 'must be one of inc, dec, set, observe' });
      ok = false;
    }
    if (isRecord(d.labels)) {
      for (const [l, src] of Object.entries(d.labels)) {
        const constant = isRecord(src) && Object.keys(src).length === 1 && typeof src.value === 'string';
        if (typeof src !== 'string' && !constant) {
          problems.push({
            path: `${path}.labels.${l}`,
            message: 'must be a field name or { "value": "<constant>" }',
          });
          ok = false;
        }
      }
    }
    return ok;
  },
};
