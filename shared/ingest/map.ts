/**
 * Validation and mapping of single events into the message's `Aggregator` (the hot path).
 *
 * Each function validates the WHOLE event first (collecting every problem) and only then touches the
 * aggregator, so a rejected event contributes nothing. It returns `undefined` when the event was
 * accepted, or a `Failure` with the reason and every problem found.
 *
 * Safety: untrusted keys are never assigned onto plain objects (labels are built with a null prototype
 * in aggregate.ts); fields are read by names the profile compiler vetted (never Object.prototype names);
 * numbers are range-checked with `!(v >= min && v <= max)`, which also refuses NaN.
 */
import { layoutProblems, sameBounds } from '../model/buckets';
import { ENVELOPE_LIMITS } from '../model/envelope-constants';
import { type Problem, RejectReason } from '../model/errors';
import { reservedNameProblem } from '../model/exposed-names';
import { KEY_SEP } from '../model/identity';
import { longerThan, shorterThan } from '../model/lengths';
import { labelNameProblemMemo } from '../model/name-memo';
import { clip, labelNameProblem, loneSurrogateProblem, METRIC_NAME_RE } from '../model/names';
import type { CompiledEmit, CompiledKind, CompiledMetric, CompiledProfile } from '../profiles/types';
import { EmitOp, FieldType } from '../profiles/types';
import type { GroupingKey } from '../store/types';
import type { Aggregator, FamilyInfo, SeriesAcc } from './aggregate';
import { COUNTER_FIELDS, GAUGE_FIELDS, GAUGE_OPS, HISTOGRAM_FIELDS } from './envelope.generated';
import type { FastCheck } from './fastpath';

export interface Failure {
  readonly reason: RejectReason;
  readonly problems: Problem[];
}

/** Per-message state shared by the event functions. */
export interface MessageContext {
  readonly agg: Aggregator;
  readonly profile: CompiledProfile;
  readonly group: GroupingKey;
  readonly groupLabelCount: number;
  readonly maxLabelValueLength: number;
  readonly maxLabelsPerSeries: number;
  /** Largest event time accepted: the end of the Date range. */
  readonly maxTimeMs: number;
  /**
   * Latest event time applied: the message's clock (SQS `SentTimestamp`) plus the allowed skew
   * (ACCRUE_MAX_EVENT_FUTURE_MS). Later times are clamped to it, not refused (docs/security.md).
   */
  readonly clampTimeMs: number;
  /** Accepted events whose time was clamped. */
  clamped: number;
  /** Scratch space for field values of the current event. */
  readonly scratch: unknown[];
  /** Enum value indexes of the current event's enum fields. */
  readonly enumIdx: number[];
  /** Label key parts of the current emit. */
  readonly parts: string[];
  /** Per compiled kind (by index): its series cache for this message. */
  readonly kindCaches: (KindCache | undefined)[];
  /** Generic families defined by this message, by name. */
  readonly generic: Map<string, FamilyEntry>;
  nextSlot: number;
  /** Per domain kind: a problem that rejects every event of the kind in this message (group collisions). */
  readonly kindProblems: (Failure | null | undefined)[];
  /** Newest accepted event time. */
  maxEventTime: number;
}

const fail = (reason: RejectReason, path: string, message: string): Failure => ({
  reason,
  problems: [{ path, message }],
});

function addProblem(f: Failure | undefined, reason: RejectReason, path: string, message: string): Failure {
  if (f === undefined) return fail(reason, path, message);
  f.problems.push({ path, message });
  return f;
}

/** The one rule for an event's `time` (the decoder's, and the client's: shared/client/validate.ts). */
export function timeProblem(t: unknown, ctx: Pick<MessageContext, 'maxTimeMs'>): string | undefined {
  if (typeof t !== 'number')
    return t === undefined ? 'is required' : 'must be a number (milliseconds since the Unix epoch)';
  if (!Number.isInteger(t)) return 'must be an integer (milliseconds since the Unix epoch)';
  if (t < 0) return 'must be >= 0';
  if (t > ctx.maxTimeMs) return `must be <= ${ctx.maxTimeMs} (end of the Date range)`;
  return undefined;
}

/**
 * A valid event time as applied: at most the message's clock plus the allowed skew. A producer's clock
 * can't pin a gauge or a group ahead of everyone else's data (docs/security.md "The producer trust model").
 */
export function appliedTime(t: number, ctx: MessageContext): number {
  if (t <= ctx.clampTimeMs) return t;
  ctx.clamped++;
  return ctx.clampTimeMs;
}

/** Keys of `ev` that are not in `known` (slow path, only when the key count says there are some). */
function unknownKeys(ev: Record<string, unknown>, known: (k: string) => boolean): string[] {
  const out: string[] = [];
  for (const k of Object.keys(ev)) if (!known(k)) out.push(k);
  return out;
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** Problems of a kind with this message's group (label collisions, label count), computed once per message. */
function kindProblem(kind: CompiledKind, ctx: MessageContext): Failure | null {
  let cached = ctx.kindProblems[kind.index];
  if (cached !== undefined) return cached;
  cached = null;
  const path = '';
  for (const l of kind.labelNames) {
    if (Object.hasOwn(ctx.group, l)) {
      cached = addProblem(
        cached ?? undefined,
        RejectReason.invalid,
        path,
        `label "${l}" of event kind "${kind.name}" is also a label of the envelope's group`,
      );
    }
  }
  for (const e of kind.emits) {
    if (e.metric.labelNames.length + ctx.groupLabelCount > ctx.maxLabelsPerSeries) {
      cached = addProblem(
        cached ?? undefined,
        RejectReason.limit,
        path,
        `${e.metric.name} would have more than ${ctx.maxLabelsPerSeries} labels with the group's (maxLabelsPerSeries)`,
      );
    }
  }
  ctx.kindProblems[kind.index] = cached;
  return cached;
}

/** A domain event of the profile: validate every field, then emit the profile's operations. */
export function mapDomainEvent(
  ev: Record<string, unknown>,
  kind: CompiledKind,
  fast: FastCheck | null,
  index: number,
  ctx: MessageContext,
): Failure | undefined {
  const scratch = ctx.scratch;
  const enumIdx = ctx.enumIdx;
  if (
    fast === null ||
    !fast(ev, scratch, enumIdx, ctx.maxTimeMs, ctx.maxLabelValueLength) ||
    kindProblem(kind, ctx) !== null
  ) {
    const f = validateDomainEvent(ev, kind, index, ctx);
    if (f !== undefined) return f;
  }
  emitDomainEvent(appliedTime(ev.time as number, ctx), kind, ctx);
  return undefined;
}

/** The full validator of a domain event: every problem, with paths. Fills the scratch arrays. */
export function validateDomainEvent(
  ev: Record<string, unknown>,
  kind: CompiledKind,
  index: number,
  ctx: MessageContext,
): Failure | undefined {
  let f: Failure | undefined;
  const time = ev.time;
  let present = 1; // kind
  if (time !== undefined) present++;
  const tp = timeProblem(time, ctx);
  if (tp !== undefined) f = fail(RejectReason.invalid, `events[${index}].time`, tp);
  const fields = kind.fields;
  const scratch = ctx.scratch;
  const enumIdx = ctx.enumIdx;
  const maxLabel = ctx.maxLabelValueLength;
  for (let i = 0; i < fields.length; i++) {
    const fd = fields[i]!;
    const v = ev[fd.name];
    scratch[i] = v;
    if (v === undefined) {
      if (!fd.optional) f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, 'is required');
      continue;
    }
    present++;
    switch (fd.type) {
      case FieldType.enum: {
        const list = fd.valueList;
        let j = list.length - 1;
        while (j >= 0 && list[j] !== v) j--;
        if (j < 0)
          f = addProblem(
            f,
            RejectReason.invalid,
            `events[${index}].${fd.name}`,
            `must be one of ${quoteList(list)}`,
          );
        else enumIdx[i] = j;
        break;
      }
      case FieldType.number:
        if (typeof v !== 'number')
          f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, 'must be a number');
        else if (!(v >= fd.minimum))
          f = addProblem(
            f,
            RejectReason.invalid,
            `events[${index}].${fd.name}`,
            Number.isNaN(v) ? 'must be a finite number' : `must be >= ${fd.minimum}`,
          );
        else if (!(v <= fd.maximum))
          f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, `must be <= ${fd.maximum}`);
        else if (fd.integer && !Number.isInteger(v))
          f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, 'must be an integer');
        break;
      case FieldType.string:
        if (typeof v !== 'string')
          f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, 'must be a string');
        else if (longerThan(v, fd.maxLength))
          f = addProblem(
            f,
            RejectReason.invalid,
            `events[${index}].${fd.name}`,
            `must be at most ${fd.maxLength} characters`,
          );
        else if (longerThan(v, maxLabel))
          f = addProblem(
            f,
            RejectReason.limit,
            `events[${index}].${fd.name}`,
            `must be at most ${maxLabel} characters (maxLabelValueLength)`,
          );
        else if (fd.minLength > 0 && shorterThan(v, fd.minLength))
          f = addProblem(
            f,
            RejectReason.invalid,
            `events[${index}].${fd.name}`,
            `must be at least ${fd.minLength} characters`,
          );
        else if (v.indexOf('\u0000') !== -1)
          f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, 'must not contain NUL');
        else {
          const sp = loneSurrogateProblem(v);
          if (sp !== undefined) f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, sp);
        }
        break;
      default:
        if (typeof v !== 'boolean')
          f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, 'must be true or false');
    }
  }
  let keys = 0;
  for (const _ in ev) keys++;
  if (keys !== present) {
    const names = fields.map((x) => x.name);
    for (const k of unknownKeys(ev, (k) => k === 'kind' || k === 'time' || names.includes(k))) {
      f = addProblem(
        f,
        RejectReason.invalid,
        `events[${index}].${k}`,
        `unknown field (event kind "${kind.name}" has: time, ${names.join(', ')})`,
      );
    }
  }
  const kp = kindProblem(kind, ctx);
  if (kp !== null)
    f = addProblem(f, kp.reason, `events[${index}]`, kp.problems.map((p) => p.message).join('; '));
  return f;
}

// The emit ops as plain constants: the switch below runs per emit of every event, and under tsx and jest
// (CommonJS output) every read of an imported binding is a getter call.
const { observe: OBSERVE, counterInc: COUNTER_INC, gaugeAdd: GAUGE_ADD, gaugeSub: GAUGE_SUB } = EmitOp;

/** Emits a validated event's operations (values in the scratch arrays); nothing here can fail. */
function emitDomainEvent(t: number, kind: CompiledKind, ctx: MessageContext): void {
  const scratch = ctx.scratch;
  const enumIdx = ctx.enumIdx;
  if (t > ctx.maxEventTime) ctx.maxEventTime = t;
  const emits = kind.emits;
  const slot = slotFor(kind, scratch, ctx);
  for (let e = 0; e < emits.length; e++) {
    const em = emits[e]!;
    let value = em.valueConst;
    if (em.valueIndex >= 0) {
      const raw = scratch[em.valueIndex];
      if (raw === undefined) {
        if (!em.hasDefault) continue;
      } else value = typeof raw === 'boolean' ? (raw ? 1 : 0) : (raw as number);
    }
    const arr = slot[e]!;
    const ef = em.enumLabelIndexes;
    let ci = 0;
    for (let k = 0; k < ef.length; k++) ci += enumIdx[ef[k]!]! * em.enumStrides[k]!;
    let acc = arr[ci];
    if (acc === undefined) {
      acc = seriesMiss(em, scratch, ctx);
      arr[ci] = acc;
    }
    const metric = em.metric;
    switch (em.op) {
      case OBSERVE:
        acc.observe(metric.bounds, value);
        break;
      case COUNTER_INC:
      case GAUGE_ADD:
        acc.add += value;
        acc.hasAdd = true;
        break;
      case GAUGE_SUB:
        acc.add -= value;
        acc.hasAdd = true;
        break;
      default:
        acc.setGauge(value, t);
    }
  }
}

/** Per emit of a kind: its series by enum combination index. */
type SeriesSlot = (SeriesAcc | undefined)[][];

/** Per kind and message: series slots by the event's string label values (joined). */
export class KindCache {
  flat: SeriesSlot | undefined;
  readonly byStr = new Map<string, SeriesSlot>();
}

function newSlot(kind: CompiledKind): SeriesSlot {
  return kind.emits.map((em) => new Array<SeriesAcc | undefined>(em.combos));
}

/**
 * The series slot of the current event: one Map lookup keyed by the string label values of the kind's
 * emits (no lookup at all when they have none); each emit then finds its series by an array index
 * computed from its enum labels. On a miss, the family's series is found or created in the aggregator.
 */
function slotFor(kind: CompiledKind, scratch: unknown[], ctx: MessageContext): SeriesSlot {
  let kc = ctx.kindCaches[kind.index];
  if (kc === undefined) {
    kc = new KindCache();
    ctx.kindCaches[kind.index] = kc;
  }
  const sk = kind.strKeyFields;
  if (sk.length === 0) {
    if (kc.flat === undefined) kc.flat = newSlot(kind);
    return kc.flat;
  }
  let key = scratch[sk[0]!] as string;
  for (let k = 1; k < sk.length; k++) key = key + KEY_SEP + (scratch[sk[k]!] as string);
  let slot = kc.byStr.get(key);
  if (slot === undefined) {
    slot = newSlot(kind);
    kc.byStr.set(key, slot);
  }
  return slot;
}

function seriesMiss(em: CompiledEmit, scratch: unknown[], ctx: MessageContext): SeriesAcc {
  const li = em.labelIndexes;
  const n = li.length;
  const values = new Array<string>(n);
  for (let l = 0; l < n; l++) {
    const idx = li[l]!;
    values[l] = idx >= 0 ? (scratch[idx] as string) : em.labelConsts[l]!;
  }
  return em.direct
    ? ctx.agg.newSeries(em.metric.id, em.metric, values)
    : ctx.agg.series(em.metric.id, em.metric, values);
}

// ---- generic metric operations ----

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

interface FamilyEntry {
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
