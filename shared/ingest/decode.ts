/**
 * decodeMessage: one SQS message body → the store's `ApplyRequest` (pre-aggregated), the pushes in event
 * order, and the events rejected alone. Pure apart from reading the clock when `nowMs` isn't given.
 *
 * Whole-message failures (body not JSON, not an object, wrong `v`, bad `id`, missing or invalid `group`,
 * `events` not an array, an unknown envelope field, a body over the size bound) throw `DecodeError`
 * listing every problem: such a message is permanent garbage and goes to the DLQ. Everything else is
 * decided per event.
 */
import type { AccrueConfig } from '../config';
import { ENVELOPE_LIMITS } from '../model/envelope-constants';
import { AccrueError, boundedProblems, type Problem, RejectReason, ValidationError } from '../model/errors';
import { longerThan } from '../model/lengths';
import { clip, loneSurrogateProblem } from '../model/names';
import { shapeProblems } from '../model/shape-check';
import type { CompiledKind, CompiledProfile } from '../profiles/types';
import { preparePush as defaultPreparePush } from '../push/prepare';
import { normalizeGroupingKey } from '../store/grouping';
import {
  DEFAULT_LIMITS,
  type GroupingKey,
  type PushMethod,
  type PushRequest,
  type ValidApplyRequest,
  type ValidPush,
} from '../store/types';
import { brandCheckedApply } from '../store/valid';
import { Aggregator } from './aggregate';
import type { MessageContext } from './context';
import { ENVELOPE, PUSH_EVENT } from './envelope.generated';
import type { Failure } from './errors';
import { DecodeError } from './errors';
import { type FastCheck, fastCheck } from './fastpath';
import { mapDomainEvent } from './map';
import { mapGenericEvent } from './map-generic';

export interface DecodeOptions {
  /** Label limits (from `StoreConfig.limits`). @default DEFAULT_LIMITS */
  readonly limits?: { readonly maxLabelValueLength?: number; readonly maxLabelsPerSeries?: number };
  /** Largest body, in UTF-8 bytes. @default 262144 (SQS's limit) */
  readonly maxMessageBytes?: number;
  /** The decoder's clock, for the future-time bound. @default Date.now() */
  readonly nowMs?: number;
  /** Allowed skew: event times later than `nowMs` plus this are clamped to it. @default 300000 */
  readonly maxFutureMs?: number;
  /** Use the generated fast path for domain events (results are identical; off only to compare). @default true */
  readonly fastPath?: boolean;
  /** Push validation (shared/push). Injectable for tests. */
  readonly preparePush?: typeof defaultPreparePush;
}

/** The decoder's options from the configuration (read once at start-up). */
export function decodeOptionsFromConfig(config: AccrueConfig): DecodeOptions {
  return {
    limits: config.store.limits,
    maxMessageBytes: config.ingest.maxMessageBytes,
    maxFutureMs: config.ingest.maxEventFutureMs,
  };
}

export interface RejectedEvent {
  /** Index of the event in `events`. */
  readonly index: number;
  readonly reason: RejectReason;
  /** Every problem, e.g. `events[17].latency_seconds: must be >= 0; events[17].regime: must be one of "T", "R", "B"`. */
  readonly message: string;
  readonly problems: readonly Problem[];
}

export interface DecodedMessage {
  /** The producer's `id`, else the SQS message id. */
  readonly id: string;
  readonly group: GroupingKey;
  /** Pre-aggregated operations of every accepted non-push event (may have no ops). */
  readonly apply: ValidApplyRequest;
  /** Validated pushes in event order; each `id` is `<message id>#push-<event index>`. */
  readonly pushes: readonly ValidPush[];
  readonly rejected: readonly RejectedEvent[];
  readonly eventCount: number;
  readonly acceptedCount: number;
  /** Accepted events whose time was later than the message's clock plus the skew, and was clamped to it. */
  readonly clamped?: number;
}

function byteLengthOver(body: string, max: number): boolean {
  if (body.length > max) return true; // every UTF-16 unit is at least one UTF-8 byte
  if (body.length * 3 <= max) return false; // at most 3 bytes per unit
  return Buffer.byteLength(body, 'utf8') > max;
}

function decodeGroup(
  raw: unknown,
  maxValue: number,
  maxLabels: number,
  problems: Problem[],
): GroupingKey | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push({
      path: 'group',
      message: raw === undefined ? 'is required' : 'must be an object of label name to value, with "job"',
    });
    return undefined;
  }
  const obj = raw as Record<string, unknown>;
  const before = problems.length;
  const names = Object.keys(obj);
  if (names.length > maxLabels)
    problems.push({ path: 'group', message: `must have at most ${maxLabels} labels (maxLabelsPerSeries)` });
  for (const n of names) {
    const v = obj[n];
    if (typeof v === 'string' && longerThan(v, maxValue)) {
      problems.push({
        path: `group.${clip(n)}`,
        message: `must be at most ${maxValue} characters (maxLabelValueLength)`,
      });
    } else if (typeof v === 'string' && loneSurrogateProblem(v) !== undefined) {
      problems.push({ path: `group.${clip(n)}`, message: loneSurrogateProblem(v)! });
    }
  }
  try {
    const key = normalizeGroupingKey(obj, 'legacy');
    return problems.length > before ? undefined : key;
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    for (const p of e.problems)
      problems.push({ path: p.path.replace(/^grouping_key/, 'group'), message: p.message });
    return undefined;
  }
}

interface KindEntry {
  readonly kind: CompiledKind;
  readonly fast: FastCheck | null;
}
const kindTables = new WeakMap<CompiledProfile, Map<string, KindEntry>>();

/** Per profile: kind name → compiled kind and its generated fast check (built once). */
function kindTable(profile: CompiledProfile): Map<string, KindEntry> {
  let t = kindTables.get(profile);
  if (t === undefined) {
    t = new Map();
    for (const [name, kind] of profile.kinds) t.set(name, { kind, fast: fastCheck(kind) });
    kindTables.set(profile, t);
  }
  return t;
}

function rejected(index: number, f: Failure): RejectedEvent {
  const { shown, text } = boundedProblems(f.problems);
  return { index, reason: f.reason, message: text, problems: shown };
}

/**
 * Decodes, validates, maps and pre-aggregates one message. Throws `DecodeError` for an undecodable
 * message; rejects invalid events alone (in `rejected`, with index, reason and every problem).
 */
export function decodeMessage(
  body: string,
  fallbackId: string,
  profile: CompiledProfile,
  opts: DecodeOptions = {},
): DecodedMessage {
  const { id, group, events } = decodeEnvelope(body, fallbackId, opts);
  const ctx = messageContext(profile, group, opts);
  const kinds = kindTable(profile);
  const rejects: RejectedEvent[] = [];
  const pushes: ValidPush[] = [];
  const prepare = opts.preparePush ?? defaultPreparePush;
  const fast = opts.fastPath !== false;
  const onPush = (e: Record<string, unknown>, i: number): Failure | undefined => {
    const r = mapPush(e, i, ctx, id, prepare);
    if ('problems' in r) return r;
    pushes.push(r);
    return undefined;
  };
  const n = events.length;
  for (let i = 0; i < n; i++) {
    const f = decodeEvent(events[i], i, ctx, kinds, fast, onPush);
    if (f !== undefined) rejects.push(rejected(i, f));
  }
  // Every op was built from an event the validators above accepted: branded here, not checked again.
  const apply = brandCheckedApply(
    ctx.maxEventTime >= 0
      ? { id, group, ops: ctx.agg.ops(), eventTimeMs: ctx.maxEventTime }
      : { id, group, ops: ctx.agg.ops() },
  );
  const counts = { eventCount: n, acceptedCount: n - rejects.length };
  return {
    id,
    group,
    apply,
    pushes,
    rejected: rejects,
    ...counts,
    ...(ctx.clamped > 0 ? { clamped: ctx.clamped } : {}),
  };
}

/** The envelope of a message (size, JSON, `v`, `id`, `group`, `events`), or a `DecodeError` with every problem. */
function decodeEnvelope(
  body: string,
  fallbackId: string,
  opts: DecodeOptions,
): { id: string; group: GroupingKey; events: unknown[] } {
  const maxBytes = opts.maxMessageBytes ?? ENVELOPE_LIMITS.maxMessageBytes;
  if (typeof body !== 'string') throw new DecodeError([{ path: 'body', message: 'must be a string' }]);
  if (byteLengthOver(body, maxBytes)) {
    throw new DecodeError([{ path: 'body', message: `must be at most ${maxBytes} bytes (maxMessageBytes)` }]);
  }
  let msg: unknown;
  try {
    msg = JSON.parse(body);
  } catch (e) {
    throw new DecodeError([{ path: 'body', message: `is not JSON: ${(e as Error).message}` }]);
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    throw new DecodeError([{ path: 'body', message: 'must be a JSON object (envelope v1)' }]);
  }
  // v, id, events and unknown fields: the check generated from the envelope's TypeBox schema.
  const env = msg as { id?: string; group?: unknown; events: unknown[] };
  const problems: Problem[] = [];
  const shapeOk = shapeProblems(ENVELOPE, env, '', problems);
  const { maxLabelValueLength, maxLabelsPerSeries } = labelLimits(opts);
  const group = decodeGroup(env.group, maxLabelValueLength, maxLabelsPerSeries, problems);
  if (!shapeOk || group === undefined) throw new DecodeError(problems);
  return { id: env.id ?? fallbackId, group, events: env.events };
}

function labelLimits(opts: DecodeOptions): { maxLabelValueLength: number; maxLabelsPerSeries: number } {
  return {
    maxLabelValueLength: opts.limits?.maxLabelValueLength ?? DEFAULT_LIMITS.maxLabelValueLength,
    maxLabelsPerSeries: opts.limits?.maxLabelsPerSeries ?? DEFAULT_LIMITS.maxLabelsPerSeries,
  };
}

/** The per-message state the event mappers share (aggregator, limits, clock bound, caches). */
function messageContext(profile: CompiledProfile, group: GroupingKey, opts: DecodeOptions): MessageContext {
  const maxFutureMs = opts.maxFutureMs ?? ENVELOPE_LIMITS.maxFutureMs;
  const nowMs = opts.nowMs ?? Date.now();
  return {
    agg: new Aggregator(),
    profile,
    group,
    groupLabelCount: Object.keys(group).length,
    ...labelLimits(opts),
    maxTimeMs: ENVELOPE_LIMITS.maxTimeMs,
    clampTimeMs: Math.min(ENVELOPE_LIMITS.maxTimeMs, nowMs + maxFutureMs),
    clamped: 0,
    scratch: [],
    enumIdx: [],
    parts: [],
    kindCaches: new Array(profile.kinds.size),
    generic: new Map(),
    nextSlot: profile.metrics.length,
    kindProblems: new Array(profile.kinds.size),
    maxEventTime: -1,
  };
}

/** One event by its kind: a profile event, a generic metric event, a push; else why it is refused. */
function decodeEvent(
  ev: unknown,
  i: number,
  ctx: MessageContext,
  kinds: ReturnType<typeof kindTable>,
  fast: boolean,
  push: (e: Record<string, unknown>, i: number) => Failure | undefined,
): Failure | undefined {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev))
    return {
      reason: RejectReason.invalid,
      problems: [{ path: `events[${i}]`, message: 'must be an object' }],
    };
  const e = ev as Record<string, unknown>;
  const k = e.kind;
  const entry = typeof k === 'string' ? kinds.get(k) : undefined;
  if (entry !== undefined) return mapDomainEvent(e, entry.kind, fast ? entry.fast : null, i, ctx);
  if (k === 'counter' || k === 'gauge' || k === 'histogram') return mapGenericEvent(e, k, i, ctx);
  if (k === 'push') return push(e, i);
  if (typeof k !== 'string')
    return {
      reason: RejectReason.invalid,
      problems: [
        { path: `events[${i}].kind`, message: k === undefined ? 'is required' : 'must be a string' },
      ],
    };
  const known = [...ctx.profile.kinds.keys()].join(', ');
  return {
    reason: RejectReason.unknownEvent,
    problems: [
      {
        path: `events[${i}].kind`,
        message: `unknown event kind ${JSON.stringify(k.slice(0, 64))} (profile ${ctx.profile.name}: ${known}; generic: counter, gauge, histogram, push)`,
      },
    ],
  };
}

/** The event index of a push this decoder made (its id ends `#push-<event index>`), else undefined. */
export function pushEventIndex(push: PushRequest): number | undefined {
  const m = push.id === undefined ? null : /#push-(\d+)$/.exec(push.id);
  return m ? Number(m[1]) : undefined;
}

function mapPush(
  ev: Record<string, unknown>,
  index: number,
  ctx: MessageContext,
  id: string,
  prepare: typeof defaultPreparePush,
): ValidPush | Failure {
  // kind, time, method, body and unknown fields: the check generated from the PushEvent TypeBox schema.
  const problems: Problem[] = [];
  if (!shapeProblems(PUSH_EVENT, ev, `events[${index}]`, problems))
    return { reason: RejectReason.invalid, problems };
  try {
    const time = ev.time as number;
    const req = prepare(
      ev.method as PushMethod,
      ctx.group,
      (ev.body as string | undefined) ?? '',
      Math.min(time, ctx.clampTimeMs),
      `${id}#push-${index}`,
    );
    if (time > ctx.clampTimeMs) ctx.clamped++;
    return req; // its time is the push's own (pushTimeMs), not part of the ApplyRequest's eventTimeMs
  } catch (e) {
    // Our own faults (no parser registered, a bug) must not reject a producer's valid push: let the
    // message fail and be retried instead.
    if (!(e instanceof AccrueError) || !e.permanent || e.reason === 'internal') throw e;
    const reason = e.reason as RejectReason;
    const inner = e instanceof ValidationError ? e.problems : [{ path: '', message: e.message }];
    return {
      reason,
      problems: inner.map((p) => ({
        path: p.path ? `events[${index}].body ${p.path}` : `events[${index}].body`,
        message: p.message,
      })),
    };
  }
}
