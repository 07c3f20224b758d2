/**
 * The memory store's state (groups, family schemas, counters, ledger, tombstones) and the functions that
 * change its structure (groups, families, series), keeping every counter exact.
 */

import type { AccrueError } from '../../model/errors';
import type { Labels, MetricType } from '../../model/types';
import { type FamilySchema, groupCountError, schemaOf } from '../families';
import {
  DEFAULT_LEDGER_TTL_SECONDS,
  DEFAULT_LIMITS,
  type GroupingKey,
  type GroupState,
  type StoreLimits,
} from '../types';
import { type Cell, Fam, freezeLabels, Grp, own } from './cells';
import type { Journal } from './journal';
import type { MemoryStoreOptions } from './memory-store';

export interface SchemaEntry {
  schema: FamilySchema;
  series: number;
}

/** The store's state; every mutation goes through the functions of this module and ./effects.ts. */
export class MemoryState {
  readonly groups = new Map<string, Grp>();
  readonly schemas = new Map<string, SchemaEntry>();
  total = 0;
  /** Applied request ids → time applied (insertion order ≈ time order). */
  readonly ledger = new Map<string, number>();
  /** Applied request ids → plan hash (shared/store/plan.ts), to refuse a changed redelivery. */
  readonly plans = new Map<string, string>();
  /** Dead-letter claims not settled yet (./dead-letter-claims.ts): key → claimer's token and claim time. */
  readonly deadLetterClaims = new Map<string, { readonly token: string; readonly at: number }>();
  /** Deleted groups → delete push time, so an older PUT/POST can't resurrect them. */
  readonly tombstones = new Map<string, number>();
  gen = 0;
  sortedGroups: Grp[] | undefined;
  snapGroups: readonly GroupState[] | undefined;
  /** For `StoreSnapshot.reads`: whether a snapshot was taken yet, and groups rebuilt by the current one. */
  snapshotTaken = false;
  groupsRebuilt = 0;
  /** The write-ahead journal (./journal.ts) when the store is durable; records are appended as effects apply. */
  journal: Journal | undefined;
  /** Request ids whose next apply fails (MemoryStore.injectApplyFault, a test hook). */
  readonly faults = new Set<string>();
  readonly limits: StoreLimits;
  readonly now: () => number;

  constructor(readonly opts: MemoryStoreOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
  }

  /** How long applied request ids (and DELETE tombstones) are remembered. */
  get ledgerRetentionMs(): number {
    return this.opts.ledgerRetentionMs ?? DEFAULT_LEDGER_TTL_SECONDS * 1000;
  }
}

/** The group limit for a write that would add a group: live groups and tombstones count. */
export function groupLimitReached(st: MemoryState): AccrueError | undefined {
  return groupCountError(st.groups.size + st.tombstones.size, st.limits);
}

export function createGroup(st: MemoryState, key: GroupingKey, keyStr: string): Grp {
  const grp = new Grp(freezeLabels(key), keyStr);
  const tomb = st.tombstones.get(keyStr);
  if (tomb !== undefined) {
    grp.putMs = tomb;
    grp.maxPushMs = tomb;
    st.tombstones.delete(keyStr);
  }
  st.groups.set(keyStr, grp);
  st.sortedGroups = undefined;
  st.snapGroups = undefined;
  return grp;
}

export function removeGroup(st: MemoryState, grp: Grp): void {
  for (const f of [...grp.families.values()]) removeFamily(st, grp, f);
  st.groups.delete(grp.keyStr);
  // Keep the push watermark (DELETE, expiry), so an older redelivered push stays stale.
  if (grp.maxPushMs > Number.NEGATIVE_INFINITY) st.tombstones.set(grp.keyStr, grp.maxPushMs);
  st.sortedGroups = undefined;
  st.snapGroups = undefined;
}

export function createFamily(
  st: MemoryState,
  grp: Grp,
  name: string,
  type: MetricType,
  help: string,
  sampleLabels: Labels,
): Fam {
  const fam = new Fam(own(name), type, own(help));
  grp.families.set(fam.name, fam);
  grp.famOrder = undefined;
  if (!st.schemas.has(name)) {
    st.schemas.set(fam.name, {
      schema: schemaOf(fam.name, type, grp.shapeNames, sampleLabels),
      series: 0,
    });
  }
  return fam;
}

export function addCell(st: MemoryState, grp: Grp, fam: Fam, sk: string, cell: Cell): void {
  fam.series.set(sk, cell);
  fam.order = undefined;
  fam.cached = undefined;
  grp.seriesCount++;
  st.total++;
  st.schemas.get(fam.name)!.series++;
}

export function removeFamily(st: MemoryState, grp: Grp, fam: Fam): void {
  const n = fam.series.size;
  grp.families.delete(fam.name);
  grp.famOrder = undefined;
  grp.cached = undefined;
  grp.seriesCount -= n;
  st.total -= n;
  const entry = st.schemas.get(fam.name);
  if (entry) {
    entry.series -= n;
    if (entry.series <= 0) st.schemas.delete(fam.name);
  }
  st.snapGroups = undefined;
}

export function pruneLedger(st: MemoryState, now: number): void {
  const max = st.opts.maxLedgerEntries ?? 2_000_000;
  const cutoff = now - st.ledgerRetentionMs;
  for (const [id, t] of st.ledger) {
    if (t >= cutoff && st.ledger.size <= max) break;
    st.ledger.delete(id);
    st.plans.delete(id);
  }
}

export function pruneTombstones(st: MemoryState, now: number): void {
  const cutoff = now - st.ledgerRetentionMs;
  for (const [k, t] of st.tombstones) if (t < cutoff) st.tombstones.delete(k);
}
