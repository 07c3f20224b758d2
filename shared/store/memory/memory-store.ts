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
 *
 * This file is the facade and its durability (journal commits, compaction, load); the jobs live in
 * ./state.ts (state, structure), ./cells.ts (representation), ./apply.ts (SQS deltas), ./push.ts (push
 * ordering and checks), ./effects.ts (what an accepted write does, live and on replay), ./snapshot.ts
 * and ./persist.ts (state file and journal replay).
 */

import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TransientError, ValidationError } from '../../model/errors';
import { failureReason, groupLimitError } from '../families';
import { groupTimes } from '../group-times';
import { pushPlanHash } from '../plan';
import type {
  ApplyResult,
  DeadLetterClaim,
  GroupInfo,
  GroupingKey,
  PushRequest,
  PushResult,
  Store,
  StoreLimits,
  StoreSnapshot,
  ValidApplyRequest,
  ValidGroupingKey,
  ValidPush,
} from '../types';
import { applyOne } from './apply';
import { EMPTY, flatKey, type Grp } from './cells';
import { encApplyRecord, encFamily } from './codec';
import { claimDeadLetters, settleDeadLetters } from './dead-letter-claims';
import { applyFailure, applyPush, applyWipe } from './effects';
import { Journal, journalPath, listJournals, readJournal } from './journal';
import { replay, restore, STATE_FILE, type StateFile, serialize, syncDir } from './persist';
import { checkPush, isStale } from './push';
import { knownPush, pushLedgerValue, rememberPush } from './push-ledger';
import { buildGroups, orderedGroups } from './snapshot';
import { groupLimitReached, MemoryState, pruneTombstones, removeGroup } from './state';

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

export class MemoryStore implements Store {
  private readonly st: MemoryState;
  private compacting: Promise<void> | undefined;
  private poisoned: unknown;
  private closed = false;

  private constructor(opts: MemoryStoreOptions) {
    this.st = new MemoryState(opts);
  }

  get limits(): StoreLimits {
    return this.st.limits;
  }

  static async open(opts: MemoryStoreOptions = {}): Promise<MemoryStore> {
    const s = new MemoryStore(opts);
    if (opts.dir !== undefined) await s.load(opts.dir);
    return s;
  }

  /** Test hook: the next `apply` of `id` fails transiently without applying anything. */
  injectApplyFault(id: string): void {
    this.st.faults.add(id);
  }

  async apply(requests: readonly ValidApplyRequest[]): Promise<ApplyResult[]> {
    const results: ApplyResult[] = [];
    if (this.poisoned !== undefined || this.closed) {
      const error = this.unavailable();
      return requests.map((r) => ({
        id: r.id,
        status: 'failed',
        error,
        rejected: EMPTY,
      }));
    }
    const now = this.st.now();
    for (const r of requests) results.push(applyOne(this.st, r, now));
    try {
      await this.commit();
    } catch (e) {
      const error = new TransientError(`memory store: journal write failed: ${(e as Error).message}`, {
        cause: e,
      });
      return requests.map((r) => ({
        id: r.id,
        status: 'failed',
        error,
        rejected: EMPTY,
      }));
    }
    return results;
  }

  async push(request: ValidPush): Promise<PushResult> {
    return this.pushChecked(request);
  }

  /** A push whose shape is known good: validated at the edge, or built here from a checked key (deleteGroup). */
  private async pushChecked(request: PushRequest): Promise<PushResult> {
    this.assertWritable();
    const group = request.group;
    const gl = groupLimitError(group, this.st.limits);
    if (gl) throw gl;
    const now = this.st.now();
    const keyStr = flatKey(group);
    const { method, pushTimeMs: t } = request;
    const grp = this.st.groups.get(keyStr);
    const ge = grp || this.st.tombstones.has(keyStr) ? undefined : groupLimitReached(this.st);
    if (ge && method !== 'DELETE') throw ge;
    // A DELETE of a group the store doesn't know, at the group limit: nothing to delete, no tombstone.
    if (ge) return { status: 'applied' };
    // With an idempotency key: a repeat answers as the first push did (./push-ledger.ts).
    const id = typeof request.id === 'string' ? request.id : undefined;
    const hash = id === undefined ? '' : pushPlanHash(request);
    const known = id === undefined ? undefined : knownPush(this.st.ledger, this.st.plans, id, hash);
    if (known) return known;
    if (isStale(this.st, grp, keyStr, method, request.families, t)) {
      if (id !== undefined) {
        const h = pushLedgerValue(hash, 'stale');
        rememberPush(this.st, id, h, now);
        this.st.journal?.append(`a${encApplyRecord(id, group, now, undefined, [], h)}`);
      }
      // Answer only once the newer write that makes this one stale is durable (it may still be in flight).
      await this.commitOrThrow();
      return { status: 'stale' };
    }
    const families = request.families.filter((f) => f.series.length > 0 || method === 'POST');
    if (method !== 'DELETE') checkPush(this.st, grp, group, method, families);
    applyPush(this.st, group, keyStr, method, method === 'DELETE' ? [] : families, t, now);
    const ledgered = id === undefined ? {} : { id, h: pushLedgerValue(hash, 'applied') };
    if (id !== undefined) rememberPush(this.st, id, ledgered.h!, now);
    this.st.journal?.append(
      `p${JSON.stringify({ m: method, g: group, pt: t, t: now, f: method === 'DELETE' ? [] : families.map(encFamily), ...ledgered })}`,
    );
    await this.commitOrThrow();
    return { status: 'applied' };
  }

  async recordPushFailure(key: ValidGroupingKey, timeMs: number, reason: string): Promise<void> {
    this.assertWritable();
    const gl = groupLimitError(key, this.st.limits);
    if (gl) throw gl;
    if (!Number.isFinite(timeMs))
      throw new ValidationError([{ path: 'timeMs', message: 'must be a finite number' }]);
    const r = failureReason(reason);
    const keyStr = flatKey(key);
    if (!this.st.groups.has(keyStr) && !this.st.tombstones.has(keyStr)) {
      const ge = groupLimitReached(this.st);
      if (ge) throw ge;
    }
    const now = this.st.now();
    applyFailure(this.st, key, timeMs, r, now);
    this.st.journal?.append(`f${JSON.stringify({ g: key, ft: timeMs, r, t: now })}`);
    await this.commitOrThrow();
  }

  async claimDeadLetters(key: string, leaseMs: number): Promise<DeadLetterClaim> {
    this.assertWritable();
    return claimDeadLetters(this.st, key, leaseMs);
  }

  async settleDeadLetters(key: string, token: string, sent: boolean): Promise<void> {
    this.assertWritable();
    if (settleDeadLetters(this.st, key, token, sent)) await this.commitOrThrow();
  }

  async deleteGroup(key: ValidGroupingKey, timeMs: number): Promise<void> {
    // The key was validated at the edge (ValidGroupingKey); the time is checked here.
    if (!Number.isFinite(timeMs))
      throw new ValidationError([{ path: 'timeMs', message: 'must be a finite number' }]);
    await this.pushChecked({ method: 'DELETE', group: key, families: [], pushTimeMs: timeMs });
  }

  async expire(nowMs: number, ttlMs: number): Promise<GroupingKey[]> {
    this.assertWritable();
    const cutoff = nowMs - ttlMs;
    const expired: Grp[] = [];
    for (const g of this.st.groups.values()) if (g.lastUpdateMs < cutoff) expired.push(g);
    for (const g of expired) removeGroup(this.st, g);
    if (expired.length > 0) {
      this.st.gen++;
      this.st.journal?.append(`x${JSON.stringify({ keys: expired.map((g) => g.key) })}`);
    }
    pruneTombstones(this.st, nowMs);
    await this.commitOrThrow();
    return expired.map((g) => g.key);
  }

  async wipe(): Promise<void> {
    this.assertWritable();
    applyWipe(this.st);
    this.st.journal?.append('w{}');
    await this.commitOrThrow();
  }

  async snapshot(): Promise<StoreSnapshot> {
    const full = !this.st.snapshotTaken;
    this.st.snapshotTaken = true;
    this.st.groupsRebuilt = 0;
    const groups = buildGroups(this.st);
    const reads = { full, groupsReread: this.st.groupsRebuilt, requests: 0, readUnits: 0 };
    return Object.freeze({ generation: String(this.st.gen), takenAtMs: this.st.now(), groups, reads });
  }

  async generation(): Promise<string> {
    return String(this.st.gen);
  }

  async listGroups(): Promise<GroupInfo[]> {
    const out: GroupInfo[] = [];
    for (const g of orderedGroups(this.st)) {
      const perFamily: Record<string, number> = Object.create(null);
      for (const f of g.families.values()) perFamily[f.name] = f.series.size;
      out.push({
        key: g.key,
        ...groupTimes(g),
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
    if (!this.st.journal) return;
    try {
      await this.compacting;
      if (this.poisoned === undefined && this.st.journal.bytesSinceRotate > 0) await this.compact();
    } finally {
      await this.st.journal.close();
    }
  }

  /**
   * Test hook: releases the files as a crash would leave them (journal flushed, no compaction), so a
   * reopen exercises journal replay.
   */
  async abandon(): Promise<void> {
    this.closed = true;
    await this.compacting;
    await this.st.journal?.close();
  }

  /** Counts for tests and the status page. */
  stats(): { groups: number; series: number; families: number; ledger: number; tombstones: number } {
    return {
      groups: this.st.groups.size,
      series: this.st.total,
      families: this.st.schemas.size,
      ledger: this.st.ledger.size,
      tombstones: this.st.tombstones.size,
    };
  }

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
    const j = this.st.journal;
    if (!j) return;
    try {
      await j.flush();
    } catch (e) {
      this.poisoned ??= e;
      throw e;
    }
    if (j.bytesSinceRotate >= (this.st.opts.compactBytes ?? 64 * 1024 * 1024) && !this.compacting) {
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
    const dir = this.st.opts.dir!;
    const j = this.st.journal!;
    const state = serialize(this.st, j.currentNo + 1); // state as of now, paired with journals from the next file on
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
    if (text !== undefined) journalFrom = restore(this.st, JSON.parse(text) as StateFile);
    const files = (await listJournals(dir)).filter((n) => n >= journalFrom);
    let replayed = 0;
    for (const no of files) {
      const { lines, torn } = await readJournal(journalPath(dir, no));
      for (let i = 0; i < lines.length; i++) {
        try {
          replay(this.st, lines[i]!);
        } catch (e) {
          throw new Error(
            `memory store: journal ${journalPath(dir, no)} line ${i + 1} is corrupt: ${(e as Error).message}`,
          );
        }
      }
      replayed += lines.length + (torn ? 1 : 0);
    }
    const next = Math.max(journalFrom, (files[files.length - 1] ?? -1) + 1);
    this.st.journal = new Journal(dir, next, this.st.opts.fsync ?? true);
    if (replayed > 0 || files.length > 0) await this.compact();
  }
}
