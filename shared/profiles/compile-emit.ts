/**
 * Compiles one `emit` rule of a profile event (shared/profiles/compiler.ts calls it per rule): its metric
 * and operation, its value (a field or a constant), the source of each label, then the decoder's series
 * layout. Each check pushes its problems with their paths; an emit with any problem isn't compiled.
 */
import { ENVELOPE_LIMITS } from '../model/envelope-constants';
import type { Problem } from '../model/errors';
import {
  type CompiledEmit,
  type CompiledField,
  type CompiledMetric,
  type EmitDefinition,
  type EmitOp,
  FieldType,
  EmitOp as Op,
} from './types';

const OPS_BY_TYPE: Record<CompiledMetric['type'], Record<string, EmitOp | undefined>> = {
  counter: { inc: Op.counterInc },
  gauge: { set: Op.gaugeSet, inc: Op.gaugeAdd, dec: Op.gaugeSub },
  histogram: { observe: Op.observe },
};

/** Compiles one `emit` rule: its metric and operation, its value, its labels, then its series layout. */
export function compileEmit(
  id: number,
  e: EmitDefinition,
  path: string,
  metricsByName: ReadonlyMap<string, CompiledMetric>,
  fields: ReadonlyMap<string, CompiledField>,
  problems: Problem[],
): CompiledEmit | undefined {
  const before = problems.length;
  const target = emitTarget(e, path, metricsByName, problems);
  if (target === undefined) return undefined;
  const { metric, op } = target;
  const value = emitValue(e, op, path, fields, problems);
  const labels = emitLabels(e, metric, path, fields, problems);
  if (problems.length > before) return undefined;
  const names = [...fields.keys()];
  const valueIndex = value.valueField === undefined ? -1 : names.indexOf(value.valueField);
  const labelIndexes = labels.labelFields.map((l) => (l === undefined ? -1 : names.indexOf(l)));
  const layout = seriesLayout(labelIndexes, names, fields);
  if (layout.combos > MAX_ENUM_COMBOS) {
    problems.push({
      path: `${path}.labels`,
      message: `the enum labels of ${metric.name} have ${layout.combos} combinations (at most ${MAX_ENUM_COMBOS})`,
    });
    return undefined;
  }
  // One literal with every field (no spreads): the decoder reads these objects per event.
  return {
    id,
    metric,
    op,
    valueField: value.valueField,
    valueIndex,
    valueConst: value.valueConst,
    hasDefault: value.hasDefault,
    labelFields: labels.labelFields,
    labelIndexes,
    labelConsts: labels.labelConsts,
    strLabelIndexes: layout.strLabelIndexes,
    enumLabelIndexes: layout.enumLabelIndexes,
    enumStrides: layout.enumStrides,
    combos: layout.combos,
    direct: false,
  };
}

/** Enum label combinations an emit may have (the size of its series array per string-label key). */
const MAX_ENUM_COMBOS = 65_536;

/** The emit's metric (declared in `metrics`) and operation (one the metric's type has). */
function emitTarget(
  e: EmitDefinition,
  path: string,
  metricsByName: ReadonlyMap<string, CompiledMetric>,
  problems: Problem[],
): { metric: CompiledMetric; op: EmitOp } | undefined {
  const metric = metricsByName.get(e.metric);
  if (!metric) {
    problems.push({ path: `${path}.metric`, message: `no metric "${e.metric}" is declared in metrics` });
    return undefined;
  }
  const op = OPS_BY_TYPE[metric.type][e.op];
  if (op === undefined) {
    const allowed = Object.keys(OPS_BY_TYPE[metric.type]).join(', ');
    problems.push({
      path: `${path}.op`,
      message: `"${e.op}" is not an operation of a ${metric.type} (allowed: ${allowed})`,
    });
    return undefined;
  }
  return { metric, op };
}

interface EmitValue {
  readonly valueField: string | undefined;
  readonly valueConst: number;
  readonly hasDefault: boolean;
}

/** The emit's value: a field of the event (with its optional default) or a constant, and its range. */
function emitValue(
  e: EmitDefinition,
  op: EmitOp,
  path: string,
  fields: ReadonlyMap<string, CompiledField>,
  problems: Problem[],
): EmitValue {
  const value =
    typeof e.value === 'string'
      ? fieldValue(e, e.value, op, path, fields, problems)
      : constantValue(e, e.value, op, path, problems);
  const where = `${path}.${value.hasDefault ? 'default' : 'value'}`;
  const c = value.valueConst;
  if (!Number.isFinite(c) || Math.abs(c) > ENVELOPE_LIMITS.maxAbsValue)
    problems.push({ path: where, message: 'must be finite and within ±2^53' });
  else if (op === Op.counterInc && c < 0)
    problems.push({ path: where, message: 'must be >= 0 (counters only go up)' });
  return value;
}

/** A value read from field `name`: a number (a boolean only for a gauge set), `default` only if optional. */
function fieldValue(
  e: EmitDefinition,
  name: string,
  op: EmitOp,
  path: string,
  fields: ReadonlyMap<string, CompiledField>,
  problems: Problem[],
): EmitValue {
  const f = fields.get(name);
  const at = `${path}.value`;
  if (!f) problems.push({ path: at, message: `no field "${name}" in this event's fields` });
  else if (f.type === FieldType.boolean) {
    if (op !== Op.gaugeSet)
      problems.push({ path: at, message: 'a boolean field can only be the value of a gauge set (as 0/1)' });
  } else if (f.type !== FieldType.number) {
    problems.push({ path: at, message: `field "${name}" must be a number or boolean to be a value` });
  } else if (op === Op.counterInc && f.minimum < 0) {
    problems.push({ path: at, message: `field "${name}" must have minimum >= 0 to increment a counter` });
  }
  if (e.default === undefined) return { valueField: name, valueConst: 1, hasDefault: false };
  if (f?.optional) return { valueField: name, valueConst: e.default, hasDefault: true };
  problems.push({ path: `${path}.default`, message: 'only applies when value names an optional field' });
  return { valueField: name, valueConst: 1, hasDefault: false };
}

/** A constant value (1 when absent, which a gauge set or an observation can't be); no `default`. */
function constantValue(
  e: EmitDefinition,
  value: number | undefined,
  op: EmitOp,
  path: string,
  problems: Problem[],
): EmitValue {
  if (value === undefined && (op === Op.gaugeSet || op === Op.observe))
    problems.push({ path: `${path}.value`, message: `is required for ${e.op}` });
  if (e.default !== undefined)
    problems.push({ path: `${path}.default`, message: 'only applies when value names an optional field' });
  return { valueField: undefined, valueConst: value ?? 1, hasDefault: false };
}

/**
 * The source of each of the metric's labels, in its declared order: `labels` maps a label to a field or a
 * constant; a label not mapped comes from the field of its own name. Sources must be required string or
 * enum fields; mapped labels must be the metric's.
 */
function emitLabels(
  e: EmitDefinition,
  metric: CompiledMetric,
  path: string,
  fields: ReadonlyMap<string, CompiledField>,
  problems: Problem[],
): { labelFields: (string | undefined)[]; labelConsts: string[] } {
  const map = e.labels ?? {};
  const labelFields: (string | undefined)[] = [];
  const labelConsts: string[] = [];
  for (const l of Object.keys(map)) {
    if (!metric.labelNames.includes(l)) {
      problems.push({
        path: `${path}.labels.${l}`,
        message: `metric ${metric.name} has no label "${l}" (labels: ${metric.labelNames.join(', ') || 'none'})`,
      });
    }
  }
  for (const l of metric.labelNames) {
    const src = Object.hasOwn(map, l) ? map[l]! : l;
    if (typeof src === 'object') {
      if (src.value.includes('\u0000'))
        problems.push({ path: `${path}.labels.${l}.value`, message: 'must not contain NUL' });
      labelFields.push(undefined);
      labelConsts.push(src.value);
      continue;
    }
    const where = Object.hasOwn(map, l) ? `${path}.labels.${l}` : path;
    const problem = labelSourceProblem(l, metric, src, fields.get(src));
    if (problem !== undefined) problems.push({ path: where, message: problem });
    labelFields.push(src);
    labelConsts.push('');
  }
  return { labelFields, labelConsts };
}

function labelSourceProblem(
  label: string,
  metric: CompiledMetric,
  src: string,
  f: CompiledField | undefined,
): string | undefined {
  if (!f) return `label "${label}" of ${metric.name} needs field "${src}", which this event doesn't declare`;
  if (f.type !== FieldType.string && f.type !== FieldType.enum)
    return `label "${label}" needs a string or enum field, "${src}" is not`;
  if (f.optional) return `label "${label}" can't come from optional field "${src}"`;
  return undefined;
}

/**
 * The decoder's series layout of an emit: string label fields (hashed into the per-event cache key) and
 * enum label fields (combined into one array index by their strides).
 */
function seriesLayout(
  labelIndexes: readonly number[],
  names: readonly string[],
  fields: ReadonlyMap<string, CompiledField>,
): { strLabelIndexes: number[]; enumLabelIndexes: number[]; enumStrides: number[]; combos: number } {
  const strLabelIndexes: number[] = [];
  const enumLabelIndexes: number[] = [];
  const enumStrides: number[] = [];
  let combos = 1;
  for (const idx of labelIndexes) {
    if (idx < 0) continue;
    const f = fields.get(names[idx]!)!;
    if (f.type === FieldType.enum) {
      enumLabelIndexes.push(idx);
      enumStrides.push(combos);
      combos *= f.valueList.length;
    } else strLabelIndexes.push(idx);
  }
  return { strLabelIndexes, enumLabelIndexes, enumStrides, combos };
}
