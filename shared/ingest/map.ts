/**
 * Mapping of profile (domain) events into the message's `Aggregator` (the hot path): the generated fast
 * path (fastpath.ts) or, when it isn't sure, the full validator (validate-domain.ts) decides; only then are
 * the profile's operations emitted, so a rejected event contributes nothing. Generic metric events are
 * mapped by map-generic.ts.
 *
 * Each event finds its series through per-message caches: one Map lookup by the event's string label
 * values per kind, then an array index per emit from its enum labels.
 */
import { KEY_SEP } from '../model/identity';
import type { CompiledEmit, CompiledKind } from '../profiles/types';
import { EmitOp } from '../profiles/types';
import type { SeriesAcc } from './aggregate';
import { appliedTime, type MessageContext } from './context';
import type { Failure } from './errors';
import type { FastCheck } from './fastpath';
import { kindProblem, validateDomainEvent } from './validate-domain';

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
