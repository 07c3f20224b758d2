/**
 * SQS deltas, exactly once (Store.apply): requests (validated at the edge, shared/store/valid.ts) are
 * checked against the store's limits and cut into deterministic parts (each with its ledger key), then run
 * as packed transactions until every part is applied, duplicate or failed.
 * Packing is ./apply-pack.ts, one transaction ./apply-exec.ts, a cancelled one ./apply-cancel.ts.
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransientError, ValidationError } from '../../model/errors';
import { newerSet } from '../../model/gauge';
import { groupLimitError, groupShapeNames, opFamilyType, schemaOf, seriesLabelLimitError } from '../families';
import { planOf } from '../plan';
import type { ApplyResult, MetricOp, ValidApplyRequest } from '../types';
import { execPlan } from './apply-exec';
import { pack } from './apply-pack';
import {
  copyLabels,
  MAX_ACTIONS,
  PART_OVERHEAD,
  type POp,
  type PReq,
  type Unit,
  withPath,
} from './apply-types';
import { groupPk, ledgerKey, MAX_DELTA, readNumber, SK_META, s, seriesSk } from './codec';
import type { StoreContext } from './context';
import { ensureGroups } from './group-count';
import { toAccrue } from './io';
import { PACK_ROOM, PACK_SLOTS, packable, packKeyOf, seriesIn } from './packs';
import { backoffMs, describe, sleep } from './retry';
import { resolveSchemas } from './schemas';

/** Gauge sets per unit (not ledgered, so free to choose): 18 sets fit one pack update's expression budget. */
const SETS_PER_UNIT = Math.floor(PACK_SLOTS / 4);

export async function applyRequests(
  ctx: StoreContext,
  requests: readonly ValidApplyRequest[],
): Promise<ApplyResult[]> {
  const results: ApplyResult[] = new Array(requests.length);
  // Rounds of distinct ids: a repeated id in one batch is applied after its first occurrence.
  let rest = requests.map((r, i) => ({ r, i }));
  while (rest.length > 0) {
    const seen = new Set<string>();
    const round: { r: ValidApplyRequest; i: number }[] = [];
    const later: { r: ValidApplyRequest; i: number }[] = [];
    for (const x of rest) {
      const id = x.r.id;
      if (seen.has(id)) later.push(x);
      else {
        seen.add(id);
        round.push(x);
      }
    }
    const out = await applyRound(
      ctx,
      round.map((x) => x.r),
    );
    round.forEach((x, k) => {
      results[x.i] = out[k]!;
    });
    rest = later;
  }
  return results;
}

/**
 * One round of requests with distinct ids: each planned into its units (./apply-types.ts), the units
 * written until none is pending (schemas and existence read first), then each request's result.
 */
export async function applyRound(
  ctx: StoreContext,
  requests: readonly ValidApplyRequest[],
): Promise<ApplyResult[]> {
  const results: (ApplyResult | undefined)[] = new Array(requests.length);
  const preqs: PReq[] = [];
  const allOps: POp[] = [];
  requests.forEach((r, idx) => {
    const gl = groupLimitError(r.group, ctx.limits);
    if (gl) {
      results[idx] = { id: r.id, status: 'failed', error: gl, rejected: [] };
      return;
    }
    const { preq, ops } = planRequest(ctx, r, idx);
    preqs.push(preq);
    allOps.push(...ops);
  });
  const units = preqs.flatMap((p) => p.units);
  await writeRound(ctx, allOps, units);
  for (const p of preqs) results[p.idx] = resultOf(p);
  return results as ApplyResult[];
}

/** A request as its units: ledgered parts of its additive ops, and batches of its gauge sets. */
function planRequest(ctx: StoreContext, r: ValidApplyRequest, idx: number): { preq: PReq; ops: POp[] } {
  const plan = planOf(r);
  const preq: PReq = {
    idx,
    id: r.id,
    hash: plan.hash,
    group: r.group,
    gpk: groupPk(r.group),
    ...(r.eventTimeMs !== undefined ? { eventTimeMs: r.eventTimeMs } : {}),
    rejected: [],
    units: [],
  };
  const valid = checkedOps(ctx, preq, r.ops);
  const parts = cutParts(r.ops, plan.order, valid);
  if (parts.length > 1) preq.header = ledgerKey(r.id);
  parts.forEach((part, k) => {
    preq.units.push({
      req: preq,
      ledger: ledgerKey(parts.length === 1 ? r.id : `${r.id}#${k}`),
      adds: part,
      sets: [],
      state: 'pending',
    });
  });
  // Gauge sets go first: a request's adds wait until its sets of the same series are written
  // (runUnits), so a set and an add of one series in one message give set + add on every store.
  const sets = [...valid.values()].filter((p) => p.op.kind === 'gauge_set');
  for (let i = 0; i < sets.length; i += SETS_PER_UNIT) {
    preq.units.unshift({ req: preq, adds: [], sets: sets.slice(i, i + SETS_PER_UNIT), state: 'pending' });
  }
  return { preq, ops: [...valid.values()] };
}

/** The ops of a request the store takes (by index), each with its series key; the others rejected. */
function checkedOps(ctx: StoreContext, preq: PReq, ops: readonly MetricOp[]): Map<number, POp> {
  const gnames = groupShapeNames(preq.group);
  const valid = new Map<number, POp>();
  ops.forEach((op, index) => {
    const big = rangeProblem(op, index);
    if (big) {
      preq.rejected.push({ index, error: big });
      return;
    }
    const type = opFamilyType(op.kind);
    const bounds = op.kind === 'histogram_observe' ? op.bounds : undefined;
    const schema = schemaOf(op.name, type, gnames, op.labels, bounds);
    const lim = seriesLabelLimitError(op.name, preq.group, gnames, op.labels, ctx.limits);
    if (lim) {
      preq.rejected.push({ index, error: withPath(lim, `ops[${index}]`) });
      return;
    }
    const labels = copyLabels(op.labels);
    const sk = seriesSk(op.name, labels);
    valid.set(index, {
      req: preq,
      index,
      op,
      labels,
      sk,
      key: `${preq.gpk}|${sk}`,
      schema,
      pack: packable(op, labels),
      ...(bounds ? { bounds } : {}),
      ...(op.help ? { help: op.help } : {}),
    });
  });
  return valid;
}

/**
 * Deterministic parts, cut over EVERY op of the request (valid or not) in the plan's canonical order,
 * greedily with worst-case overhead: the parts and their ledger keys depend on the message's content
 * only, never on what validation (limits, clock) accepted this time. Gauge sets are not in parts.
 */
function cutParts(
  ops: readonly MetricOp[],
  order: readonly number[],
  valid: ReadonlyMap<number, POp>,
): POp[][] {
  const parts: POp[][] = [];
  let cur: POp[] = [];
  let size = 0;
  let fams = new Set<string>();
  for (const index of order) {
    const op = ops[index]!;
    if (op.kind === 'gauge_set') continue;
    const fam = op.name;
    const nf = fams.has(fam) ? fams.size : fams.size + 1;
    if (size > 0 && size + 1 + nf + PART_OVERHEAD > MAX_ACTIONS) {
      parts.push(cur);
      cur = [];
      size = 0;
      fams = new Set();
    }
    size++;
    fams.add(fam);
    const p = valid.get(index);
    if (p) cur.push(p);
  }
  if (size > 0 || parts.length === 0) parts.push(cur);
  return parts;
}

/** Reads what the units need, then writes them; what is still pending when that throws fails. */
async function writeRound(ctx: StoreContext, allOps: POp[], units: Unit[]): Promise<void> {
  try {
    // Schemas and series existence are independent reads: one round trip instead of two (cold starts,
    // and every batch that brings new series). runUnits re-learns only what is still unknown.
    await Promise.all([resolveSchemas(ctx, allOps), learnExistence(ctx, units)]);
    await runUnits(ctx, units);
  } catch (e) {
    // A read or write that can't be retried here: what is still pending fails (goes back to the queue).
    const err = toAccrue(e);
    for (const u of units) {
      if (u.state !== 'pending') continue;
      u.state = 'failed';
      u.error = err;
    }
  }
}

/** A request's result from its units: failed if one failed, duplicate if every ledgered part was. */
function resultOf(p: PReq): ApplyResult {
  const ledgers = p.units.filter((u) => u.ledger !== undefined);
  const failed = p.units.find((u) => u.state === 'failed');
  const rejected = [...p.rejected].sort((a, b) => a.index - b.index);
  if (failed) {
    return {
      id: p.id,
      status: 'failed',
      error: failed.error ?? new TransientError(`request ${p.id}: not applied`),
      rejected,
    };
  }
  if (ledgers.length > 0 && ledgers.every((u) => u.state === 'duplicate')) {
    return { id: p.id, status: 'duplicate', rejected };
  }
  return { id: p.id, status: 'applied', rejected };
}

/** Existence of series not yet known, with consistent batched reads. */
export async function learnExistence(ctx: StoreContext, units: Unit[]): Promise<void> {
  const unknown = new Map<string, POp>();
  for (const u of units)
    for (const o of [...u.adds, ...u.sets])
      if (!ctx.cache.exists.has(o.key) && !unknown.has(o.key)) unknown.set(o.key, o);
  const metas = new Set<string>();
  for (const u of units)
    if (!ctx.cache.eventFloor.has(u.req.gpk) || !ctx.cache.groupExists.has(u.req.gpk)) metas.add(u.req.gpk);
  if (unknown.size === 0 && metas.size === 0) return;
  if (ctx.cache.exists.size > 500_000) {
    ctx.cache.exists.clear();
    ctx.cache.packed.clear();
    ctx.cache.packFull.clear();
    ctx.cache.setFloor.clear();
  }
  const ops = [...unknown.values()];
  const packKeys = new Map<string, { pk: AttributeValue; sk: AttributeValue }>();
  for (const o of ops) {
    if (!o.pack) continue;
    const pk = packKeyOf(o.key);
    if (!packKeys.has(pk)) packKeys.set(pk, { pk: s(o.req.gpk), sk: s(pk.slice(pk.indexOf('|') + 1)) });
  }
  const [items, packs] = await Promise.all([
    ctx.io.batchGet(
      [
        ...ops.map((o) => ({ pk: s(o.req.gpk), sk: s(o.sk) })),
        ...[...metas].map((gpk) => ({ pk: s(gpk), sk: s(SK_META) })),
      ],
      'pk, sk, ts, v, sv, lastEventMs, deleted',
    ),
    packKeys.size > 0 ? ctx.io.batchGet([...packKeys.values()]) : Promise.resolve([]),
  ]);
  const found = new Set<string>();
  for (const it of items) {
    const key = `${it.pk?.S}|${it.sk?.S}`;
    if (it.sk?.S === SK_META) {
      ctx.cache.eventFloor.set(it.pk!.S!, readNumber(it.lastEventMs) ?? Number.NEGATIVE_INFINITY);
      ctx.cache.groupExists.set(it.pk!.S!, true);
      if (it.deleted !== undefined) ctx.cache.tombstoned.add(it.pk!.S!);
      else ctx.cache.tombstoned.delete(it.pk!.S!);
      continue;
    }
    found.add(key);
    noteStoredSet(ctx, key, it);
  }
  for (const gpk of metas)
    if (!ctx.cache.eventFloor.has(gpk)) {
      ctx.cache.eventFloor.set(gpk, Number.NEGATIVE_INFINITY);
      ctx.cache.groupExists.set(gpk, false);
    }
  const packByKey = new Map(packs.map((p) => [`${p.pk?.S}|${p.sk?.S}`, p]));
  for (const o of ops) {
    // A series stored as its own item lives there (older tables, pushes, full packs), else in its pack.
    const pack = o.pack ? packByKey.get(packKeyOf(o.key)) : undefined;
    const inPack = found.has(o.key) ? undefined : seriesIn(pack, o.sk);
    ctx.cache.exists.set(o.key, found.has(o.key) || inPack !== undefined);
    if (inPack) {
      ctx.cache.packed.add(o.key);
      noteStoredSet(ctx, o.key, inPack);
    } else ctx.cache.packed.delete(o.key);
    if (pack && (readNumber(pack.z) ?? 0) > PACK_ROOM) ctx.cache.packFull.add(packKeyOf(o.key));
  }
}

/** Remembers the newest gauge set of a stored series (its `ts` and set value `sv`). */
function noteStoredSet(ctx: StoreContext, key: string, it: Record<string, AttributeValue>): void {
  const ts = readNumber(it.ts);
  const v = readNumber(it.sv) ?? readNumber(it.v);
  if (ts !== undefined && v !== undefined) ctx.cache.noteSet(key, ts, v);
}

/**
 * Scalars DynamoDB can't ADD (a delta of 1e20 or more, or a stored value kept as text) are written as
 * read-modify-write: read here (consistent), written with a condition on the value read.
 */
/** Drops sets that are known to be stale (not newer than the newest set known for their series). */
export function dropKnownStaleSets(ctx: StoreContext, units: Unit[]): void {
  for (const u of units) {
    if (u.sets.length === 0) continue;
    u.sets = u.sets.filter((o) => {
      const floor = ctx.cache.setFloor.get(o.key);
      return !floor || newerSet(o.op as { value: number; timeMs: number }, floor);
    });
  }
}

export async function runUnits(ctx: StoreContext, units: Unit[]): Promise<void> {
  let transientAttempts = 0;
  let lastTransient: unknown;
  const recheck: POp[] = [];
  for (let loop = 0; loop < 64; loop++) {
    if (recheck.length > 0) await resolveSchemas(ctx, recheck.splice(0), true);
    if (!units.some((u) => u.state === 'pending')) return;
    const pending = units.filter((u) => u.state === 'pending' && !waitsForSets(u));
    await learnExistence(ctx, pending);
    await ensureGroups(ctx, units);
    dropKnownStaleSets(ctx, pending);
    const plans = pack(ctx, pending);
    let transient = false;
    for (const plan of plans) {
      const r = await execPlan(ctx, plan, recheck);
      if (r === 'transient') transient = true;
      else if (r instanceof Error) {
        lastTransient = r;
        transient = true;
      }
    }
    if (transient) {
      transientAttempts++;
      if (transientAttempts >= ctx.io.retry.attempts) break;
      ctx.io.stats.retries++;
      await sleep(backoffMs(transientAttempts, ctx.io.retry));
    }
    if (lastTransient && !transient) lastTransient = undefined;
  }
  for (const u of units) {
    if (u.state === 'pending') {
      u.state = 'failed';
      u.error ??= new TransientError(
        `request ${u.req.id}: DynamoDB write still failing after ${ctx.io.retry.attempts} attempts${lastTransient ? `: ${describe(lastTransient)}` : ''}`,
        { cause: lastTransient },
      );
    }
  }
}

/** A request's additive part waits while a gauge set of the same series in that request is pending. */
function waitsForSets(u: Unit): boolean {
  if (u.adds.length === 0) return false;
  let keys: Set<string> | undefined;
  for (const x of u.req.units) {
    if (x === u || x.state !== 'pending' || x.sets.length === 0) continue;
    keys ??= new Set();
    for (const o of x.sets) keys.add(o.key);
  }
  return keys !== undefined && u.adds.some((o) => keys!.has(o.key));
}

function rangeProblem(op: MetricOp, index: number): ValidationError | undefined {
  const p = `ops[${index}]`;
  const big = (v: number) => Math.abs(v) >= MAX_DELTA;
  if (op.kind === 'histogram_observe') {
    if (big(op.sum) || op.counts.some(big))
      return new ValidationError([
        { path: `${p}.sum`, message: `must be below ${MAX_DELTA} in magnitude (DynamoDB store)` },
      ]);
  }
  return undefined;
}
