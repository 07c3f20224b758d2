/**
 * The profile compiler: checks what a schema can't (names, references, label sets, buckets) and builds the
 * `CompiledProfile` the decoder runs. Free of any schema library: the structural checks (is this an object
 * with these properties of these types?) are a `ShapeCheck` passed in, so the full loader uses the TypeBox
 * schemas (`shape.ts`, TypeBox's `Value.Errors`) and the ingest Lambda the checks generated from the same
 * schemas at build time (`lean-shape.ts`, without TypeBox in its bundle).
 */

import { layoutProblems } from '../model/buckets';
import { ENVELOPE_LIMITS, GENERIC_KINDS } from '../model/envelope-constants';
import type { Problem } from '../model/errors';
import { reservedNameProblem, reservedSuffixes } from '../model/exposed-names';
import { labelNameProblem, metricNameProblem } from '../model/names';
import { isStandardSchema, MAX_SCHEMA, MIN_SCHEMA } from '../model/native';
import { DEFAULT_LIMITS } from '../store/types';
import { compileEmit } from './compile-emit';
import { ProfileError } from './errors';
import {
  type CompiledEmit,
  type CompiledField,
  type CompiledKind,
  type CompiledMetric,
  type CompiledProfile,
  type EmitDefinition,
  type FieldDefinition,
  FieldType,
  type MetricDefinition,
  type ProfileDefinition,
} from './types';

const KIND_NAME_RE = /^[a-z][a-z0-9_]*$/;
/** Field names every event has; a profile can't redefine them. */
const RESERVED_FIELDS = new Set(['kind', 'time']);

/**
 * Structural checks of the parts of a profile definition. Each pushes its problems (paths prefixed with
 * `path`) and returns false when the part must not be compiled further. `profile` and `event` receive
 * objects whose nested records/arrays are checked later part by part.
 */
export interface ShapeCheck {
  /** name, description, metrics (a record), events (a record); no other keys. */
  profile(value: Record<string, unknown>, problems: Problem[]): boolean;
  metric(value: unknown, path: string, problems: Problem[]): boolean;
  /** description, fields (a record), emit (an array); no other keys. */
  event(value: Record<string, unknown>, path: string, problems: Problem[]): boolean;
  /** A field definition whose `type` is already known to be `type`. */
  field(
    type: FieldDefinition['type'],
    value: Record<string, unknown>,
    path: string,
    problems: Problem[],
  ): boolean;
  emit(value: unknown, path: string, problems: Problem[]): boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why `name` can't be a field name (it is read as `event[name]`, so Object.prototype names are refused). */
function fieldNameProblem(name: string): string | undefined {
  const p = labelNameProblem(name);
  if (p) return p;
  if (RESERVED_FIELDS.has(name)) return 'is reserved (every event has "kind" and "time")';
  if (name in Object.prototype) return 'must not be a property name of Object.prototype';
  return undefined;
}

/**
 * Validates a profile definition (parsed JSON/YAML) with `shape` for the structure, and compiles it. Throws
 * `ProfileError` listing every problem with its path, e.g.
 * `events.execution.emit[1].metric: no metric "aria_slipage_pips" is declared in metrics`.
 */
export function compileWith(input: unknown, source: string, shape: ShapeCheck): CompiledProfile {
  const problems: Problem[] = [];
  if (!isRecord(input)) throw new ProfileError(source, [{ path: '', message: 'must be an object' }]);
  // Shape first, with field and emit definitions checked one by one so the messages point at them.
  if (!shape.profile(input, problems)) throw new ProfileError(source, problems);
  const def = input as unknown as ProfileDefinition;

  const metrics: CompiledMetric[] = [];
  const metricsByName = new Map<string, CompiledMetric>();
  for (const name of Object.keys(def.metrics)) {
    const cm = compileMetric(
      name,
      (def.metrics as Record<string, unknown>)[name],
      metrics.length,
      shape,
      problems,
    );
    if (cm === undefined) continue;
    metrics.push(cm);
    metricsByName.set(name, cm);
  }
  checkSuffixCollisions(metrics, metricsByName, problems);

  const kinds = new Map<string, CompiledKind>();
  const emitCounter = { next: 0 };
  for (const kindName of Object.keys(def.events)) {
    const ev = (def.events as Record<string, unknown>)[kindName];
    const kind = compileKind(kindName, ev, kinds.size, emitCounter, metricsByName, shape, problems);
    if (kind !== undefined) kinds.set(kindName, kind);
  }
  if (problems.length > 0) throw new ProfileError(source, problems);
  markDirectEmits(metrics, kinds);
  return {
    name: def.name,
    description: def.description ?? '',
    emitCount: emitCounter.next,
    metrics,
    metricsByName,
    kinds,
    definition: def,
  };
}

/** One metric definition: its name, labels and bucket layout (classic, native) checked; undefined when its shape is wrong. */
function compileMetric(
  name: string,
  m: unknown,
  id: number,
  shape: ShapeCheck,
  problems: Problem[],
): CompiledMetric | undefined {
  const path = `metrics.${name}`;
  const np = metricNameProblem(name);
  if (np) problems.push({ path, message: `metric name ${np}` });
  else {
    const rp = reservedNameProblem(name);
    if (rp) problems.push({ path, message: `metric name ${rp}` });
  }
  if (!shape.metric(m, path, problems)) return undefined;
  const md = m as MetricDefinition;
  const labels = md.labels ?? [];
  const seen = new Set<string>();
  labels.forEach((l, i) => {
    const lp = labelNameProblem(l);
    if (lp) problems.push({ path: `${path}.labels[${i}]`, message: `label name ${lp}` });
    if (seen.has(l)) problems.push({ path: `${path}.labels[${i}]`, message: `duplicate label "${l}"` });
    if (md.type === 'histogram' && l === 'le')
      problems.push({
        path: `${path}.labels[${i}]`,
        message: 'label "le" is reserved for histogram buckets',
      });
    seen.add(l);
  });
  if (labels.length > DEFAULT_LIMITS.maxLabelsPerSeries) {
    problems.push({
      path: `${path}.labels`,
      message: `must have at most ${DEFAULT_LIMITS.maxLabelsPerSeries} labels`,
    });
  }
  let bounds: number[] = [];
  const native = md.type === 'histogram' ? nativeLayout(md.native, `${path}.native`, problems) : undefined;
  if (md.type === 'histogram') {
    if (!md.buckets) {
      if (!md.native)
        problems.push({ path: `${path}.buckets`, message: 'is required for a histogram (or native)' });
    } else {
      bounds = md.buckets;
      for (const b of layoutProblems(bounds))
        problems.push({ path: `${path}.buckets[${b.index}]`, message: b.message });
      if (bounds.length > ENVELOPE_LIMITS.maxBuckets)
        problems.push({
          path: `${path}.buckets`,
          message: `must have at most ${ENVELOPE_LIMITS.maxBuckets} bounds`,
        });
    }
  } else {
    if (md.buckets)
      problems.push({
        path: `${path}.buckets`,
        message: `only histograms have buckets, this is a ${md.type}`,
      });
    if (md.native)
      problems.push({
        path: `${path}.native`,
        message: `only histograms have native buckets, this is a ${md.type}`,
      });
  }
  const cm: CompiledMetric = {
    id,
    name,
    type: md.type,
    help: md.help,
    labelNames: labels,
    sortedLabelNames: [...labels].sort(),
    bounds,
    native,
    exclusive: false,
  };
  return cm;
}

/** One event kind: its name, fields and emit rules; undefined when its shape is wrong. */
function compileKind(
  kindName: string,
  ev: unknown,
  index: number,
  emitCounter: { next: number },
  metricsByName: ReadonlyMap<string, CompiledMetric>,
  shape: ShapeCheck,
  problems: Problem[],
): CompiledKind | undefined {
  const path = `events.${kindName}`;
  if (!KIND_NAME_RE.test(kindName)) problems.push({ path, message: 'event kind must match [a-z][a-z0-9_]*' });
  else if ((GENERIC_KINDS as readonly string[]).includes(kindName)) {
    problems.push({ path, message: `event kind "${kindName}" is a generic event kind of the envelope` });
  }
  if (!isRecord(ev)) {
    problems.push({ path, message: 'must be an object with "fields" and "emit"' });
    return undefined;
  }
  if (!shape.event(ev, path, problems)) return undefined;
  const fieldDefs = ev.fields as Record<string, unknown>;
  const fields: CompiledField[] = [];
  const fieldsByName = new Map<string, CompiledField>();
  for (const fname of Object.keys(fieldDefs)) {
    const fpath = `${path}.fields.${fname}`;
    const fp = fieldNameProblem(fname);
    if (fp) problems.push({ path: fpath, message: `field name ${fp}` });
    const fd = fieldDefs[fname];
    const t = isRecord(fd) ? fd.type : undefined;
    if (t !== 'string' && t !== 'enum' && t !== 'number' && t !== 'boolean') {
      problems.push({ path: `${fpath}.type`, message: 'must be one of string, enum, number, boolean' });
      continue;
    }
    if (!shape.field(t, fd as Record<string, unknown>, fpath, problems)) continue;
    const f = compileField(fname, fd as FieldDefinition, fpath, problems);
    if (fp) continue;
    fields.push(f);
    fieldsByName.set(fname, f);
  }
  const emits: CompiledEmit[] = [];
  const labelNames = new Set<string>();
  (ev.emit as unknown[]).forEach((e, i) => {
    const epath = `${path}.emit[${i}]`;
    if (!shape.emit(e, epath, problems)) return;
    const ce = compileEmit(
      emitCounter.next++,
      e as EmitDefinition,
      epath,
      metricsByName,
      fieldsByName,
      problems,
    );
    if (ce) {
      emits.push(ce);
      for (const l of ce.metric.labelNames) labelNames.add(l);
    }
  });
  const strKeyFields = [...new Set(emits.flatMap((x) => x.strLabelIndexes))].sort((a, b) => a - b);
  return {
    index,
    name: kindName,
    fields,
    emits,
    strKeyFields,
    labelNames: [...labelNames],
    description: typeof ev.description === 'string' ? ev.description : `Domain event "${kindName}".`,
  };
}

/** A histogram or summary writes `x_sum`, `x_count` (and `x_bucket`): no other metric may be named so. */
function checkSuffixCollisions(
  metrics: readonly CompiledMetric[],
  metricsByName: ReadonlyMap<string, CompiledMetric>,
  problems: Problem[],
): void {
  for (const m of metrics) {
    for (const suffix of reservedSuffixes(m.type)) {
      if (metricsByName.has(m.name + suffix)) {
        problems.push({
          path: `metrics.${m.name}${suffix}`,
          message: `collides with the ${suffix} series of ${m.type} ${m.name}`,
        });
      }
    }
  }
}

/**
 * A metric fed by one emit rule only is exclusive; an emit into an exclusive metric whose string labels
 * are all the kind's key fields writes directly (no per-series merge).
 */
function markDirectEmits(metrics: readonly CompiledMetric[], kinds: ReadonlyMap<string, CompiledKind>): void {
  const feeds = new Map<CompiledMetric, number>();
  for (const k of kinds.values())
    for (const e of k.emits) feeds.set(e.metric, (feeds.get(e.metric) ?? 0) + 1);
  for (const m of metrics) m.exclusive = feeds.get(m) === 1;
  for (const k of kinds.values()) {
    for (const e of k.emits)
      e.direct = e.metric.exclusive && e.strLabelIndexes.length === k.strKeyFields.length;
  }
}

function compileField(name: string, fd: FieldDefinition, path: string, problems: Problem[]): CompiledField {
  const base = {
    name,
    optional: fd.optional === true,
    minLength: 0,
    maxLength: DEFAULT_LIMITS.maxLabelValueLength,
    values: undefined as Set<string> | undefined,
    valueList: [] as string[],
    minimum: -ENVELOPE_LIMITS.maxAbsValue,
    maximum: ENVELOPE_LIMITS.maxAbsValue,
    integer: false,
    description: fd.description || undefined,
  };
  switch (fd.type) {
    case 'string':
      if (fd.minLength !== undefined) base.minLength = fd.minLength;
      if (fd.maxLength !== undefined) base.maxLength = fd.maxLength;
      if (base.minLength > base.maxLength)
        problems.push({ path: `${path}.minLength`, message: 'must be <= maxLength' });
      return { ...base, type: FieldType.string };
    case 'enum': {
      const seen = new Set<string>();
      fd.values.forEach((v, i) => {
        if (seen.has(v)) problems.push({ path: `${path}.values[${i}]`, message: `duplicate value "${v}"` });
        if (v.includes('\u0000'))
          problems.push({ path: `${path}.values[${i}]`, message: 'must not contain NUL' });
        seen.add(v);
      });
      return { ...base, type: FieldType.enum, values: seen, valueList: fd.values };
    }
    case 'number':
      for (const key of ['minimum', 'maximum'] as const) {
        const v = fd[key];
        if (v === undefined) continue;
        if (!Number.isFinite(v) || Math.abs(v) > ENVELOPE_LIMITS.maxAbsValue) {
          problems.push({ path: `${path}.${key}`, message: `must be finite and within ±2^53` });
        } else base[key] = v;
      }
      if (base.minimum > base.maximum)
        problems.push({ path: `${path}.minimum`, message: 'must be <= maximum' });
      return { ...base, type: FieldType.number, integer: fd.integer === true };
    case 'boolean':
      return { ...base, type: FieldType.boolean };
  }
}

/**
 * The native layout of a histogram: `schema` a standard exponential schema (-4..8; custom buckets, -53, are
 * not for profiles), `zeroThreshold` finite and >= 0 (default 0: only exact zeros go to the zero bucket).
 */
function nativeLayout(
  v: unknown,
  path: string,
  problems: Problem[],
): { schema: number; zeroThreshold: number } | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push({ path, message: 'must be an object {schema, zeroThreshold}' });
    return undefined;
  }
  const before = problems.length;
  for (const k of Object.keys(v))
    if (k !== 'schema' && k !== 'zeroThreshold')
      problems.push({ path: `${path}.${k}`, message: 'unknown field (native has schema and zeroThreshold)' });
  const schema = Object.hasOwn(v, 'schema') ? (v as { schema: unknown }).schema : undefined;
  if (!isStandardSchema(schema as number))
    problems.push({
      path: `${path}.schema`,
      message: `must be an integer in ${MIN_SCHEMA}..${MAX_SCHEMA} (standard exponential schemas)`,
    });
  const zt = Object.hasOwn(v, 'zeroThreshold') ? (v as { zeroThreshold: unknown }).zeroThreshold : 0;
  if (typeof zt !== 'number' || !Number.isFinite(zt) || zt < 0)
    problems.push({ path: `${path}.zeroThreshold`, message: 'must be a finite number >= 0' });
  if (problems.length > before) return undefined;
  return { schema: schema as number, zeroThreshold: zt as number };
}
