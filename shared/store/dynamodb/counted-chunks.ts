/**
 * Cutting a multi-transaction write (a large push, a DELETE, an expiry) into transactions that fit
 * DynamoDB's 100 actions beside the change-index item every transaction carries (./change-index.ts), so that **every transaction carries the counter changes of exactly the items it writes**: a new
 * series and its +1 on the family, group and store counters commit together, a deleted series and its -1
 * too. Whatever subset of the transactions commits (a process killed half-way, throttling outlasting the
 * retries, a client retrying), the counters stay equal to the items stored (issue 11, defect 4).
 *
 * Pure: the caller supplies the entries and builds the counter items; nothing here talks to DynamoDB.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { CHANGE_INDEX_ACTIONS, TRANSACT_MAX_ACTIONS } from './change-index';

/** Actions of a chunk's own: what is left of DynamoDB's limit after the change-index item. */
export const MAX_ACTIONS = TRANSACT_MAX_ACTIONS - CHANGE_INDEX_ACTIONS;

/** One item write and its effect on the series count of `family` (+1 new series, -1 deleted, 0 else). */
export interface CountedEntry {
  readonly item: TransactWriteItem;
  readonly family?: string;
  readonly delta: number;
}

export interface ChunkSpec {
  readonly entries: readonly CountedEntry[];
  /** Actions every chunk starts with (group meta, generation shard, guard), built per chunk. */
  readonly headSize: number;
  head(chunk: number, groupDelta: number, final: boolean): TransactWriteItem[];
  /** The counter action of a family for a chunk (undefined: the family has no counter item). */
  family(name: string, chunk: number, delta: number): TransactWriteItem | undefined;
  /** The store-wide counter action for a chunk. */
  total(chunk: number, delta: number): TransactWriteItem | undefined;
  /** Families whose counter action must be in the first chunk even without a delta (definitions, limit conditions). */
  readonly firstChunkFamilies?: ReadonlySet<string>;
  /** Whether the store counter must be in the first chunk even without a delta (its limit condition). */
  readonly firstChunkTotal?: boolean;
}

interface Draft {
  readonly entries: CountedEntry[];
  readonly deltas: Map<string, number>;
  total: number;
  needTotal: boolean;
}

/** The transactions, in order; at least one (its head alone when there are no entries). */
export function countedChunks(spec: ChunkSpec): TransactWriteItem[][] {
  const drafts: Draft[] = [];
  let cur = newDraft(spec, true);
  const size = (d: Draft) => spec.headSize + d.entries.length + d.deltas.size + (d.needTotal ? 1 : 0);
  for (const e of spec.entries) {
    const addsFamily = e.family !== undefined && e.delta !== 0 && !cur.deltas.has(e.family) ? 1 : 0;
    const addsTotal = e.delta !== 0 && !cur.needTotal ? 1 : 0;
    if (cur.entries.length > 0 && size(cur) + 1 + addsFamily + addsTotal > MAX_ACTIONS) {
      drafts.push(cur);
      cur = newDraft(spec, false);
    }
    cur.entries.push(e);
    if (e.family !== undefined && e.delta !== 0)
      cur.deltas.set(e.family, (cur.deltas.get(e.family) ?? 0) + e.delta);
    if (e.delta !== 0) {
      cur.total += e.delta;
      cur.needTotal = true;
    }
  }
  drafts.push(cur);
  return drafts.map((d, c) => {
    const out = spec.head(c, d.total, c === drafts.length - 1);
    for (const e of d.entries) out.push(e.item);
    for (const [name, delta] of d.deltas) {
      const f = spec.family(name, c, delta);
      if (f) out.push(f);
    }
    if (d.needTotal) {
      const t = spec.total(c, d.total);
      if (t) out.push(t);
    }
    return out;
  });
}

function newDraft(spec: ChunkSpec, first: boolean): Draft {
  const deltas = new Map<string, number>();
  if (first) for (const f of spec.firstChunkFamilies ?? []) deltas.set(f, 0);
  return { entries: [], deltas, total: 0, needTotal: first && spec.firstChunkTotal === true };
}
