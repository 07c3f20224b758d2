/**
 * Validation and mapping of generic metric events (`counter`, `gauge`, `histogram`) into the message's
 * `Aggregator`. Each event is validated whole (every problem collected) before it touches the aggregator,
 * so a rejected event contributes nothing; its family is the profile's, or defined by the first event of
 * the message naming it, and later events must match it.
 *
 * Safety: untrusted label names are never assigned onto plain objects (labels are built with a null
 * prototype in aggregate.ts); numbers are range-checked with `!(v >= min && v <= max)`, which also
 * refuses NaN.
 */
import { layoutProblems, sameBounds } from '../model/buckets';
import { ENVELOPE_LIMITS } from '../model/envelope-constants';
import { RejectReason } from '../model/errors';
import { reservedNameProblem } from '../model/exposed-names';
import { longerThan } from '../model/lengths';
import { labelNameProblemMemo } from '../model/name-memo';
import { clip, labelNameProblem, loneSurrogateProblem, METRIC_NAME_RE } from '../model/names';
import type { CompiledMetric } from '../profiles/types';
import type { FamilyInfo } from './aggregate';
import { appliedTime, type MessageContext, timeProblem } from './context';
import { COUNTER_FIELDS, GAUGE_FIELDS, GAUGE_OPS, HISTOGRAM_FIELDS } from './envelope.generated';
import { addProblem, type Failure, fail } from './errors';

// The fields of each generic event and the gauge operations, read off the TypeBox schemas (envelope.ts) by
// `npm run schema`; the rules of each field are the shared/model rules those schemas are built from.
const COUNTER_KEYS: ReadonlySet<string> = new Set(COUNTER_FIELDS);
const GAUGE_KEYS: ReadonlySet<string> = new Set(GAUGE_FIELDS);
const HISTOGRAM_KEYS: ReadonlySet<string> = new Set(HISTOGRAM_FIELDS);
const GAUGE_OP_SET: ReadonlySet<unknown> = new Set(GAUGE_OPS);
const GAUGE_OP_RULE = `must be one of ${GAUGE_OPS.map((o) => JSON.stringify(o)).join(', ')}`;
const MAX = ENVELOPE_LIMITS.maxAbsValue;

function checkKeys(
  ev: Record<string, unknown>,
  known: ReadonlySet<string>,
  index: number,
  kind: string,
  f: Failure | undefined,
): Failure | undefined {
  for (const k in ev) {
    if (!known.has(k)) {
      f = addProblem(
        f,
        RejectReason.invalid,
        `events[${index}].${k}`,
        `unknown field (a ${kind} event has: ${[...known].join(', ')})`,
      );
    }
  }
  return f;
}

function valueProblem(v: unknown, min: number): string | undefined {
  if (typeof v !== 'number') return 'must be a number';
  if (Number.isNaN(v)) return 'must be a finite number';
  if (!(v >= min)) return min === 0 ? 'must be >= 0 (counters only go up)' : `must be >= ${min}`;
  if (!(v <= MAX)) return `must be <= ${MAX} (2^53)`;
  return undefined;
}

function helpProblem(help: unknown): string | undefined {
  if (help === undefined) return undefined;
  if (typeof help !== 'string') return 'must be a string';
  if (longerThan(help, ENVELOPE_LIMITS.maxHelpLength))
    return `must be at most ${ENVELOPE_LIMITS.maxHelpLength} characters`;
  return undefined;
}

function nameProblem(name: unknown): { reason: RejectReason; message: string } | undefined {
  if (typeof name !== 'string') return { reason: RejectReason.invalid, message: 'must be a string' };
  // An empty or over-long name is an invalid name, as on HTTP (docs/events.md and docs/service.md tables).
  if (name.length === 0) return { reason: RejectReason.invalidName, message: 'must not be empty' };
  if (name.length > ENVELOPE_LIMITS.maxNameLength)
    return {
      reason: RejectReason.invalidName,
      message: `must be at most ${ENVELOPE_LIMITS.maxNameLength} characters`,
    };
  if (!METRIC_NAME_RE.test(name))
    return {
      reason: RejectReason.invalidName,
      message: 'must match [a-zA-Z_:][a-zA-Z0-9_:]* (Prometheus data model)',
    };
  const rp = reservedNameProblem(name);
  return rp === undefined ? undefined : { reason: RejectReason.invalidName, message: rp };
}

interface GenericLabels {
  /** Sorted label names. */
  readonly names: readonly string[];
  readonly values: readonly string[];
}

const NO_LABELS: GenericLabels = { names: [], values: [] };

function labelNameOk(n: string): boolean {
  return labelNameProblemMemo(n) === undefined;
}

function readLabels(
  raw: unknown,
  index: number,
  ctx: MessageContext,
  f: Failure | undefined,
): { f: Failure | undefined; labels: GenericLabels | undefined } {
  if (raw === undefined) return { f, labels: NO_LABELS };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const message = 'must be an object of label name to string value';
    return { f: addProblem(f, RejectReason.invalid, `events[${index}].labels`, message), labels: undefined };
  }
  const obj = raw as Record<string, unknown>;
  const names = Object.keys(obj);
  for (let i = 1; i < names.length; i++) {
    if (names[i - 1]! > names[i]!) {
      names.sort();
      break;
    }
  }
  const values: string[] = [];
  let bad = false;
  const maxLabels = ctx.maxLabelsPerSeries - ctx.groupLabelCount;
  if (names.length > maxLabels) {
    const message = `must have at most ${maxLabels} labels (maxLabelsPerSeries ${ctx.maxLabelsPerSeries} minus the group's ${ctx.groupLabelCount})`;
    f = addProblem(f, RejectReason.limit, `events[${index}].labels`, message);
    bad = true;
  }
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    const v = obj[n];
    if (!labelNameOk(n)) {
      f = addProblem(
        f,
        RejectReason.invalidName,
        `events[${index}].labels.${clip(n)}`,
        `label name ${labelNameProblem(n)}`,
      );
      bad = true;
    } else if (Object.hasOwn(ctx.group, n)) {
      const message = "is a label of the envelope's group; series labels must not repeat it";
      f = addProblem(f, RejectReason.invalid, `events[${index}].labels.${n}`, message);
      bad = true;
    }
    if (typeof v !== 'string') {
      f = addProblem(f, RejectReason.invalid, `events[${index}].labels.${n}`, 'must be a string');
      bad = true;
    } else if (longerThan(v, ctx.maxLabelValueLength)) {
      const message = `must be at most ${ctx.maxLabelValueLength} characters (maxLabelValueLength)`;
      f = addProblem(f, RejectReason.limit, `events[${index}].labels.${n}`, message);
      bad = true;
    } else if (v.indexOf('\u0000') !== -1) {
      f = addProblem(f, RejectReason.invalid, `events[${index}].labels.${n}`, 'must not contain NUL');
      bad = true;
    } else if (loneSurrogateProblem(v) !== undefined) {
      f = addProblem(f, RejectReason.invalid, `events[${index}].labels.${n}`, loneSurrogateProblem(v)!);
      bad = true;
    } else values.push(v);
  }
  return { f, labels: bad ? undefined : { names, values } };
}

function bucketsProblem(
  raw: unknown,
  path: string,
  f: Failure | undefined,
): { f: Failure | undefined; bounds: number[] | undefined } {
  if (!Array.isArray(raw))
    return {
      f: addProblem(
        f,
        RejectReason.invalid,
        path,
        raw === undefined ? 'is required' : 'must be an array of numbers',
      ),
      bounds: undefined,
    };
  if (raw.length === 0 || raw.length > ENVELOPE_LIMITS.maxBuckets) {
    return {
      f: addProblem(f, RejectReason.invalid, path, `must have 1 to ${ENVELOPE_LIMITS.maxBuckets} bounds`),
      bounds: undefined,
    };
  }
  let ok = true;
  for (let i = 0; i < raw.length; i++) {
    const p = valueProblem(raw[i], -MAX);
    if (p !== undefined) {
      f = addProblem(f, RejectReason.invalid, `${path}[${i}]`, p);
      ok = false;
    }
  }
  // The layout rule (finite, strictly ascending) has one home; the loop above adds the envelope's range.
  if (ok) {
    for (const b of layoutProblems(raw)) {
      f = addProblem(f, RejectReason.invalid, `${path}[${b.index}]`, b.message);
      ok = false;
    }
  }
  return { f, bounds: ok ? (raw as number[]) : undefined };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface FamilyEntry {
  readonly slot: number;
  readonly info: FamilyInfo;
  readonly fromProfile: boolean;
}

/** The family a name already has in this message: the profile's, or defined by an earlier event. */
function knownFamily(name: string, ctx: MessageContext): FamilyEntry | undefined {
  const pm: CompiledMetric | undefined = ctx.profile.metricsByName.get(name);
  if (pm !== undefined) return { slot: pm.id, info: pm, fromProfile: true };
  return ctx.generic.get(name);
}

/** Checks a generic event against its family's definition, or defines the family (first one wins). */
function resolveFamily(
  existing: FamilyEntry | undefined,
  name: string,
  type: FamilyInfo['type'],
  labels: GenericLabels,
  bounds: readonly number[],
  help: string,
  index: number,
  ctx: MessageContext,
): FamilyEntry | Failure {
  if (existing === undefined) {
    const names = labels.names;
    const info: FamilyInfo = { name, type, help, labelNames: names, sortedLabelNames: names, bounds };
    const entry = { slot: ctx.nextSlot++, info, fromProfile: false };
    ctx.generic.set(name, entry);
    return entry;
  }
  const { info } = existing;
  const path = `events[${index}].name`;
  const origin = existing.fromProfile ? `in profile ${ctx.profile.name}` : 'earlier in this message';
  if (info.type !== type) {
    return fail(
      RejectReason.familyConflict,
      path,
      `family ${name} is a ${info.type} ${origin}, not a ${type}`,
    );
  }
  if (!sameNames(info.sortedLabelNames, labels.names)) {
    const message = `family ${name} has labels [${info.sortedLabelNames.join(',')}] ${origin}, this event has [${labels.names.join(',')}]`;
    return fail(RejectReason.familyConflict, path, message);
  }
  if (type === 'histogram' && !sameBounds(info.bounds, bounds)) {
    const message = `family ${name} has buckets [${info.bounds.join(', ')}] ${origin}, this event has [${bounds.join(', ')}]`;
    return fail(RejectReason.familyConflict, path, message);
  }
  if (!existing.fromProfile && info.help === '' && help !== '') info.help = help;
  return existing;
}

/** Label values in the family's key order (profile families keep their declared order). */
function orderedValues(info: FamilyInfo, labels: GenericLabels, parts: string[]): string[] {
  const n = info.labelNames.length;
  parts.length = n;
  for (let i = 0; i < n; i++) {
    const name = info.labelNames[i]!;
    // labels.names is sorted; a profile family's label order may differ.
    const j = labels.names[i] === name ? i : labels.names.indexOf(name);
    parts[i] = labels.values[j]!;
  }
  return parts;
}

/** `counter`, `gauge` and `histogram` events. */
export function mapGenericEvent(
  ev: Record<string, unknown>,
  kind: 'counter' | 'gauge' | 'histogram',
  index: number,
  ctx: MessageContext,
): Failure | undefined {
  const time = ev.time;
  let f: Failure | undefined;
  const tp = timeProblem(time, ctx);
  if (tp !== undefined) f = fail(RejectReason.invalid, `events[${index}].time`, tp);
  f = checkKeys(
    ev,
    kind === 'counter' ? COUNTER_KEYS : kind === 'gauge' ? GAUGE_KEYS : HISTOGRAM_KEYS,
    index,
    kind,
    f,
  );
  const name = ev.name;
  // A name this message already knows (profile metric or earlier event) was validated then.
  const existing = typeof name === 'string' ? knownFamily(name, ctx) : undefined;
  if (existing === undefined) {
    const np = nameProblem(name);
    if (np) f = addProblem(f, np.reason, `events[${index}].name`, np.message);
  }
  const help = ev.help;
  const hp = helpProblem(help);
  if (hp !== undefined) f = addProblem(f, RejectReason.invalid, `events[${index}].help`, hp);
  let op: unknown;
  if (kind === 'gauge') {
    op = ev.op;
    if (!GAUGE_OP_SET.has(op)) f = addProblem(f, RejectReason.invalid, `events[${index}].op`, GAUGE_OP_RULE);
  }
  const raw = ev.value;
  let value = 1;
  if (raw === undefined) {
    if (kind === 'histogram' || op === 'set')
      f = addProblem(f, RejectReason.invalid, `events[${index}].value`, 'is required');
  } else {
    const vp = valueProblem(raw, kind === 'counter' ? 0 : -MAX);
    if (vp) f = addProblem(f, RejectReason.invalid, `events[${index}].value`, vp);
    else value = raw as number;
  }
  let bounds: readonly number[] = [];
  if (kind === 'histogram') {
    const r = bucketsProblem(ev.buckets, `events[${index}].buckets`, f);
    f = r.f;
    if (r.bounds) bounds = r.bounds;
  }
  const r = readLabels(ev.labels, index, ctx, f);
  f = r.f;
  if (f !== undefined) return f;
  const labels = r.labels!;
  const fam = resolveFamily(
    existing,
    name as string,
    kind,
    labels,
    bounds,
    (help as string | undefined) ?? '',
    index,
    ctx,
  );
  if ('problems' in fam) return fam;

  const t = appliedTime(time as number, ctx);
  if (t > ctx.maxEventTime) ctx.maxEventTime = t;
  const acc = ctx.agg.series(fam.slot, fam.info, orderedValues(fam.info, labels, ctx.parts));
  if (kind === 'histogram') acc.observe(fam.info.bounds, value);
  else if (kind === 'counter' || op === 'inc') {
    acc.add += value;
    acc.hasAdd = true;
  } else if (op === 'dec') {
    acc.add -= value;
    acc.hasAdd = true;
  } else acc.setGauge(value, t);
  return undefined;
}
