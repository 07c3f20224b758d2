/**
 * The DynamoDB store's incremental snapshot (docs/store-dynamodb.md, "Reads"): the whole table is read
 * once (at the first snapshot, then every `resyncMs`), after that a snapshot reads the change index
 * (./change-index.ts) since its previous one and re-reads only the groups that changed.
 *
 * A refresh, in order:
 * 1. `started` = wall clock now. When there is no view yet, it is older than `resyncMs`, a reset (wipe)
 *    was announced, or the cursor is too old for the index's TTL: a parallel Scan (eventually
 *    consistent) replaces the view.
 * 2. Query every shard of the hour buckets from `cursor - overlapMs` on (eventually consistent). Change
 *    items not seen before name the groups and schemas to read again. The overlap covers clock skew
 *    between writers and this reader, replica lag of the eventually consistent reads, and transactions
 *    in flight while the previous refresh ran; `seen` keeps a change from being acted on twice.
 * 3. Each changed group: one strongly consistent Query of its partition (a view never goes back, and it
 *    holds at least the change that named it); schemas named by a change, new to the view or of another
 *    type than the series items say: one consistent BatchGetItem.
 * 4. cursor = `started`.
 * A group a large push is being written to is kept as it was until the push ends (./revision.ts), so a
 * reader sees every push whole.
 * Unchanged groups keep their `GroupState` objects; `generation` changes only when something changed.
 */
import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { MetricFamily } from '../../model/types';
import type { GroupState, SnapshotReads, StoreSnapshot } from '../types';
import {
  addPack,
  assembleGroup,
  type GroupItems,
  type SchemaEntry,
  schemaFromItem,
  sortGroups,
  sortItems,
  withPacks,
} from './assemble';
import {
  CHANGE_SHARDS,
  CHANGE_TTL_SECONDS,
  changeBucket,
  changeMs,
  changePk,
  changeSkFrom,
} from './change-index';
import { type Item, SK_META, SK_SCHEMA, s, schemaPk } from './codec';
import { Expr } from './expr';
import type { DynamoIo } from './io';
import { PACK_PREFIX } from './packs';
import { batchGetUnits, pageUnits, reportedUnits } from './read-units';
import { readiness, revisionOf } from './revision';

export interface SnapshotReaderOptions {
  readonly client: DynamoDBClient;
  readonly table: string;
  /** Sends one read with the store's retries and counters. */
  readonly read: <T extends { ConsumedCapacity?: unknown }>(fn: () => Promise<T>) => Promise<T>;
  /** The store's consistent BatchGetItem (./io.ts `DynamoIo.batchGet`). */
  readonly batchGet: DynamoIo['batchGet'];
  /** Wall clock of the change index (writers stamp with theirs). */
  readonly wallNow: () => number;
  /** The store's clock, for `takenAtMs`. */
  readonly now: () => number;
  /** Segments of the full read's parallel Scan. */
  readonly segments: number;
  /** How far before its cursor a refresh looks again. */
  readonly overlapMs: number;
  /** Period of the full re-read (a safety net for anything the index could miss). */
  readonly resyncMs: number;
  /** Group partitions read at once. @default 16 */
  readonly concurrency?: number;
}

interface Changes {
  readonly groups: Set<string>;
  readonly schemas: Set<string>;
  readonly resets: string[];
}

class Cost {
  requests = 0;
  units = 0;
  groups = 0;
  add(units: number): void {
    this.requests++;
    this.units += units;
  }
}

export class SnapshotReader {
  private readonly groups = new Map<string, GroupState>();
  private readonly schemas = new Map<string, SchemaEntry>();
  private ordered: readonly GroupState[] = Object.freeze([]);
  private orderDirty = false;
  private readonly id = randomBytes(4).toString('hex');
  private version = 0;
  private cursor: number | undefined;
  private lastFullMs = Number.NEGATIVE_INFINITY;
  private fullDue = false;
  /** Change sort keys acted on, with their stamps (pruned behind the overlap window). */
  private readonly seen = new Map<string, number>();
  private running: Promise<StoreSnapshot> | undefined;
  /** Groups with a push in flight (or not yet seen whole): their state is kept and read again next time. */
  private readonly deferred = new Set<string>();
  /** Revision (`rv`) of the multi-transaction push each group's state was adopted at (./revision.ts). */
  private readonly adopted = new Map<string, string>();
  private queued: Promise<StoreSnapshot> | undefined;

  constructor(private readonly o: SnapshotReaderOptions) {}

  /** The view brought up to date; calls are serialized, each reflects what completed before it. */
  snapshot(): Promise<StoreSnapshot> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const previous = this.running.catch(() => undefined);
    this.queued = previous.then(() => {
      this.queued = undefined;
      return this.start();
    });
    return this.queued;
  }

  /** The next snapshot reads everything (after this process wiped the table). */
  reset(): void {
    this.fullDue = true;
  }

  private start(): Promise<StoreSnapshot> {
    const p = this.refresh().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async refresh(): Promise<StoreSnapshot> {
    const cost = new Cost();
    const started = this.o.wallNow();
    const before = this.version;
    let full = this.needsFull(started);
    let triggered: string[] = [];
    let changes: Changes | undefined;
    if (!full) {
      changes = await this.readChanges(this.cursor! - this.o.overlapMs, started, cost);
      if (changes.resets.length > 0) {
        full = true;
        triggered = changes.resets;
      }
    }
    if (full) {
      await this.readAll(cost);
      this.seen.clear();
      this.lastFullMs = started;
      this.fullDue = false;
      changes = await this.readChanges(started - this.o.overlapMs, started, cost);
      // A reset announced after this full read began may have raced with it: read everything again.
      if (changes.resets.some((r) => !triggered.includes(r))) this.fullDue = true;
    }
    await this.reread(changes!, cost);
    this.cursor = started;
    this.prune(started);
    if (full) this.version++;
    return this.current(cost, full, this.version !== before);
  }

  private needsFull(started: number): boolean {
    return (
      this.cursor === undefined ||
      this.fullDue ||
      started - this.lastFullMs >= this.o.resyncMs ||
      started - this.cursor > (CHANGE_TTL_SECONDS * 1000) / 2
    );
  }

  private current(cost: Cost, full: boolean, changed: boolean): StoreSnapshot {
    if (changed || this.orderDirty) {
      this.ordered = Object.freeze(sortGroups([...this.groups.values()]));
      this.orderDirty = false;
    }
    const reads: SnapshotReads = {
      full,
      groupsReread: cost.groups,
      requests: cost.requests,
      readUnits: cost.units,
    };
    return Object.freeze({
      generation: `${this.id}-${this.version}`,
      takenAtMs: this.o.now(),
      groups: this.ordered,
      reads,
    });
  }

  // ------------------------------------------------------------------------------- full read

  private async readAll(cost: Cost): Promise<void> {
    const items = await this.scan(cost);
    const { schemas, groups } = sortItems(items);
    this.schemas.clear();
    for (const [k, v] of schemas) this.schemas.set(k, v);
    const previous = new Map(this.groups);
    this.groups.clear();
    const now = this.o.wallNow();
    for (const [gpk, g] of groups) {
      // A Scan sees a push in flight in part: keep what this view had; the re-read step settles it.
      if (readiness(g.meta, now, this.adopted.get(gpk)) !== 'adopt') {
        const kept = previous.get(gpk);
        if (kept) this.groups.set(gpk, kept);
        this.deferred.add(gpk);
        continue;
      }
      const state = assembleGroup(g, this.schemas);
      if (state) this.groups.set(gpk, state);
    }
    cost.groups += groups.size;
    this.orderDirty = true;
  }

  private async scan(cost: Cost): Promise<Item[]> {
    const segs = Array.from({ length: this.o.segments }, (_, i) => i);
    const parts = await Promise.all(
      segs.map(async (segment) => {
        const out: Item[] = [];
        let start: Record<string, AttributeValue> | undefined;
        do {
          const startNow = start;
          const res = await this.o.read(() =>
            this.o.client.send(
              new ScanCommand({
                TableName: this.o.table,
                Segment: segment,
                TotalSegments: this.o.segments,
                ConsistentRead: false,
                ReturnConsumedCapacity: 'TOTAL',
                ...(startNow ? { ExclusiveStartKey: startNow } : {}),
              }),
            ),
          );
          const items = (res.Items ?? []) as Item[];
          cost.add(reportedUnits(res.ConsumedCapacity) ?? pageUnits(items, false));
          for (const it of items) if (!it.pk?.S?.startsWith('chg#')) out.push(it);
          start = res.LastEvaluatedKey;
        } while (start);
        return out;
      }),
    );
    return parts.flat();
  }

  // ------------------------------------------------------------------------------- change index

  private async readChanges(fromMs: number, started: number, cost: Cost): Promise<Changes> {
    const first = changeBucket(fromMs);
    // Writers' clocks may run ahead of ours: look one overlap into the future for the bucket.
    const last = changeBucket(started + this.o.overlapMs);
    const pks: string[] = [];
    for (let b = first; b <= last; b++) for (let sh = 0; sh < CHANGE_SHARDS; sh++) pks.push(changePk(b, sh));
    const pages = await Promise.all(pks.map((pk) => this.queryChanges(pk, changeSkFrom(fromMs), cost)));
    const out: Changes = { groups: new Set(), schemas: new Set(), resets: [] };
    for (const items of pages) {
      for (const it of items) {
        const sk = it.sk?.S;
        if (!sk || this.seen.has(sk)) continue;
        this.seen.set(sk, changeMs(sk));
        for (const g of it.g?.SS ?? []) out.groups.add(g);
        for (const f of it.f?.SS ?? []) out.schemas.add(f);
        if (it.reset?.BOOL) out.resets.push(sk);
      }
    }
    return out;
  }

  private async queryChanges(pk: string, fromSk: string, cost: Cost): Promise<Item[]> {
    const out: Item[] = [];
    await this.queryAll(pk, fromSk, false, cost, (items) => out.push(...items));
    return out;
  }

  /**
   * Every page of one partition's Query (`sk >= fromSk` when given), each page's read units added to
   * `cost` (as DynamoDB reported them, else computed by its rules).
   */
  private async queryAll(
    pk: string,
    fromSk: string | undefined,
    consistent: boolean,
    cost: Cost,
    onPage: (items: Item[]) => void,
    backward = false,
  ): Promise<void> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const e = new Expr();
      const startNow = start;
      const keyCondition =
        `${e.n('pk')} = ${e.v(s(pk))}` +
        (fromSk === undefined ? '' : ` AND ${e.n('sk')} >= ${e.v(s(fromSk))}`);
      const res = await this.o.read(() =>
        this.o.client.send(
          new QueryCommand({
            TableName: this.o.table,
            KeyConditionExpression: keyCondition,
            ConsistentRead: consistent,
            ReturnConsumedCapacity: 'TOTAL',
            ...(backward ? { ScanIndexForward: false } : {}),
            ...(startNow ? { ExclusiveStartKey: startNow } : {}),
            ...e.parts(),
          }),
        ),
      );
      const items = (res.Items ?? []) as Item[];
      cost.add(reportedUnits(res.ConsumedCapacity) ?? pageUnits(items, consistent));
      onPage(items);
      start = res.LastEvaluatedKey;
    } while (start);
  }

  private prune(started: number): void {
    const horizon = started - 2 * this.o.overlapMs;
    for (const [sk, ms] of this.seen) if (ms < horizon) this.seen.delete(sk);
  }

  // ------------------------------------------------------------------------------- re-reads

  private async reread(changes: Changes, cost: Cost): Promise<void> {
    if (changes.groups.size === 0 && changes.schemas.size === 0 && this.deferred.size === 0) return;
    const gpks = [...new Set([...changes.groups, ...this.deferred])];
    const before = await this.revisionsNow(gpks, cost);
    const read = await this.pool(gpks, (gpk) => this.readWhole(gpk, before.get(gpk), cost));
    cost.groups += gpks.length;
    const parts: GroupItems[] = [];
    const ready: string[] = [];
    read.forEach((p, i) => {
      const gpk = gpks[i]!;
      if (p === undefined) {
        this.deferred.add(gpk);
        return;
      }
      this.deferred.delete(gpk);
      const rv = revisionOf(p.meta);
      if (p.meta?.mx !== undefined && rv !== undefined) this.adopted.set(gpk, rv);
      else this.adopted.delete(gpk);
      parts.push(p);
      ready.push(gpk);
    });
    // Schemas: named by a change (creation in a push, HELP set later), new to this view, or of another type
    // than the series items say (a family redefined while it had no series).
    const want = new Set(changes.schemas);
    for (const p of parts) {
      for (const it of p.series) {
        const f = it.f?.S ?? '';
        const known = this.schemas.get(f);
        if (!known || (it.t?.S !== undefined && it.t.S !== known.schema.type)) want.add(schemaPk(f));
      }
    }
    const helpChanged = await this.loadSchemas([...want], cost);
    let changed = false;
    ready.forEach((gpk, i) => {
      const state = assembleGroup(parts[i]!, this.schemas);
      if (state) this.groups.set(gpk, state);
      else this.groups.delete(gpk);
      changed = true;
    });
    if (helpChanged.size > 0) this.patchHelp(helpChanged, new Set(ready));
    if (changed) {
      this.version++;
      this.orderDirty = true;
    }
  }

  /**
   * A group's items as they were before or after any push (./revision.ts); undefined while a push is in
   * flight, or when the group changed again between the two reads a finished large push needs.
   * One Query is adopted alone only when the revision read just before it (`before`) is the one its meta
   * item (read last) shows: a Query is not a snapshot, and a push that committed while it ran could be
   * missing from the items read before the meta item (the 1M soak's whole-push reader saw one such mix).
   */
  private async readWhole(
    gpk: string,
    before: string | undefined,
    cost: Cost,
  ): Promise<GroupItems | undefined> {
    const first = await this.queryGroup(gpk, cost);
    const r = readiness(first.meta, this.o.wallNow(), this.adopted.get(gpk));
    if (r === 'defer') return undefined;
    if (r === 'adopt' && revisionOf(first.meta) === before) return first;
    const second = await this.queryGroup(gpk, cost);
    const rv = revisionOf(first.meta);
    if (revisionOf(second.meta) !== rv || readiness(second.meta, this.o.wallNow(), rv) !== 'adopt')
      return undefined;
    return second;
  }

  /** One consistent Query of a group's partition, its meta item read last (descending order). */
  private async queryGroup(gpk: string, cost: Cost): Promise<GroupItems> {
    const g: GroupItems = { series: [] };
    await this.queryAll(
      gpk,
      undefined,
      true,
      cost,
      (items) => {
        for (const it of items) {
          const sk = it.sk?.S ?? '';
          if (sk === SK_META) g.meta = it;
          else if (sk.startsWith('s#')) g.series.push(it);
          else if (sk.startsWith(PACK_PREFIX)) addPack(g, it);
        }
      },
      true,
    );
    g.series.reverse();
    return withPacks(g);
  }

  /** Reads schema items (consistent); returns the family names whose HELP changed. */
  private async loadSchemas(pks: string[], cost: Cost): Promise<Set<string>> {
    const changed = new Set<string>();
    for (const it of await this.getConsistent(pks, SK_SCHEMA, undefined, cost)) {
      const e = schemaFromItem(it);
      if (!e) continue;
      const old = this.schemas.get(e.schema.name);
      if (old && old.help !== e.help) changed.add(e.schema.name);
      this.schemas.set(e.schema.name, e);
    }
    return changed;
  }

  /** The revision token of each group's meta item now (consistent; absent: no meta item or no push yet). */
  private async revisionsNow(gpks: readonly string[], cost: Cost): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    for (const it of await this.getConsistent(gpks, SK_META, 'pk, rv', cost))
      out.set(it.pk?.S ?? '', revisionOf(it));
    return out;
  }

  /** Items `(pk, sk)` for every pk, strongly consistent (the store's BatchGetItem), read units counted. */
  private getConsistent(
    pks: readonly string[],
    sk: string,
    projection: string | undefined,
    cost: Cost,
  ): Promise<Item[]> {
    const keys = pks.map((pk) => ({ pk: s(pk), sk: s(sk) }));
    return this.o.batchGet(keys, projection, (consumed, items, asked) =>
      cost.add(reportedUnits(consumed) ?? batchGetUnits(items, asked, true)),
    );
  }

  /** HELP is per family: groups not read again get the new text too. */
  private patchHelp(names: Set<string>, skip: Set<string>): void {
    for (const [gpk, g] of this.groups) {
      if (skip.has(gpk) || !g.families.some((f) => names.has(f.name))) continue;
      const families = g.families.map(
        (f): MetricFamily =>
          names.has(f.name) ? ({ ...f, help: this.schemas.get(f.name)?.help ?? '' } as MetricFamily) : f,
      );
      this.groups.set(gpk, { ...g, families });
    }
  }

  private async pool<T, R>(xs: readonly T[], fn: (x: T) => Promise<R>): Promise<R[]> {
    const out = new Array<R>(xs.length);
    let next = 0;
    const worker = async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await fn(xs[i]!);
      }
    };
    const n = Math.min(this.o.concurrency ?? 16, xs.length);
    await Promise.all(Array.from({ length: n }, worker));
    return out;
  }
}
