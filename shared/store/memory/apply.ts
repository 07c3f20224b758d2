/**
 * SQS deltas on the memory store: checks each op against the stored state (family consistency, limits, the
 * group limit; the request was validated at the edge, shared/store/valid.ts) and applies it exactly once
 * per request id (the ledger), gauge sets before adds.
 */
import { type AccrueError, TransientError } from '../../model/errors';
import {
  bucketLayoutConflict,
  classicPartOf,
  exposedLabelCount,
  familyConflict,
  groupLimitError,
  groupShapeNames,
  labelLimitErrorCounted,
  nativeLayoutConflict,
  opFamilyType,
  reservedNameConflict,
  schemaOf,
  seriesLimitError,
} from '../families';
import { planOf, redeliveryMismatch } from '../plan';
import type { ApplyResult, GroupingKey, MetricOp, RejectedOp, ValidApplyRequest } from '../types';
import { EMPTY, flatKey, type HistCell } from './cells';
import { encApplyRecord } from './codec';
import { applyOp, touchGroupForApply } from './effects';
import { groupLimitReached, type MemoryState, pruneLedger } from './state';

export function applyOne(st: MemoryState, r: ValidApplyRequest, now: number): ApplyResult {
  const { id, group } = r;
  if (st.faults.delete(id)) {
    return {
      id,
      status: 'failed',
      error: new TransientError(`injected fault for request ${id}`),
      rejected: EMPTY,
    };
  }
  const keyStr = flatKey(group);
  const gl = groupLimitError(group, st.limits);
  if (gl) return { id, status: 'failed', error: gl, rejected: EMPTY };
  const shapeNames = st.groups.get(keyStr)?.shapeNames ?? groupShapeNames(group);
  const plan = planOf(r).hash;
  const duplicate = st.ledger.has(id);
  const committed = st.plans.get(id);
  if (duplicate && committed !== undefined && committed !== plan)
    return { id, status: 'failed', error: redeliveryMismatch(id), rejected: EMPTY };
  const rejected: RejectedOp[] = [];
  const accepted: MetricOp[] = [];
  let changed = false;
  // Gauge sets first, then the additive ops (an add in the same message moves the set value), so the
  // result doesn't depend on op order: the same rule on every store.
  for (const i of setsFirst(r.ops)) {
    const op = r.ops[i]!;
    if (duplicate && op.kind !== 'gauge_set') continue;
    const checked = checkOp(st, group, keyStr, shapeNames, op);
    if (typeof checked !== 'string') {
      rejected.push({ index: i, error: checked });
      continue;
    }
    const use = classicOnlyInto(st, keyStr, op, checked);
    accepted.push(use);
    if (applyOp(st, group, keyStr, use, checked, now)) changed = true;
  }
  const ev = r.eventTimeMs;
  if (changed) touchGroupForApply(st, keyStr, now, ev);
  if (changed) st.gen++;
  if (!duplicate) {
    st.ledger.set(id, now);
    st.plans.set(id, plan);
    pruneLedger(st, now);
  }
  if (st.journal && (accepted.length > 0 || !duplicate)) {
    st.journal.append(`a${encApplyRecord(duplicate ? undefined : id, group, now, ev, accepted, plan)}`);
  }
  rejected.sort((a, b) => a.index - b.index);
  return { id, status: duplicate ? 'duplicate' : 'applied', rejected };
}

/** Checks one op against the stored state (consistency, limits); returns the error, or the series key when it may apply. */
export function checkOp(
  st: MemoryState,
  group: GroupingKey,
  keyStr: string,
  shapeNames: readonly string[],
  op: MetricOp,
): AccrueError | string {
  const type = opFamilyType(op.kind);
  const entry = st.schemas.get(op.name);
  if (entry) {
    if (entry.schema.type !== type) {
      const c = familyConflict(entry.schema, schemaOf(op.name, type, shapeNames, op.labels));
      if (c) return c;
    }
  } else {
    const c = reservedNameConflict(op.name, type, (n) => st.schemas.get(n)?.schema.type);
    if (c) return c;
  }
  const labelCount = exposedLabelCount(shapeNames, op.labels);
  const le = labelLimitErrorCounted(op.name, group, op.labels, labelCount, st.limits);
  if (le) return le;
  const sk = flatKey(op.labels);
  const grp = st.groups.get(keyStr);
  if (!grp && !st.tombstones.has(keyStr)) {
    const ge = groupLimitReached(st);
    if (ge) return ge;
  }
  const cell = grp?.families.get(op.name)?.series.get(sk);
  if (cell && op.kind === 'histogram_observe') {
    const c = bucketLayoutConflict(op.name, (cell as HistCell).bounds, op.bounds);
    if (c) return c;
    const hasNative = (cell as HistCell).native !== undefined;
    if (hasNative !== (op.native !== undefined) && (hasNative || !classicPartOf(op)))
      return nativeLayoutConflict(op.name, hasNative);
  }
  if (!cell) {
    const se = seriesLimitError(
      op.name,
      { family: (entry?.series ?? 0) + 1, group: (grp?.seriesCount ?? 0) + 1, total: st.total + 1 },
      st.limits,
    );
    if (se) return se;
  }
  return sk;
}

/** The op as it is added into series `sk`: its classic part only for a stored series without native buckets. */
function classicOnlyInto(st: MemoryState, keyStr: string, op: MetricOp, sk: string): MetricOp {
  if (op.kind !== 'histogram_observe' || op.native === undefined) return op;
  const cell = st.groups.get(keyStr)?.families.get(op.name)?.series.get(sk) as HistCell | undefined;
  return cell && cell.native === undefined ? (classicPartOf(op) ?? op) : op;
}

/** Op indexes with gauge sets first, then the rest, each in request order. */
function setsFirst(ops: readonly MetricOp[]): number[] {
  const sets: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    if (ops[i]!.kind === 'gauge_set') sets.push(i);
    else rest.push(i);
  }
  return sets.length === 0 ? rest : [...sets, ...rest];
}
