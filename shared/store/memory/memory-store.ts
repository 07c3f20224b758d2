/**
 * MemoryStore: the embedded Store (used by `npm start`, tests and benches), durable on local disk.
 *
 * State lives in maps keyed by `labelsKey(group)` and, per family, by `labelsKey(series labels)`; one
 * `FamilySchema` per family name makes consistency checks O(1) per family; global/group/family series
 * counters make limit checks O(1). Every mutation happens synchronously inside one call (JavaScript runs
 * one call at a time), so concurrent callers see each request applied atomically and totals stay exact.
 *
 * Durability (`dir` set): each accepted write is appended to a write-ahead journal as its *effect* (the ops
 * and pushes that were accepted, with the clock reading used), and the call resolves only after the
 * journal batch holding it was written and fsynced (group commit). A compaction writes the whole state to
 * `state.json` atomically (temp file, fsync, rename, fsync of the folder) and drops older journal files.
 * On open: load `state.json`, replay newer journal files, ignore a torn last line. See docs/store.md.
 *
 * Snapshots share structure: `snapshot()` reuses the GroupState / MetricFamily / series objects of
 * everything that did not change since the previous snapshot, and rebuilds only dirty families.
 *
 * Representation (docs/memory.md): scalar series are their frozen snapshot objects, labels are fast-mode
 * frozen objects (`freezeLabels`), keys are flat strings (`flatKey`), and nothing keeps a slice of a push
 * body alive (`own`): about 180 bytes per series at 100k series.
 */
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AccrueError, TransientError, ValidationError } from '../../model/errors';
import { KEY_SEP } from '../../model/identity';
import type {
  Bucket,
  HistogramSeries,
  Labels,
  MetricFamily,
  MetricType,
  ScalarSeries,
  SummarySeries,
} from '../../model/types';
import {
  bucketLayoutConflict,
  exposedLabelCount,
  type FamilySchema,
  failureReason,
  familyConflict,
  groupCountError,
  groupLimitError,
  groupShapeNames,
  labelLimitErrorCounted,
  opFamilyType,
  opProblems,
  reservedNameConflict,
  schemaOf,
  seriesLimitError,
  validatePush,
} from '../families';
import { normalizeGroupingKey } from '../grouping';
import { planOf, redeliveryMismatch } from '../plan';
import {
  type ApplyRequest,
  type ApplyResult,
  DEFAULT_LIMITS,
  type GroupInfo,
  type GroupingKey,
  type GroupState,
  type MetricOp,
  type PushMethod,
  type PushRequest,
  type PushResult,
  type RejectedOp,
  type Store,
  type StoreLimits,
  type StoreSnapshot,
} from '../types';
import { decFamily, decLabels, decNum, decOp, encApplyRecord, encFamily, encNum, type Num } from './codec';
import { Journal, journalPath, listJournals, readJournal } from './journal';

export interface MemoryStoreOptions {
  /** Persistence folder; undefined = not durable (tests, benches). */
  readonly dir?: string;
  readonly limits?: Partial<StoreLimits>;
  /** Clock, ms since epoch. @default Date.now */
  readonly now?: () => number;
  /** fdatasync each journal batch before acknowledging. @default true */
  readonly fsync?: boolean;
  /** Compact when the journal has grown by this many bytes since the last compaction. @default 64 MiB */
  readonly compactBytes?: number;
  /** How long applied request ids (and DELETE tombstones) are remembered. @default 15 days */
  readonly ledgerRetentionMs?: number;
  /** Most ids remembered; the oldest are forgotten first beyond it. @default 2_000_000 */
  readonly maxLedgerEntries?: number;
}

const STATE_FILE = 'state.json';
const STATE_VERSION = 1;
const DAY = 24 * 3600 * 1000;

// ------------------------------------------------------------------------------------------ cells

/**
 * A counter/gauge/untyped series is held as its (frozen) snapshot object itself: no separate mutable cell,
 * a change replaces the object (snapshots stay immutable). Gauge-set event times live in `Fam.setMs`,
 * only for series that were ever set. See docs/store.md "Memory".
 */
type ScalarCell = ScalarSeries;
interface HistCell {
  readonly t: 'h';
  readonly labels: Labels;
  /** This series' finite bucket bounds (series of one family may differ, as on the Pushgateway). */
  readonly bounds: readonly number[];
  /** Cumulative counts per finite bound. */
  readonly cum: number[];
  sum: number;
  count: number;
  snap: HistogramSeries | undefined;
}
interface SummaryCell {
  readonly t: 'q';
  readonly labels: Labels;
  readonly snap: SummarySeries;
}
type Cell = ScalarCell | HistCell | SummaryCell;

function isScalarType(t: MetricType): boolean {
  return t !== 'histogram' && t !== 'summary';
}

class Fam {
  readonly series = new Map<string, Cell>();
  /** Series keys sorted; undefined when series were added/removed since. */
  order: string[] | undefined;
  cached: MetricFamily | undefined;
  /** Event time of the last applied gauge set per series key (absent: never set, i.e. -Infinity). */
  setMs: Map<string, number> | undefined;
  /** Value of that set (the series value may have moved since, by adds). */
  setVal: Map<string, number> | undefined;
  recordSet(sk: string, timeMs: number, value: number): void {
    if (!this.setMs) this.setMs = new Map();
    if (!this.setVal) this.setVal = new Map();
    this.setMs.set(sk, timeMs);
    this.setVal.set(sk, value);
  }
  constructor(
    readonly name: string,
    readonly type: MetricType,
    public help: string,
  ) {}
}

class Grp {
  readonly families = new Map<string, Fam>();
  seriesCount = 0;
  lastPushMs: number | undefined;
  lastPushFailureMs: number | undefined;
  lastFailureReason: string | undefined;
  lastEventMs: number | undefined;
  lastUpdateMs = 0;
  /** Newest PUT/DELETE push time. */
  putMs = Number.NEGATIVE_INFINITY;
  /** Newest push time of any method. */
  maxPushMs = Number.NEGATIVE_INFINITY;
  /** Newest POST/PUT time per family name (cleared by a PUT, which dominates them). */
  readonly famPushMs = new Map<string, number>();
  famOrder: string[] | undefined;
  cached: GroupState | undefined;
  readonly shapeNames: readonly string[];
  constructor(
    readonly key: GroupingKey,
    readonly keyStr: string,
  ) {
    this.shapeNames = groupShapeNames(key);
  }
}

interface SchemaEntry {
  schema: FamilySchema;
  series: number;
}

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * Prototype of the store's label objects: itself prototype-less, so hostile names (`constructor`,
 * `toString`) find nothing inherited, as with `Object.create(null)`. Unlike `Object.create(null)` objects
 * (dictionary mode in V8, ~250 bytes each once frozen, one hidden class per object), objects created from
 * a shared non-null prototype stay in fast mode and share one hidden class per label-name order.
 */
const LABELS_PROTO: object = Object.freeze(Object.create(null));

/**
 * A string that shares no storage with a larger one. Strings parsed out of a push body can be V8 "sliced
 * strings" (length >= 13) that keep the whole body alive; a JSON round trip copies them (lone surrogates
 * survive it, unlike a UTF-8 round trip).
 */
function own(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/** Frozen compact copy of a label set; `intern` shares equal values within one push. */
function freezeLabels(l: Labels, intern?: Map<string, string>): Labels {
  const o = Object.create(LABELS_PROTO) as Record<string, string>;
  for (const k in l) {
    if (!Object.hasOwn(l, k)) continue;
    const v = l[k]!;
    if (intern === undefined) o[k] = own(v);
    else {
      let iv = intern.get(v);
      if (iv === undefined) {
        iv = own(v);
        intern.set(iv, iv);
      }
      o[k] = iv;
    }
  }
  return Object.freeze(o);
}

/**
 * `flatKey(labels)` built with one `join`, so the key is one flat string (the `+=` form leaves a
 * cons-string wrapper per key in the maps: 32 bytes per series).
 */
function flatKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  if (names.length > 1) names.sort();
  const parts: string[] = new Array(names.length * 2);
  for (let i = 0; i < names.length; i++) {
    parts[2 * i] = names[i]!;
    parts[2 * i + 1] = labels[names[i]!]!;
  }
  return parts.join(KEY_SEP);
}

// ------------------------------------------------------------------------------------------ store

export class MemoryStore implements Store {
  private readonly groups = new Map<string, Grp>();
  private readonly schemas = new Map<string, SchemaEntry>();
  private total = 0;
  /** Applied request ids → time applied (insertion order ≈ time order). */
  private readonly ledger = new Map<string, number>();
  /** Applied request ids → plan hash (shared/store/plan.ts), to refuse a changed redelivery. */
  private readonly plans = new Map<string, string>();
  /** Deleted groups → delete push time, so an older PUT/POST can't resurrect them. */
  private readonly tombstones = new Map<string, number>();
  private gen = 0;
  private sortedGroups: Grp[] | undefined;
  private snapGroups: readonly GroupState[] | undefined;
  /** For `StoreSnapshot.reads`: whether a snapshot was taken yet, and groups rebuilt by the current one. */
  private snapshotTaken = false;
  private groupsRebuilt = 0;
  private journal: Journal | undefined;
  private compacting: Promise<void> | undefined;
  private poisoned: unknown;
  private closed = false;
  private readonly faults = new Set<string>();
  readonly limits: StoreLimits;
  private readonly now: () => number;

  private constructor(private readonly opts: MemoryStoreOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
  }

  static async open(opts: MemoryStoreOptions = {}): Promise<MemoryStore> {
    const s = new MemoryStore(opts);
    if (opts.dir !== undefined) await s.load(opts.dir);
    return s;
  }

  /** Test hook: the next `apply` of `id` fails transiently without applying anything. */
  injectApplyFault(id: string): void {
    this.faults.add(id);
  }

  private get ledgerRetentionMs(): number {
    return this.opts.ledgerRetentionMs ?? 15 * DAY;
  }

  // ---------------------------------------------------------------------------- Store: writes

  async apply(requests: readonly ApplyRequest[]): Promise<ApplyResult[]> {
    const results: ApplyResult[] = [];
    if (this.poisoned !== undefined || this.closed) {
      const error = this.unavailable();
      return requests.map((r) => ({
        id: String((r as { id?: unknown })?.id),
        status: 'failed',
        error,
        rejected: EMPTY,
      }));
    }
    const now = this.now();
    for (const r of requests) results.push(this.applyOne(r, now));
    try {
      await this.commit();
    } catch (e) {
      const error = new TransientError(`memory store: journal write failed: ${(e as Error).message}`, {
        cause: e,
      });
      return requests.map((r) => ({
        id: String((r as { id?: unknown })?.id),
        status: 'failed',
        error,
        rejected: EMPTY,
      }));
    }
    return results;
  }

  async push(request: PushRequest): Promise<PushResult> {
    this.assertWritable();
    const group = validatePush(request);
    const gl = groupLimitError(group, this.limits);
    if (gl) throw gl;
    const now = this.now();
    const keyStr = flatKey(group);
    const { method, pushTimeMs: t } = request;
    const grp = this.groups.get(keyStr);
    const ge = grp || this.tombstones.has(keyStr) ? undefined : this.groupCountError();
    if (ge && method !== 'DELETE') throw ge;
    // A DELETE of a group the store doesn't know, at the group limit: nothing to delete, no tombstone.
    if (ge) return { status: 'applied' };
    if (this.isStale(grp, keyStr, method, request.families, t)) {
      // Answer only once the newer write that makes this one stale is durable (it may still be in flight).
      await this.commitOrThrow();
      return { status: 'stale' };
    }
    const families = request.families.filter((f) => f.series.length > 0 || method === 'POST');
    if (method !== 'DELETE') this.checkPush(grp, group, method, families);
    this.applyPush(group, keyStr, method, method === 'DELETE' ? [] : families, t, now);
    this.journal?.append(
      `p${JSON.stringify({ m: method, g: group, pt: t, t: now, f: method === 'DELETE' ? [] : families.map(encFamily) })}`,
    );
    await this.commitOrThrow();
    return { status: 'applied' };
  }

  async recordPushFailure(group: GroupingKey, timeMs: number, reason: string): Promise<void> {
    this.assertWritable();
    const key = normalizeGroupingKey(group);
    const gl = groupLimitError(key, this.limits);
    if (gl) throw gl;
    if (!Number.isFinite(timeMs))
      throw new ValidationError([{ path: 'timeMs', message: 'must be a finite number' }]);
    const r = failureReason(reason);
    const keyStr = flatKey(key);
    if (!this.groups.has(keyStr) && !this.tombstones.has(keyStr)) {
      const ge = this.groupCountError();
      if (ge) throw ge;
    }
    const now = this.now();
    this.applyFailure(key, timeMs, r, now);
    this.journal?.append(`f${JSON.stringify({ g: key, ft: timeMs, r, t: now })}`);
    await this.commitOrThrow();
  }

  async deleteGroup(group: GroupingKey, timeMs: number): Promise<void> {
    await this.push({ method: 'DELETE', group, families: [], pushTimeMs: timeMs });
  }

  async expire(nowMs: number, ttlMs: number): Promise<GroupingKey[]> {
    this.assertWritable();
    const cutoff = nowMs - ttlMs;
    const expired: Grp[] = [];
    for (const g of this.groups.values()) if (g.lastUpdateMs < cutoff) expired.push(g);
    for (const g of expired) this.removeGroup(g);
    if (expired.length > 0) {
      this.gen++;
      this.journal?.append(`x${JSON.stringify({ keys: expired.map((g) => g.key) })}`);
    }
    this.pruneTombstones(nowMs);
    await this.commitOrThrow();
    return expired.map((g) => g.key);
  }

  async wipe(): Promise<void> {
    this.assertWritable();
    this.applyWipe();
    this.journal?.append('w{}');
    await this.commitOrThrow();
  }

  // ---------------------------------------------------------------------------- Store: reads

  async snapshot(): Promise<StoreSnapshot> {
    const full = !this.snapshotTaken;
    this.snapshotTaken = true;
    this.groupsRebuilt = 0;
    const groups = this.buildGroups();
    const reads = { full, groupsReread: this.groupsRebuilt, requests: 0, readUnits: 0 };
    return Object.freeze({ generation: String(this.gen), takenAtMs: this.now(), groups, reads });
  }

  async generation(): Promise<string> {
    return String(this.gen);
  }

  async listGroups(): Promise<GroupInfo[]> {
    const out: GroupInfo[] = [];
    for (const g of this.orderedGroups()) {
      const perFamily: Record<string, number> = Object.create(null);
      for (const f of g.families.values()) perFamily[f.name] = f.series.size;
      out.push({
        key: g.key,
        ...(g.lastPushMs !== undefined ? { lastPushMs: g.lastPushMs } : {}),
        ...(g.lastPushFailureMs !== undefined ? { lastPushFailureMs: g.lastPushFailureMs } : {}),
        ...(g.lastFailureReason !== undefined ? { lastFailureReason: g.lastFailureReason } : {}),
        ...(g.lastEventMs !== undefined ? { lastEventMs: g.lastEventMs } : {}),
        lastUpdateMs: g.lastUpdateMs,
        seriesPerFamily: perFamily,
      });
    }
    return out;
  }

  async ping(): Promise<void> {
    if (this.poisoned !== undefined || this.closed) throw this.unavailable();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.journal) return;
    try {
      await this.compacting;
      if (this.poisoned === undefined && this.journal.bytesSinceRotate > 0) await this.compact();
    } finally {
      await this.journal.close();
    }
  }

  /**
   * Test hook: releases the files as a crash would leave them (journal flushed, no compaction), so a
   * reopen exercises journal replay.
   */
  async abandon(): Promise<void> {
    this.closed = true;
    await this.compacting;
    await this.journal?.close();
  }

  /** The group limit for a write that would add a group: live groups and tombstones count. */
  private groupCountError(): AccrueError | undefined {
    return groupCountError(this.groups.size + this.tombstones.size, this.limits);
  }

  /** Counts for tests and the status page. */
  stats(): { groups: number; series: number; families: number; ledger: number; tombstones: number } {
    return {
      groups: this.groups.size,
      series: this.total,
      families: this.schemas.size,
      ledger: this.ledger.size,
      tombstones: this.tombstones.size,
    };
  }

  // ---------------------------------------------------------------------------- apply internals

  private applyOne(r: ApplyRequest, now: number): ApplyResult {
    const rr = r as unknown as Record<string, unknown>;
    const id = typeof rr?.id === 'string' ? rr.id : String(rr?.id);
    let group: GroupingKey;
    try {
      if (typeof rr?.id !== 'string' || rr.id === '')
        throw new ValidationError([{ path: 'id', message: 'must be a non-empty string' }]);
      if (!Array.isArray(rr.ops)) throw new ValidationError([{ path: 'ops', message: 'must be an array' }]);
      group = normalizeGroupingKey(
        typeof rr.group === 'object' && rr.group !== null ? (rr.group as Record<string, unknown>) : {},
      );
    } catch (e) {
      if (e instanceof ValidationError) return { id, status: 'failed', error: e, rejected: EMPTY };
      throw e;
    }
    if (this.faults.delete(id)) {
      return {
        id,
        status: 'failed',
        error: new TransientError(`injected fault for request ${id}`),
        rejected: EMPTY,
      };
    }
    const keyStr = flatKey(group);
    const gl = groupLimitError(group, this.limits);
    if (gl) return { id, status: 'failed', error: gl, rejected: EMPTY };
    const shapeNames = this.groups.get(keyStr)?.shapeNames ?? groupShapeNames(group);
    const plan = planOf(r).hash;
    const duplicate = this.ledger.has(id);
    const committed = this.plans.get(id);
    if (duplicate && committed !== undefined && committed !== plan)
      return { id, status: 'failed', error: redeliveryMismatch(id), rejected: EMPTY };
    const rejected: RejectedOp[] = [];
    const accepted: MetricOp[] = [];
    let changed = false;
    // Gauge sets first, then the additive ops (an add in the same message moves the set value), so the
    // result doesn't depend on op order: the same rule on every store.
    for (const i of setsFirst(r.ops)) {
      const op = r.ops[i] as MetricOp;
      if (duplicate && (op as { kind?: unknown })?.kind !== 'gauge_set') continue;
      const checked = this.checkOp(group, keyStr, shapeNames, op, i);
      if (typeof checked !== 'string') {
        rejected.push({ index: i, error: checked });
        continue;
      }
      accepted.push(op);
      if (this.applyOp(group, keyStr, op, checked)) changed = true;
    }
    const ev = r.eventTimeMs;
    if (changed)
      this.touchGroupForApply(keyStr, now, typeof ev === 'number' && Number.isFinite(ev) ? ev : undefined);
    if (changed) this.gen++;
    if (!duplicate) {
      this.ledger.set(id, now);
      this.plans.set(id, plan);
      this.pruneLedger(now);
    }
    if (this.journal && (accepted.length > 0 || !duplicate)) {
      this.journal.append(`a${encApplyRecord(duplicate ? undefined : id, group, now, ev, accepted, plan)}`);
    }
    rejected.sort((a, b) => a.index - b.index);
    return { id, status: duplicate ? 'duplicate' : 'applied', rejected };
  }

  /** Validates, checks consistency and limits of one op; returns the error, or the series key when it may apply. */
  private checkOp(
    group: GroupingKey,
    keyStr: string,
    shapeNames: readonly string[],
    op: MetricOp,
    i: number,
  ): AccrueError | string {
    const problems = opProblems(op, i, group);
    if (problems.length > 0) return new ValidationError(problems);
    const type = opFamilyType(op.kind);
    const entry = this.schemas.get(op.name);
    if (entry) {
      if (entry.schema.type !== type) {
        const c = familyConflict(entry.schema, schemaOf(op.name, type, shapeNames, op.labels));
        if (c) return c;
      }
    } else {
      const c = reservedNameConflict(op.name, type, (n) => this.schemas.get(n)?.schema.type);
      if (c) return c;
    }
    const labelCount = exposedLabelCount(shapeNames, op.labels);
    const le = labelLimitErrorCounted(op.name, group, op.labels, labelCount, this.limits);
    if (le) return le;
    const sk = flatKey(op.labels);
    const grp = this.groups.get(keyStr);
    if (!grp && !this.tombstones.has(keyStr)) {
      const ge = this.groupCountError();
      if (ge) return ge;
    }
    const cell = grp?.families.get(op.name)?.series.get(sk);
    if (cell && op.kind === 'histogram_observe') {
      const c = bucketLayoutConflict(op.name, (cell as HistCell).bounds, op.bounds);
      if (c) return c;
    }
    if (!cell) {
      const se = seriesLimitError(
        op.name,
        { family: (entry?.series ?? 0) + 1, group: (grp?.seriesCount ?? 0) + 1, total: this.total + 1 },
        this.limits,
      );
      if (se) return se;
    }
    return sk;
  }

  /** Applies a checked op; returns whether anything changed (a stale set changes nothing). */
  private applyOp(group: GroupingKey, keyStr: string, op: MetricOp, sk: string): boolean {
    const existingGrp = this.groups.get(keyStr);
    const existingFam = existingGrp?.families.get(op.name);
    const existingCell = existingFam?.series.get(sk);
    if (op.kind === 'gauge_set' && existingCell && existingFam && isScalarType(existingFam.type)) {
      // Ties on event time compare with the value of the last SET (not the current value, which adds may
      // have moved): a redelivered set is stale and does not undo later adds.
      const setMs = existingFam.setMs?.get(sk) ?? Number.NEGATIVE_INFINITY;
      const value = existingFam.setVal?.get(sk) ?? (existingCell as ScalarCell).value;
      if (!(op.timeMs > setMs || (op.timeMs === setMs && op.value > value))) return false;
    }
    const grp = existingGrp ?? this.createGroup(group, keyStr);
    const fam =
      existingFam ?? this.createFamily(grp, op.name, opFamilyType(op.kind), op.help ?? '', op.labels);
    if (op.help && fam.help === '') fam.help = own(op.help);
    if (op.kind === 'histogram_observe') {
      let c = existingCell as HistCell | undefined;
      if (!c) {
        c = {
          t: 'h',
          labels: freezeLabels(op.labels),
          bounds: Object.freeze([...op.bounds]),
          cum: new Array<number>(op.bounds.length).fill(0),
          sum: 0,
          count: 0,
          snap: undefined,
        };
        this.addCell(grp, fam, sk, c);
      }
      let run = 0;
      for (let b = 0; b < c.cum.length; b++) {
        run += op.counts[b]!;
        c.cum[b]! += run;
      }
      c.sum += op.sum;
      c.count += op.count;
      c.snap = undefined;
    } else {
      const old = existingCell as ScalarCell | undefined;
      const labels = old?.labels ?? freezeLabels(op.labels);
      const value = op.kind === 'gauge_set' ? op.value : (old?.value ?? 0) + op.value;
      const next: ScalarCell = Object.freeze({ labels, value });
      if (old) fam.series.set(sk, next);
      else this.addCell(grp, fam, sk, next);
      if (op.kind === 'gauge_set') fam.recordSet(sk, op.timeMs, op.value);
    }
    fam.cached = undefined;
    grp.cached = undefined;
    this.snapGroups = undefined;
    return true;
  }

  private touchGroupForApply(keyStr: string, now: number, eventTimeMs: number | undefined): void {
    const g = this.groups.get(keyStr);
    if (!g) return;
    g.lastPushMs = g.lastPushMs === undefined ? now : Math.max(g.lastPushMs, now);
    g.lastUpdateMs = now;
    if (eventTimeMs !== undefined)
      g.lastEventMs = g.lastEventMs === undefined ? eventTimeMs : Math.max(g.lastEventMs, eventTimeMs);
    g.cached = undefined;
    this.snapGroups = undefined;
  }

  // ---------------------------------------------------------------------------- push internals

  private isStale(
    grp: Grp | undefined,
    keyStr: string,
    method: PushMethod,
    families: readonly MetricFamily[],
    t: number,
  ): boolean {
    const tomb = this.tombstones.get(keyStr);
    const putMs = Math.max(grp?.putMs ?? Number.NEGATIVE_INFINITY, tomb ?? Number.NEGATIVE_INFINITY);
    const maxMs = Math.max(grp?.maxPushMs ?? Number.NEGATIVE_INFINITY, putMs);
    if (method !== 'POST') return t < maxMs;
    if (t < putMs) return true;
    if (grp)
      for (const f of families) if (t < (grp.famPushMs.get(f.name) ?? Number.NEGATIVE_INFINITY)) return true;
    return false;
  }

  /** Consistency and limits of a PUT/POST; throws FamilyConflictError / LimitError; changes nothing. */
  private checkPush(
    grp: Grp | undefined,
    group: GroupingKey,
    method: PushMethod,
    families: readonly MetricFamily[],
  ): void {
    const shapeNames = grp?.shapeNames ?? groupShapeNames(group);
    const pushedTypes = new Map<string, MetricType>();
    for (const f of families) if (f.series.length > 0) pushedTypes.set(f.name, f.type);
    let removedFromGroup = 0;
    let added = 0;
    if (method === 'PUT') removedFromGroup = grp?.seriesCount ?? 0;
    for (const f of families) {
      const self = grp?.families.get(f.name)?.series.size ?? 0;
      if (method === 'POST') removedFromGroup += self;
      added += f.series.length;
      if (f.series.length === 0) continue;
      const wanted = schemaOf(f.name, f.type, shapeNames, f.series[0]!.labels);
      const entry = this.schemas.get(f.name);
      const others = (entry?.series ?? 0) - self;
      if (entry && others > 0) {
        const c = familyConflict(entry.schema, wanted);
        if (c) throw c;
      } else {
        const c = reservedNameConflict(
          f.name,
          f.type,
          (n) => pushedTypes.get(n) ?? this.schemas.get(n)?.schema.type,
        );
        if (c) throw c;
      }
      for (const s of f.series) {
        const n = exposedLabelCount(shapeNames, s.labels);
        const le = labelLimitErrorCounted(f.name, group, s.labels, n, this.limits);
        if (le) throw le;
      }
      const familyAfter = others + f.series.length;
      if (familyAfter > (entry?.series ?? 0)) {
        const le = seriesLimitError(f.name, { family: familyAfter, group: 0, total: 0 }, this.limits);
        if (le) throw le;
      }
    }
    const groupBefore = grp?.seriesCount ?? 0;
    const groupAfter = groupBefore - removedFromGroup + added;
    const totalAfter = this.total - removedFromGroup + added;
    const name = families.find((f) => f.series.length > 0)?.name ?? '(none)';
    if (groupAfter > groupBefore) {
      const le = seriesLimitError(
        name,
        { family: 0, group: groupAfter, total: totalAfter > this.total ? totalAfter : 0 },
        this.limits,
      );
      if (le) throw le;
    }
  }

  private applyPush(
    group: GroupingKey,
    keyStr: string,
    method: PushMethod,
    families: readonly MetricFamily[],
    t: number,
    now: number,
  ): void {
    if (method === 'DELETE') {
      const grp = this.groups.get(keyStr);
      if (grp) {
        this.removeGroup(grp);
        this.gen++;
      }
      this.tombstones.set(keyStr, Math.max(t, this.tombstones.get(keyStr) ?? Number.NEGATIVE_INFINITY));
      return;
    }
    const grp = this.groups.get(keyStr) ?? this.createGroup(group, keyStr);
    if (method === 'PUT') {
      for (const f of [...grp.families.values()]) this.removeFamily(grp, f);
      grp.famPushMs.clear();
      grp.putMs = Math.max(grp.putMs, t);
    }
    const intern = new Map<string, string>();
    for (const f of families) {
      const old = grp.families.get(f.name);
      if (old) this.removeFamily(grp, old);
      const name = own(f.name);
      grp.famPushMs.set(name, t);
      if (f.series.length === 0) continue;
      const fam = this.createFamily(grp, name, f.type, f.help, f.series[0]!.labels);
      for (const s of f.series) {
        const labels = freezeLabels(s.labels, intern);
        let cell: Cell;
        if (f.type === 'histogram') {
          const h = s as HistogramSeries;
          cell = {
            t: 'h',
            labels,
            bounds: Object.freeze(h.buckets.map((b) => b.le)),
            cum: h.buckets.map((b) => b.count),
            sum: h.sum,
            count: h.count,
            snap: undefined,
          };
        } else if (f.type === 'summary') {
          const q = s as SummarySeries;
          cell = {
            t: 'q',
            labels,
            snap: Object.freeze({
              labels,
              quantiles: Object.freeze(
                q.quantiles.map((x) => Object.freeze({ quantile: x.quantile, value: x.value })),
              ),
              sum: q.sum,
              count: q.count,
            }),
          };
        } else {
          cell = Object.freeze({ labels, value: (s as ScalarSeries).value });
        }
        this.addCell(grp, fam, flatKey(labels), cell);
      }
    }
    grp.maxPushMs = Math.max(grp.maxPushMs, t);
    grp.lastPushMs = grp.lastPushMs === undefined ? t : Math.max(grp.lastPushMs, t);
    grp.lastUpdateMs = now;
    grp.cached = undefined;
    this.snapGroups = undefined;
    this.gen++;
  }

  private applyFailure(key: GroupingKey, timeMs: number, reason: string, now: number): void {
    const keyStr = flatKey(key);
    const grp = this.groups.get(keyStr) ?? this.createGroup(key, keyStr);
    if (grp.lastPushFailureMs === undefined || timeMs >= grp.lastPushFailureMs) {
      grp.lastPushFailureMs = timeMs;
      grp.lastFailureReason = reason;
    }
    grp.lastUpdateMs = now;
    grp.cached = undefined;
    this.snapGroups = undefined;
    this.gen++;
  }

  private applyWipe(): void {
    this.groups.clear();
    this.schemas.clear();
    this.tombstones.clear();
    this.total = 0;
    this.sortedGroups = undefined;
    this.snapGroups = undefined;
    this.gen++;
  }

  // ---------------------------------------------------------------------------- structure

  private createGroup(key: GroupingKey, keyStr: string): Grp {
    const grp = new Grp(freezeLabels(key), keyStr);
    const tomb = this.tombstones.get(keyStr);
    if (tomb !== undefined) {
      grp.putMs = tomb;
      grp.maxPushMs = tomb;
      this.tombstones.delete(keyStr);
    }
    this.groups.set(keyStr, grp);
    this.sortedGroups = undefined;
    this.snapGroups = undefined;
    return grp;
  }

  private removeGroup(grp: Grp): void {
    for (const f of [...grp.families.values()]) this.removeFamily(grp, f);
    this.groups.delete(grp.keyStr);
    // Keep the push watermark (DELETE, expiry), so an older redelivered push stays stale.
    if (grp.maxPushMs > Number.NEGATIVE_INFINITY) this.tombstones.set(grp.keyStr, grp.maxPushMs);
    this.sortedGroups = undefined;
    this.snapGroups = undefined;
  }

  private createFamily(grp: Grp, name: string, type: MetricType, help: string, sampleLabels: Labels): Fam {
    const fam = new Fam(own(name), type, own(help));
    grp.families.set(fam.name, fam);
    grp.famOrder = undefined;
    if (!this.schemas.has(name)) {
      this.schemas.set(fam.name, {
        schema: schemaOf(fam.name, type, grp.shapeNames, sampleLabels),
        series: 0,
      });
    }
    return fam;
  }

  private addCell(grp: Grp, fam: Fam, sk: string, cell: Cell): void {
    fam.series.set(sk, cell);
    fam.order = undefined;
    fam.cached = undefined;
    grp.seriesCount++;
    this.total++;
    this.schemas.get(fam.name)!.series++;
  }

  private removeFamily(grp: Grp, fam: Fam): void {
    const n = fam.series.size;
    grp.families.delete(fam.name);
    grp.famOrder = undefined;
    grp.cached = undefined;
    grp.seriesCount -= n;
    this.total -= n;
    const entry = this.schemas.get(fam.name);
    if (entry) {
      entry.series -= n;
      if (entry.series <= 0) this.schemas.delete(fam.name);
    }
    this.snapGroups = undefined;
  }

  private pruneLedger(now: number): void {
    const max = this.opts.maxLedgerEntries ?? 2_000_000;
    const cutoff = now - this.ledgerRetentionMs;
    for (const [id, t] of this.ledger) {
      if (t >= cutoff && this.ledger.size <= max) break;
      this.ledger.delete(id);
      this.plans.delete(id);
    }
  }

  private pruneTombstones(now: number): void {
    const cutoff = now - this.ledgerRetentionMs;
    for (const [k, t] of this.tombstones) if (t < cutoff) this.tombstones.delete(k);
  }

  // ---------------------------------------------------------------------------- snapshots

  private orderedGroups(): Grp[] {
    if (!this.sortedGroups) {
      this.sortedGroups = [...this.groups.values()].sort((a, b) =>
        a.keyStr < b.keyStr ? -1 : a.keyStr > b.keyStr ? 1 : 0,
      );
    }
    return this.sortedGroups;
  }

  private buildGroups(): readonly GroupState[] {
    if (this.snapGroups) return this.snapGroups;
    const out: GroupState[] = [];
    for (const g of this.orderedGroups()) out.push(g.cached ?? this.buildGroup(g));
    this.snapGroups = Object.freeze(out);
    return this.snapGroups;
  }

  private buildGroup(g: Grp): GroupState {
    if (!g.famOrder) g.famOrder = [...g.families.keys()].sort();
    const families: MetricFamily[] = [];
    for (const name of g.famOrder) {
      const f = g.families.get(name)!;
      families.push(f.cached ?? this.buildFamily(f));
    }
    this.groupsRebuilt++;
    const state: GroupState = Object.freeze({
      key: g.key,
      ...(g.lastPushMs !== undefined ? { lastPushMs: g.lastPushMs } : {}),
      ...(g.lastPushFailureMs !== undefined ? { lastPushFailureMs: g.lastPushFailureMs } : {}),
      ...(g.lastFailureReason !== undefined ? { lastFailureReason: g.lastFailureReason } : {}),
      ...(g.lastEventMs !== undefined ? { lastEventMs: g.lastEventMs } : {}),
      lastUpdateMs: g.lastUpdateMs,
      families: Object.freeze(families),
    });
    g.cached = state;
    return state;
  }

  private buildFamily(f: Fam): MetricFamily {
    if (!f.order) f.order = [...f.series.keys()].sort();
    let built: MetricFamily;
    if (f.type === 'histogram') {
      const series: HistogramSeries[] = [];
      for (const k of f.order) series.push(histSnap(f.series.get(k) as HistCell));
      built = { name: f.name, help: f.help, type: 'histogram', series: Object.freeze(series) };
    } else if (f.type === 'summary') {
      const series: SummarySeries[] = [];
      for (const k of f.order) series.push((f.series.get(k) as SummaryCell).snap);
      built = { name: f.name, help: f.help, type: 'summary', series: Object.freeze(series) };
    } else {
      const series: ScalarSeries[] = [];
      for (const k of f.order) {
        series.push(f.series.get(k) as ScalarCell);
      }
      built = { name: f.name, help: f.help, type: f.type, series: Object.freeze(series) };
    }
    f.cached = Object.freeze(built);
    return f.cached;
  }

  // ---------------------------------------------------------------------------- durability

  private assertWritable(): void {
    if (this.poisoned !== undefined || this.closed) throw this.unavailable();
  }

  private unavailable(): TransientError {
    if (this.closed) return new TransientError('memory store is closed');
    return new TransientError(
      `memory store: journal unavailable after a write error (${String((this.poisoned as Error)?.message ?? this.poisoned)}); reopen the store`,
    );
  }

  private async commit(): Promise<void> {
    const j = this.journal;
    if (!j) return;
    try {
      await j.flush();
    } catch (e) {
      this.poisoned ??= e;
      throw e;
    }
    if (j.bytesSinceRotate >= (this.opts.compactBytes ?? 64 * 1024 * 1024) && !this.compacting) {
      this.compacting = this.compact()
        .catch((e: unknown) => {
          this.poisoned ??= e;
        })
        .finally(() => {
          this.compacting = undefined;
        });
    }
  }

  private async commitOrThrow(): Promise<void> {
    try {
      await this.commit();
    } catch (e) {
      throw new TransientError(`memory store: journal write failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Writes the whole state atomically and drops the journal files it covers. */
  private async compact(): Promise<void> {
    const dir = this.opts.dir!;
    const j = this.journal!;
    const state = this.serialize(j.currentNo + 1); // state as of now, paired with journals from the next file on
    const closedNo = j.rotate();
    await j.flush();
    const tmp = join(dir, `${STATE_FILE}.tmp`);
    await writeFile(tmp, state);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, STATE_FILE));
    await syncDir(dir);
    await Journal.removeUpTo(dir, closedNo);
  }

  private serialize(journalFrom: number): string {
    const groups: unknown[] = [];
    for (const g of this.groups.values()) {
      const fams: unknown[] = [];
      for (const f of g.families.values()) {
        const rows: unknown[] = [];
        for (const [sk, cell] of f.series) {
          const c = cell as HistCell | SummaryCell;
          if (isScalarType(f.type)) {
            const sc = cell as ScalarCell;
            rows.push([sc.labels, encNum(sc.value), f.setMs?.get(sk) ?? null, f.setVal?.get(sk) ?? null]);
          } else if (c.t === 'h')
            rows.push([c.labels, c.cum.map(encNum), encNum(c.sum), encNum(c.count), c.bounds]);
          else
            rows.push([
              c.labels,
              c.snap.quantiles.map((q) => [q.quantile, encNum(q.value)]),
              encNum(c.snap.sum),
              encNum(c.snap.count),
            ]);
        }
        fams.push({ n: f.name, y: f.type, h: f.help, s: rows });
      }
      groups.push({
        k: g.key,
        lp: g.lastPushMs,
        lf: g.lastPushFailureMs,
        lr: g.lastFailureReason,
        le: g.lastEventMs,
        lu: g.lastUpdateMs,
        pm: finiteOrNull(g.putMs),
        mp: finiteOrNull(g.maxPushMs),
        fp: [...g.famPushMs],
        f: fams,
      });
    }
    return JSON.stringify({
      v: STATE_VERSION,
      journalFrom,
      gen: this.gen,
      groups,
      ledger: [...this.ledger].map(([id, t]) => [id, t, this.plans.get(id) ?? null]),
      tombstones: [...this.tombstones],
    });
  }

  private async load(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await rm(join(dir, `${STATE_FILE}.tmp`), { force: true });
    let journalFrom = 0;
    let text: string | undefined;
    try {
      text = await readFile(join(dir, STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) journalFrom = this.restore(JSON.parse(text) as StateFile);
    const files = (await listJournals(dir)).filter((n) => n >= journalFrom);
    let replayed = 0;
    for (const no of files) {
      const { lines, torn } = await readJournal(journalPath(dir, no));
      for (let i = 0; i < lines.length; i++) {
        try {
          this.replay(lines[i]!);
        } catch (e) {
          throw new Error(
            `memory store: journal ${journalPath(dir, no)} line ${i + 1} is corrupt: ${(e as Error).message}`,
          );
        }
      }
      replayed += lines.length + (torn ? 1 : 0);
    }
    const next = Math.max(journalFrom, (files[files.length - 1] ?? -1) + 1);
    this.journal = new Journal(dir, next, this.opts.fsync ?? true);
    if (replayed > 0 || files.length > 0) await this.compact();
  }

  private restore(s: StateFile): number {
    if (s.v !== STATE_VERSION)
      throw new Error(`memory store: ${STATE_FILE} has version ${s.v}, expected ${STATE_VERSION}`);
    for (const g of s.groups) {
      const key = decLabels(g.k);
      const keyStr = flatKey(key);
      const grp = this.createGroup(key, keyStr);
      grp.lastPushMs = g.lp ?? undefined;
      grp.lastPushFailureMs = g.lf ?? undefined;
      grp.lastFailureReason = g.lr ?? undefined;
      grp.lastEventMs = g.le ?? undefined;
      grp.lastUpdateMs = g.lu;
      grp.putMs = g.pm ?? Number.NEGATIVE_INFINITY;
      grp.maxPushMs = g.mp ?? Number.NEGATIVE_INFINITY;
      for (const [n, t] of g.fp) grp.famPushMs.set(n, t);
      for (const f of g.f) {
        if (f.s.length === 0) continue;
        const fam = this.createFamily(grp, f.n, f.y, f.h, decLabels(f.s[0]![0]));
        for (const row of f.s) {
          const labels = freezeLabels(decLabels(row[0]));
          let cell: Cell;
          if (f.y === 'histogram') {
            cell = {
              t: 'h',
              labels,
              // State files before per-series layouts kept one layout per family (`b`).
              bounds: Object.freeze((row[4] as number[] | undefined) ?? f.b ?? []),
              cum: (row[1] as Num[]).map(decNum),
              sum: decNum(row[2]),
              count: decNum(row[3]),
              snap: undefined,
            };
          } else if (f.y === 'summary') {
            cell = {
              t: 'q',
              labels,
              snap: Object.freeze({
                labels,
                quantiles: Object.freeze(
                  (row[1] as Array<[number, Num]>).map(([quantile, v]) =>
                    Object.freeze({ quantile, value: decNum(v) }),
                  ),
                ),
                sum: decNum(row[2]),
                count: decNum(row[3]),
              }),
            };
          } else {
            cell = Object.freeze({ labels, value: decNum(row[1]) });
          }
          const sk = flatKey(labels);
          this.addCell(grp, fam, sk, cell);
          if (isScalarType(f.y) && typeof row[2] === 'number')
            fam.recordSet(sk, row[2], typeof row[3] === 'number' ? row[3] : decNum(row[1]));
        }
      }
    }
    for (const [id, t, h] of s.ledger) {
      this.ledger.set(id, t);
      if (typeof h === 'string') this.plans.set(id, h);
    }
    for (const [k, t] of s.tombstones) this.tombstones.set(k, t);
    this.gen = s.gen;
    return s.journalFrom;
  }

  /** Re-applies one journal record (already checked when it was written). */
  private replay(line: string): void {
    const kind = line[0];
    const r = JSON.parse(line.slice(1)) as Record<string, unknown>;
    switch (kind) {
      case 'a': {
        const group = decLabels(r.g);
        const keyStr = flatKey(group);
        const t = r.t as number;
        let changed = false;
        for (const raw of r.ops as Record<string, unknown>[]) {
          const op = decOp(raw);
          if (this.applyOp(group, keyStr, op, flatKey(op.labels))) changed = true;
        }
        if (changed) {
          this.touchGroupForApply(keyStr, t, typeof r.e === 'number' ? r.e : undefined);
          this.gen++;
        }
        if (typeof r.id === 'string') {
          this.ledger.set(r.id, t);
          if (typeof r.h === 'string') this.plans.set(r.id, r.h);
        }
        return;
      }
      case 'p': {
        const group = decLabels(r.g);
        const fams = (r.f as Parameters<typeof decFamily>[0][]).map(decFamily);
        this.applyPush(group, flatKey(group), r.m as PushMethod, fams, r.pt as number, r.t as number);
        return;
      }
      case 'f':
        this.applyFailure(decLabels(r.g), r.ft as number, r.r as string, r.t as number);
        return;
      case 'x': {
        for (const k of r.keys as unknown[]) {
          const g = this.groups.get(flatKey(decLabels(k)));
          if (g) this.removeGroup(g);
        }
        this.gen++;
        return;
      }
      case 'w':
        this.applyWipe();
        return;
      default:
        throw new Error(`unknown record kind ${JSON.stringify(kind)}`);
    }
  }
}

interface StateFile {
  v: number;
  journalFrom: number;
  gen: number;
  groups: Array<{
    k: unknown;
    lp?: number | null;
    lf?: number | null;
    lr?: string | null;
    le?: number | null;
    lu: number;
    pm: number | null;
    mp: number | null;
    fp: Array<[string, number]>;
    f: Array<{ n: string; y: MetricType; h: string; b?: number[] | null; s: unknown[][] }>;
  }>;
  ledger: Array<[string, number, (string | null)?]>;
  tombstones: Array<[string, number]>;
}

/** Op indexes with gauge sets first, then the rest, each in request order. */
function setsFirst(ops: readonly unknown[]): number[] {
  const sets: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    if ((ops[i] as { kind?: unknown } | null)?.kind === 'gauge_set') sets.push(i);
    else rest.push(i);
  }
  return sets.length === 0 ? rest : [...sets, ...rest];
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

function histSnap(c: HistCell): HistogramSeries {
  if (c.snap) return c.snap;
  const bounds = c.bounds;
  const buckets: Bucket[] = [];
  for (let i = 0; i < bounds.length; i++) buckets.push(Object.freeze({ le: bounds[i]!, count: c.cum[i]! }));
  c.snap = Object.freeze({ labels: c.labels, buckets: Object.freeze(buckets), sum: c.sum, count: c.count });
  return c.snap;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
