/**
 * Packing units into transactions of at most 100 actions (Plan), and summing the ops of a plan per series
 * and per group (accumulate).
 */

import { sameBounds } from '../../model/buckets';
import { newerSet } from '../../model/gauge';
import { addNative } from '../../model/native';
import { bucketLayoutConflict, classicPartOf, nativeLayoutConflict } from '../families';
import { type GroupAcc, MAX_ACTIONS, type POp, rejectOp, type SeriesAcc, type Unit } from './apply-types';
import type { StoreContext } from './context';
import { PACK_ROOM, PACK_SLOTS, packKeyOf, seriesBytes } from './packs';

interface PackKey {
  readonly gpk: string;
  readonly fam: string;
  /** The item the series is written to: its own (the series key) or its pack's (`P` + pack key). */
  readonly item: string;
  /** A new series of its own item whose (full) pack is checked in the same transaction (one action more). */
  readonly cross: boolean;
  /** Bytes a new series adds to its pack (0 for known series and series of their own item). */
  readonly bytes: number;
  set: boolean;
  add: boolean;
}

/** Where a series is written: its own item or its pack (./packs.ts). Known series stay where they are. */
export function homeOf(
  ctx: StoreContext,
  o: { readonly key: string; readonly pack: boolean },
): 'item' | 'pack' {
  if (ctx.cache.exists.get(o.key) === true) return ctx.cache.packed.has(o.key) ? 'pack' : 'item';
  return o.pack && !ctx.cache.packFull.has(packKeyOf(o.key)) ? 'pack' : 'item';
}

function keyOf(ctx: StoreContext, o: POp, set: boolean): PackKey {
  const home = homeOf(ctx, o);
  const isNew = ctx.cache.exists.get(o.key) !== true;
  return {
    gpk: o.req.gpk,
    fam: o.op.name,
    item: home === 'pack' ? `P${packKeyOf(o.key)}` : o.key,
    cross: isNew && o.pack && home === 'item',
    bytes: isNew && home === 'pack' ? seriesBytes(o.labels) : 0,
    set,
    add: !set,
  };
}

export class Plan {
  readonly units: Unit[] = [];
  /** Series keys packed so far (to count actions and keep a set and an add of one series apart). */
  readonly keys = new Map<string, PackKey>();
  readonly series = new Map<string, SeriesAcc>();
  readonly groups = new Map<string, GroupAcc>();
  ledgers = 0;
  /** Ledger header keys of the multi-part requests packed so far: each is one more action (./apply-exec.ts). */
  readonly headers = new Set<string>();
  /**
   * Whether existing series have native buckets, read fresh for series that ops with and without them
   * reach in one plan (./apply-exec.ts `learnNativePresence`): the stored series decides which are refused.
   */
  readonly nativePresent = new Map<string, boolean>();
}

/** Actions a plan needs: ledgers (and multi-part headers), series, and with any series the group metas, new-series counters and one generation shard. */
function countActions(keys: Map<string, PackKey>, ledgers: number, exists: (k: string) => boolean): number {
  if (keys.size === 0) return ledgers;
  const groups = new Set<string>();
  const fams = new Set<string>();
  const items = new Set<string>();
  let cross = 0;
  let anyNew = false;
  for (const [k, p] of keys) {
    groups.add(p.gpk);
    items.add(p.item);
    if (p.cross) cross++;
    if (!exists(k)) {
      anyNew = true;
      fams.add(p.fam);
    }
  }
  return ledgers + items.size + cross + groups.size + fams.size + 1 + (anyNew ? 1 : 0);
}

/**
 * Whether every pack update stays inside its expression budget (PACK_SLOTS: an add 1, a set 4) and adds at
 * most PACK_ROOM bytes of new series to its pack (so a pack ends below about twice PACK_ROOM).
 */
function withinPackBudget(keys: Map<string, PackKey>): boolean {
  const slots = new Map<string, { n: number; bytes: number }>();
  for (const p of keys.values()) {
    if (p.item[0] !== 'P') continue;
    const cur = slots.get(p.item) ?? { n: 0, bytes: 0 };
    cur.n += p.set ? 4 : 1;
    cur.bytes += p.bytes;
    if (cur.n > PACK_SLOTS || cur.bytes > PACK_ROOM) return false;
    slots.set(p.item, cur);
  }
  return true;
}

/** Packs units into plans of at most 100 actions, in order; a set and an add of one series never share one. */
export function pack(ctx: StoreContext, unsorted: Unit[]): Plan[] {
  // Units of one group next to each other (stable): they share series, so more of them fit in one
  // transaction. Order between requests doesn't matter: adds commute, sets are ordered by event time.
  const rank = new Map<string, number>();
  for (const u of unsorted) if (!rank.has(u.req.gpk)) rank.set(u.req.gpk, rank.size);
  const units = unsorted
    .map((u, i) => ({ u, i }))
    .sort((a, b) => rank.get(a.u.req.gpk)! - rank.get(b.u.req.gpk)! || a.i - b.i)
    .map((x) => x.u);
  const plans: Plan[] = [];
  const exists = (k: string) => ctx.cache.exists.get(k) === true;
  let plan = new Plan();
  for (const u of units) {
    if (!fits(ctx, plan, u, exists)) {
      if (plan.units.length > 0) plans.push(plan);
      plan = new Plan();
    }
    addToPlan(ctx, plan, u);
  }
  if (plan.units.length > 0) plans.push(plan);
  return plans;
}

export function fits(ctx: StoreContext, plan: Plan, u: Unit, exists: (k: string) => boolean): boolean {
  if (plan.units.length === 0) return true;
  const keys = new Map(plan.keys);
  for (const o of u.adds) {
    const k = keys.get(o.key);
    if (k?.set) return false;
    if (!k) keys.set(o.key, keyOf(ctx, o, false));
  }
  for (const o of u.sets) {
    const k = keys.get(o.key);
    if (k?.add) return false;
    if (!k) keys.set(o.key, keyOf(ctx, o, true));
  }
  const header = u.req.header !== undefined && !plan.headers.has(u.req.header) ? 1 : 0;
  return (
    countActions(keys, plan.ledgers + (u.ledger ? 1 : 0) + plan.headers.size + header, exists) <=
      MAX_ACTIONS && withinPackBudget(keys)
  );
}

export function addToPlan(ctx: StoreContext, plan: Plan, u: Unit): void {
  plan.units.push(u);
  if (u.ledger) plan.ledgers++;
  if (u.req.header !== undefined) plan.headers.add(u.req.header);
  for (const o of u.adds) {
    const k = plan.keys.get(o.key);
    if (k) k.add = true;
    else plan.keys.set(o.key, keyOf(ctx, o, false));
  }
  for (const o of u.sets) {
    const k = plan.keys.get(o.key);
    if (k) k.set = true;
    else plan.keys.set(o.key, keyOf(ctx, o, true));
  }
}

/** Builds the accumulators of a plan from its live units. */
export function accumulate(ctx: StoreContext, plan: Plan): void {
  plan.series.clear();
  plan.groups.clear();
  for (const u of plan.units) {
    if (u.state !== 'pending') continue;
    for (const o of [...u.adds, ...u.sets]) {
      let a = plan.series.get(o.key);
      if (!a) {
        a = {
          key: o.key,
          gpk: o.req.gpk,
          sk: o.sk,
          first: o,
          isNew: ctx.cache.exists.get(o.key) !== true,
          ops: [],
        };
        plan.series.set(o.key, a);
      }
      let op = o.op;
      if (op.kind === 'histogram_observe' && a.hist && !sameBounds(a.first.bounds, op.bounds)) {
        rejectOp(o, bucketLayoutConflict(op.name, a.first.bounds ?? [], op.bounds)!);
        continue;
      }
      if (op.kind === 'histogram_observe') {
        // A series has native buckets or not (the stored one decides; a new one: its first op).
        const has = op.native !== undefined;
        const present = a.isNew
          ? undefined
          : ctx.cache.classicOnly.has(o.key)
            ? false
            : plan.nativePresent.get(o.key);
        const want = present ?? (a.hist ? a.native !== undefined : has);
        const classic = !want && has ? classicPartOf(op) : undefined;
        if (classic) op = o.op = classic;
        else if (want !== has) {
          rejectOp(o, nativeLayoutConflict(op.name, want));
          continue;
        }
      }
      a.ops.push(o);
      if (op.kind === 'gauge_set') {
        if (!a.set || newerSet(op, a.set.op as typeof op)) a.set = o;
      } else if (op.kind === 'histogram_observe') {
        if (!a.hist) a.hist = { cum: new Array<number>(op.bounds.length).fill(0), sum: 0, count: 0 };
        const h = a.hist;
        let c = 0;
        for (let i = 0; i < op.bounds.length; i++) {
          c += op.counts[i]!;
          h.cum[i] = (h.cum[i] ?? 0) + c;
        }
        h.sum += op.sum;
        h.count += op.count;
        if (op.native !== undefined)
          a.native = a.native === undefined ? op.native : addNative(a.native, op.native);
      } else {
        a.scalar = (a.scalar ?? 0) + op.value;
      }
      let g = plan.groups.get(o.req.gpk);
      if (!g) {
        g = { gpk: o.req.gpk, group: o.req.group, newSeries: [] };
        plan.groups.set(o.req.gpk, g);
      }
      if (o.req.eventTimeMs !== undefined && (g.eventMax === undefined || o.req.eventTimeMs > g.eventMax))
        g.eventMax = o.req.eventTimeMs;
    }
  }
  for (const a of plan.series.values()) if (a.isNew) plan.groups.get(a.gpk)!.newSeries.push(a);
}
