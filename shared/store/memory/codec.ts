/**
 * Encoding of journal records and the compacted state file of the memory store. JSON, with numbers that
 * may be non-finite (pushed values) written as the strings "NaN", "+Inf", "-Inf" at known positions, so
 * no reviver has to look at every value. Labels come back as null-prototype objects.
 */
import { labelsFrom } from '../../model/identity';
import type { Labels, MetricFamily } from '../../model/types';
import { decNative, encNative } from '../native-codec';
import type { MetricOp } from '../types';
import { withCreated } from './cells';

export type Num = number | 'NaN' | '+Inf' | '-Inf';

export function encNum(n: number): Num {
  if (Number.isFinite(n)) return n;
  if (Number.isNaN(n)) return 'NaN';
  return n > 0 ? '+Inf' : '-Inf';
}

export function decNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === '+Inf') return Number.POSITIVE_INFINITY;
  if (v === '-Inf') return Number.NEGATIVE_INFINITY;
  throw new Error(`memory store data: expected a number, got ${JSON.stringify(v)}`);
}

/** A series' start as the last field of its row: nothing when unknown (rows stay as they were). */
export function startField(createdMs: number | undefined): [] | [number] {
  return createdMs === undefined ? [] : [createdMs];
}

/** The start read back from a row field (absent, null or not a finite number: unknown). */
export function startOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Labels from parsed JSON, as a null-prototype object. */
export function decLabels(v: unknown): Labels {
  if (typeof v !== 'object' || v === null) throw new Error('memory store data: labels must be an object');
  return labelsFrom(Object.entries(v as Record<string, string>));
}

/**
 * One apply record as JSON text, written by hand for speed (this runs for every accepted request): only
 * the fields an op needs (inputs may carry anything else). Numbers are finite (validated), so `String(n)`
 * is valid JSON for them.
 */
export function encApplyRecord(
  id: string | undefined,
  group: Labels,
  t: number,
  eventTimeMs: number | undefined,
  ops: readonly MetricOp[],
  planHash?: string,
): string {
  let out = '{';
  if (id !== undefined) out += `"id":${JSON.stringify(id)},`;
  if (id !== undefined && planHash !== undefined) out += `"h":${JSON.stringify(planHash)},`;
  out += `"g":${JSON.stringify(group)},"t":${t}`;
  if (typeof eventTimeMs === 'number' && Number.isFinite(eventTimeMs)) out += `,"e":${eventTimeMs}`;
  out += ',"ops":[';
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (i > 0) out += ',';
    out += `{"kind":"${op.kind}","name":${JSON.stringify(op.name)},"labels":${JSON.stringify(op.labels)}`;
    if (op.help) out += `,"help":${JSON.stringify(op.help)}`;
    switch (op.kind) {
      case 'counter_inc':
      case 'gauge_add':
        out += `,"value":${op.value}}`;
        break;
      case 'gauge_set':
        out += `,"value":${op.value},"timeMs":${op.timeMs}}`;
        break;
      case 'histogram_observe':
        out += `,"bounds":[${op.bounds.join(',')}],"counts":[${op.counts.join(',')}],"sum":${op.sum},"count":${op.count}`;
        out += op.native === undefined ? '}' : `,"native":${JSON.stringify(encNative(op.native))}}`;
        break;
    }
  }
  return `${out}]}`;
}

/**
 * One op of an apply record, field by field as `encApplyRecord` writes them (numbers as JSON numbers);
 * anything else is damaged data and throws, naming the field.
 */
export function decOp(v: Record<string, unknown>): MetricOp {
  const name = opString(v, 'name');
  const base = { name, labels: decLabels(v.labels), ...(typeof v.help === 'string' ? { help: v.help } : {}) };
  switch (v.kind) {
    case 'counter_inc':
    case 'gauge_add':
      return { kind: v.kind, ...base, value: opNumber(v, 'value') };
    case 'gauge_set':
      return {
        kind: v.kind,
        ...base,
        value: opNumber(v, 'value'),
        timeMs: opNumber(v, 'timeMs'),
      };
    case 'histogram_observe': {
      const op = {
        kind: v.kind,
        ...base,
        bounds: opNumbers(v, 'bounds'),
        counts: opNumbers(v, 'counts'),
        sum: opNumber(v, 'sum'),
        count: opNumber(v, 'count'),
      };
      return v.native === undefined ? op : { ...op, native: decNative(v.native, op, `journal op ${name}`) };
    }
    default:
      throw new Error(`memory store data: op kind ${JSON.stringify(v.kind)} is unknown`);
  }
}

function opString(v: Record<string, unknown>, field: string): string {
  const x = v[field];
  if (typeof x !== 'string') throw new Error(`memory store data: op ${field} must be a string`);
  return x;
}

function opNumber(v: Record<string, unknown>, field: string): number {
  const x = v[field];
  if (typeof x !== 'number') throw new Error(`memory store data: op ${field} must be a number`);
  return x;
}

function opNumbers(v: Record<string, unknown>, field: string): number[] {
  const x = v[field];
  if (!Array.isArray(x) || !x.every((e) => typeof e === 'number'))
    throw new Error(`memory store data: op ${field} must be an array of numbers`);
  return x;
}

export function encFamily(f: MetricFamily): unknown {
  switch (f.type) {
    case 'histogram':
      return {
        name: f.name,
        help: f.help,
        type: f.type,
        series: f.series.map((s) => [
          s.labels,
          s.buckets.map((b) => [b.le, encNum(b.count)]),
          encNum(s.sum),
          encNum(s.count),
          ...(s.native === undefined && s.createdMs === undefined
            ? []
            : [s.native === undefined ? null : encNative(s.native), ...startField(s.createdMs)]),
        ]),
      };
    case 'summary':
      return {
        name: f.name,
        help: f.help,
        type: f.type,
        series: f.series.map((s) => [
          s.labels,
          s.quantiles.map((q) => [q.quantile, encNum(q.value)]),
          encNum(s.sum),
          encNum(s.count),
          ...startField(s.createdMs),
        ]),
      };
    default:
      return {
        name: f.name,
        help: f.help,
        type: f.type,
        series: f.series.map((s) => [s.labels, encNum(s.value), ...startField(s.createdMs)]),
      };
  }
}

type Row = unknown[];

export function decFamily(v: {
  name: string;
  help: string;
  type: MetricFamily['type'];
  series: Row[];
}): MetricFamily {
  switch (v.type) {
    case 'histogram':
      return {
        name: v.name,
        help: v.help,
        type: v.type,
        series: v.series.map((r) => {
          const series = {
            labels: decLabels(r[0]),
            buckets: (r[1] as Array<[number, Num]>).map(([le, c]) => ({ le, count: decNum(c) })),
            sum: decNum(r[2]),
            count: decNum(r[3]),
          };
          const withStart = withCreated(series, startOf(r[5]));
          return r[4] === undefined || r[4] === null
            ? withStart
            : { ...withStart, native: decNative(r[4], series, `journal ${v.name}`) };
        }),
      };
    case 'summary':
      return {
        name: v.name,
        help: v.help,
        type: v.type,
        series: v.series.map((r) =>
          withCreated(
            {
              labels: decLabels(r[0]),
              quantiles: (r[1] as Array<[number, Num]>).map(([quantile, val]) => ({
                quantile,
                value: decNum(val),
              })),
              sum: decNum(r[2]),
              count: decNum(r[3]),
            },
            startOf(r[4]),
          ),
        ),
      };
    default:
      return {
        name: v.name,
        help: v.help,
        type: v.type,
        series: v.series.map((r) =>
          withCreated({ labels: decLabels(r[0]), value: decNum(r[1]) }, startOf(r[2])),
        ),
      };
  }
}
