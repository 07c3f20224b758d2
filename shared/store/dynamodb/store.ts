/**
 * DynamoStore: the Store contract (../types.ts) on two DynamoDB tables. The design, its costs and what a
 * reader may observe are written down in docs/store-dynamodb.md; the short version:
 *
 * - series table (pk, sk): per group a partition `g#<digest>` holding the group's `meta` item, one item
 *   per series (`s#<family>#<digest>`) and POST markers (`p#<family>`); per family a global schema item
 *   (`f#<family>`, `schema`) with type, label shape, bucket layout and the family's series count; the
 *   store-wide series count (`c#total`); 16 generation shards (`gen`, `00`..`15`).
 * - ledger table (id): one item per applied request (part), with a TTL.
 * - apply: the additive ops and gauge sets of a whole batch are packed into as few TransactWriteItems as
 *   fit in 100 actions, each with the ledger puts of its requests (`attribute_not_exists`); a cancelled
 *   transaction is analysed per item (ALL_OLD on condition failure) and retried without what is
 *   duplicate, stale or over a limit. A request over 100 actions is split deterministically (sorted
 *   series keys) into parts `<id>#<n>`, each exactly once.
 * - limits and family consistency: conditional updates of the counters in the same transaction.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AccrueError, LimitError, TransientError, ValidationError } from '../../model/errors';
import type { Labels, MetricFamily, MetricType } from '../../model/types';
import {
  boundsKey,
  bucketLayoutConflict,
  type FamilySchema,
  failureReason,
  familyConflict,
  groupLimitError,
  groupShapeNames,
  opFamilyType,
  opProblems,
  reservedNameCandidates,
  reservedNameConflict,
  type SeriesLimit,
  sameBounds,
  schemaOf,
  seriesLabelLimitError,
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
  type MetricOp,
  type PushRequest,
  type PushResult,
  type RejectedOp,
  type Store,
  type StoreLimits,
  type StoreSnapshot,
} from '../types';
import { type SchemaEntry, schemaFromItem } from './assemble';
import { CHANGE_INDEX_ACTIONS, resetChangeItem, TRANSACT_MAX_ACTIONS, withChangeItem } from './change-index';
import {
  deltaString,
  digest,
  familyPushSk,
  GEN_SHARDS,
  genKey,
  genSk,
  groupPk,
  type Item,
  labelsAttr,
  ledgerKey,
  MAX_DELTA,
  n,
  numList,
  PK_GEN,
  PK_GEN_SHARD,
  PK_TOTAL,
  readLabels,
  readNumber,
  readNumList,
  readString,
  SK_META,
  SK_SCHEMA,
  SK_TOTAL,
  s,
  schemaPk,
  seriesSk,
  shardOf,
  valueAttr,
} from './codec';
import { type CountedEntry, countedChunks } from './counted-chunks';
import { Expr } from './expr';
import {
  backoffMs,
  type CancellationReason,
  cancellationReasons,
  DEFAULT_RETRY,
  describe,
  isTransient,
  type RetryPolicy,
  sleep,
} from './retry';
import { SnapshotReader } from './snapshot-reader';

export interface DynamoStoreOptions {
  readonly client: DynamoDBClient;
  readonly seriesTable: string;
  readonly ledgerTable: string;
  /** Ledger item lifetime; must exceed queue retention + visibility timeout. @default 1_296_000 (15 days) */
  readonly ledgerTtlSeconds?: number;
  /** Lifetime of a DELETE tombstone (keeps older pushes stale). @default ledgerTtlSeconds */
  readonly tombstoneTtlSeconds?: number;
  readonly limits?: Partial<StoreLimits>;
  /** Clock, ms since epoch (lastUpdateMs, TTLs). @default Date.now */
  readonly now?: () => number;
  /** Retry policy for throttling and transaction conflicts. */
  readonly retry?: Partial<RetryPolicy>;
  /** Segments of the parallel Scan behind snapshot(), listGroups(), expire(), wipe(). @default 4 */
  readonly scanSegments?: number;
  /** Destroy the client on close() (when the store created it). @default false */
  readonly ownsClient?: boolean;
  /** Snapshot reads (./snapshot-reader.ts): wall clock of the change index. @default Date.now */
  readonly wallNow?: () => number;
  /** How far back a snapshot looks in the change index before its cursor. @default 10_000 */
  readonly changeOverlapMs?: number;
  /** Period of the snapshot's full re-read. @default 21_600_000 (6 h) */
  readonly resyncMs?: number;
}

/** Counters of what the store asked DynamoDB for, for benches and the service's own metrics. */
export interface DynamoStoreStats {
  /** Write requests sent (TransactWriteItems, UpdateItem, BatchWriteItem, PutItem), retries included. */
  writeRequests: number;
  transactions: number;
  /** Transactions cancelled (condition failures, conflicts). */
  cancelled: number;
  /** Backoff sleeps after throttling or conflicts. */
  retries: number;
  /** Write capacity units reported by DynamoDB (ReturnConsumedCapacity TOTAL). */
  wcu: number;
  readRequests: number;
  rcu: number;
  /** Condition failures that cancelled a transaction, by the action that failed (ledger = duplicate). */
  conditionFailures: Record<string, number>;
}

/** Actions a builder may pack into one transaction: DynamoDB's 100, less the change index's (./change-index.ts). */
const MAX_ACTIONS = TRANSACT_MAX_ACTIONS - CHANGE_INDEX_ACTIONS;
/** Fixed actions of an apply part besides its series: ledger, plan header, group meta, generation shard, store counter. */
const PART_OVERHEAD = 5;

// ------------------------------------------------------------------------------------ apply internals

interface PReq {
  readonly idx: number;
  readonly id: string;
  /** Plan hash (shared/store/plan.ts), kept on the ledger header item. */
  readonly hash: string;
  /** Ledger key of the header when the request has several parts (each part's transaction checks it). */
  header?: string;
  readonly group: GroupingKey;
  readonly gpk: string;
  readonly eventTimeMs?: number;
  readonly rejected: RejectedOp[];
  readonly units: Unit[];
}

interface POp {
  readonly req: PReq;
  readonly index: number;
  readonly op: MetricOp;
  readonly labels: Labels;
  readonly sk: string;
  /** gpk + sk */
  readonly key: string;
  readonly schema: FamilySchema;
  readonly bounds?: readonly number[];
  readonly help?: string;
}

type UnitState = 'pending' | 'applied' | 'duplicate' | 'failed' | 'empty';

interface Unit {
  readonly req: PReq;
  /** Ledger key (parts of additive ops; every request has at least one); undefined for set units. */
  readonly ledger?: string;
  adds: POp[];
  sets: POp[];
  state: UnitState;
  error?: AccrueError;
}

interface SeriesAcc {
  readonly key: string;
  readonly gpk: string;
  readonly sk: string;
  readonly first: POp;
  isNew: boolean;
  /** Ops contributing (for limit rejections and drops). */
  readonly ops: POp[];
  scalar?: number;
  hist?: { cum: number[]; sum: number; count: number };
  set?: POp;
  /** Read-modify-write of a scalar whose value DynamoDB can't add to (huge, or stored as text): the value read. */
  rmw?: { old?: AttributeValue };
}

interface GroupAcc {
  readonly gpk: string;
  readonly group: GroupingKey;
  newSeries: SeriesAcc[];
  eventMax?: number;
}

interface FamAcc {
  readonly name: string;
  readonly schema: FamilySchema;
  newSeries: SeriesAcc[];
}

type Desc =
  | { readonly k: 'ledger'; readonly unit: Unit }
  | { readonly k: 'header'; readonly req: PReq }
  | { readonly k: 'series'; readonly acc: SeriesAcc }
  | { readonly k: 'meta'; readonly acc: GroupAcc; readonly withEvent: boolean }
  | { readonly k: 'family'; readonly acc: FamAcc }
  | { readonly k: 'total'; readonly news: SeriesAcc[] }
  | { readonly k: 'gen' };

interface PackKey {
  readonly gpk: string;
  readonly fam: string;
  set: boolean;
  add: boolean;
}

class Plan {
  readonly units: Unit[] = [];
  /** Series keys packed so far (to count actions and keep a set and an add of one series apart). */
  readonly keys = new Map<string, PackKey>();
  readonly series = new Map<string, SeriesAcc>();
  readonly groups = new Map<string, GroupAcc>();
  ledgers = 0;
}

/** Actions a plan needs: ledgers, series, and with any series the group metas, new-series counters and one generation shard. */
function countActions(keys: Map<string, PackKey>, ledgers: number, exists: (k: string) => boolean): number {
  if (keys.size === 0) return ledgers;
  const groups = new Set<string>();
  const fams = new Set<string>();
  let anyNew = false;
  for (const [k, p] of keys) {
    groups.add(p.gpk);
    if (!exists(k)) {
      anyNew = true;
      fams.add(p.fam);
    }
  }
  return ledgers + keys.size + groups.size + fams.size + 1 + (anyNew ? 1 : 0);
}

// ------------------------------------------------------------------------------------ the store

export class DynamoStore implements Store {
  readonly stats: DynamoStoreStats = {
    writeRequests: 0,
    transactions: 0,
    cancelled: 0,
    retries: 0,
    wcu: 0,
    readRequests: 0,
    rcu: 0,
    conditionFailures: {},
  };
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly ledgerTable: string;
  private readonly ledgerTtl: number;
  private readonly tombstoneTtl: number;
  private readonly limits: StoreLimits;
  private readonly now: () => number;
  private readonly retry: RetryPolicy;
  private readonly segments: number;
  private readonly ownsClient: boolean;
  private readonly wallNow: () => number;
  private readonly reader: SnapshotReader;
  /** Family schemas seen; they change only when a family has no series left (or on wipe), and every
   *  write creating a series re-checks the schema item in its transaction, so a stale entry is caught. */
  private readonly schemas = new Map<string, SchemaEntry>();
  /** Series known to exist (true) or not (false); a wrong guess fails a condition and is corrected. */
  private readonly exists = new Map<string, boolean>();
  /** Newest lastEventMs known per group, so that older event times don't cancel transactions. */
  private readonly eventFloor = new Map<string, number>();
  /** Series whose stored value DynamoDB can't add to (NaN, infinities, beyond its range): read-modify-write. */
  private readonly bigValue = new Set<string>();
  /** Newest gauge set known per series (time, value): older sets are dropped before they cancel a transaction. */
  private readonly setFloor = new Map<string, { readonly timeMs: number; readonly value: number }>();
  private closed = false;

  private constructor(o: DynamoStoreOptions) {
    this.client = o.client;
    this.table = o.seriesTable;
    this.ledgerTable = o.ledgerTable;
    this.ledgerTtl = o.ledgerTtlSeconds ?? 15 * 24 * 3600;
    this.tombstoneTtl = o.tombstoneTtlSeconds ?? this.ledgerTtl;
    this.limits = { ...DEFAULT_LIMITS, ...(o.limits ?? {}) };
    this.now = o.now ?? Date.now;
    this.retry = { ...DEFAULT_RETRY, ...(o.retry ?? {}) };
    this.segments = Math.max(1, o.scanSegments ?? 4);
    this.ownsClient = o.ownsClient ?? false;
    this.wallNow = o.wallNow ?? Date.now;
    this.reader = new SnapshotReader({
      client: this.client,
      table: this.table,
      read: (fn) => this.read(fn),
      wallNow: this.wallNow,
      now: this.now,
      segments: this.segments,
      overlapMs: o.changeOverlapMs ?? 10_000,
      resyncMs: o.resyncMs ?? 6 * 3600_000,
    });
  }

  /** Attempts per write under throttling or conflicts (the retry policy). */
  get retryAttempts(): number {
    return this.retry.attempts;
  }

  /** Opens the store on existing tables (see createTables) and checks that they answer. */
  static async open(o: DynamoStoreOptions): Promise<DynamoStore> {
    const store = new DynamoStore(o);
    await store.ping();
    return store;
  }

  // ================================================================================ apply

  async apply(requests: readonly ApplyRequest[]): Promise<ApplyResult[]> {
    this.assertOpen();
    const results: ApplyResult[] = new Array(requests.length);
    // Rounds of distinct ids: a repeated id in one batch is applied after its first occurrence.
    let rest = requests.map((r, i) => ({ r, i }));
    while (rest.length > 0) {
      const seen = new Set<string>();
      const round: { r: ApplyRequest; i: number }[] = [];
      const later: { r: ApplyRequest; i: number }[] = [];
      for (const x of rest) {
        const id = typeof x.r?.id === 'string' ? x.r.id : '';
        if (seen.has(id)) later.push(x);
        else {
          seen.add(id);
          round.push(x);
        }
      }
      const out = await this.applyRound(round.map((x) => x.r));
      round.forEach((x, k) => {
        results[x.i] = out[k]!;
      });
      rest = later;
    }
    return results;
  }

  private async applyRound(requests: readonly ApplyRequest[]): Promise<ApplyResult[]> {
    const results: (ApplyResult | undefined)[] = new Array(requests.length);
    const preqs: PReq[] = [];
    const allOps: POp[] = [];
    requests.forEach((r, idx) => {
      const id = r?.id;
      if (typeof id !== 'string' || id === '') {
        results[idx] = {
          id: String(id),
          status: 'failed',
          error: new ValidationError([{ path: 'id', message: 'must be a non-empty string' }]),
          rejected: [],
        };
        return;
      }
      let group: GroupingKey;
      try {
        group = normalizeGroupingKey(r.group as Record<string, unknown>);
      } catch (e) {
        results[idx] = { id, status: 'failed', error: toAccrue(e), rejected: [] };
        return;
      }
      const gl = groupLimitError(group, this.limits);
      if (gl) {
        results[idx] = { id, status: 'failed', error: gl, rejected: [] };
        return;
      }
      const plan = planOf(r);
      const preq: PReq = {
        idx,
        id,
        hash: plan.hash,
        group,
        gpk: groupPk(group),
        ...(typeof r.eventTimeMs === 'number' && Number.isFinite(r.eventTimeMs)
          ? { eventTimeMs: r.eventTimeMs }
          : {}),
        rejected: [],
        units: [],
      };
      preqs.push(preq);
      const ops: readonly MetricOp[] = Array.isArray(r.ops) ? r.ops : [];
      const gnames = groupShapeNames(group);
      const valid = new Map<number, POp>();
      ops.forEach((op, index) => {
        const problems = opProblems(op, index, group);
        if (problems.length > 0) {
          preq.rejected.push({ index, error: new ValidationError(problems) });
          return;
        }
        const big = rangeProblem(op, index);
        if (big) {
          preq.rejected.push({ index, error: big });
          return;
        }
        const type = opFamilyType(op.kind);
        const bounds = op.kind === 'histogram_observe' ? op.bounds : undefined;
        const schema = schemaOf(op.name, type, gnames, op.labels, bounds);
        const lim = seriesLabelLimitError(op.name, group, gnames, op.labels, this.limits);
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
          ...(bounds ? { bounds } : {}),
          ...(op.help ? { help: op.help } : {}),
        });
      });
      allOps.push(...valid.values());
      // Deterministic parts, cut over EVERY op of the request (valid or not) in the plan's canonical
      // order, greedily with worst-case overhead: the parts and their ledger keys depend on the message's
      // content only, never on what validation (limits, clock) accepted this time.
      const parts: POp[][] = [];
      let cur: POp[] = [];
      let size = 0;
      let fams = new Set<string>();
      for (const index of plan.order) {
        const op = ops[index] as { kind?: unknown; name?: unknown } | undefined;
        if (op?.kind === 'gauge_set') continue;
        const fam = String(op?.name);
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
      if (parts.length > 1) preq.header = ledgerKey(id);
      parts.forEach((part, k) => {
        preq.units.push({
          req: preq,
          ledger: ledgerKey(parts.length === 1 ? id : `${id}#${k}`),
          adds: part,
          sets: [],
          state: 'pending',
        });
      });
      // Gauge sets go first: a request's adds wait until its sets of the same series are written
      // (runUnits), so a set and an add of one series in one message give set + add on every store.
      const sets = [...valid.values()].filter((p) => p.op.kind === 'gauge_set');
      for (let i = 0; i < sets.length; i += 40) {
        preq.units.unshift({ req: preq, adds: [], sets: sets.slice(i, i + 40), state: 'pending' });
      }
    });

    const units = preqs.flatMap((p) => p.units);
    try {
      // Schemas and series existence are independent reads: one round trip instead of two (cold starts,
      // and every batch that brings new series). runUnits re-learns only what is still unknown.
      await Promise.all([this.resolveSchemas(allOps), this.learnExistence(units)]);
      await this.runUnits(units);
    } catch (e) {
      // A read or write that can't be retried here: what is still pending fails (goes back to the queue).
      const err = toAccrue(e);
      for (const u of units) {
        if (u.state !== 'pending') continue;
        u.state = 'failed';
        u.error = err;
      }
    }

    for (const p of preqs) {
      const ledgers = p.units.filter((u) => u.ledger !== undefined);
      const failed = p.units.find((u) => u.state === 'failed');
      const rejected = [...p.rejected].sort((a, b) => a.index - b.index);
      if (failed) {
        results[p.idx] = {
          id: p.id,
          status: 'failed',
          error: failed.error ?? new TransientError(`request ${p.id}: not applied`),
          rejected,
        };
      } else if (ledgers.length > 0 && ledgers.every((u) => u.state === 'duplicate')) {
        results[p.idx] = { id: p.id, status: 'duplicate', rejected };
      } else {
        results[p.idx] = { id: p.id, status: 'applied', rejected };
      }
    }
    return results as ApplyResult[];
  }

  /** Fails every unit of a request still pending (nothing of it is written from now on). */
  private failRequest(r: PReq, error: AccrueError): void {
    for (const u of r.units) {
      if (u.state !== 'pending') continue;
      u.state = 'failed';
      u.error = error;
    }
  }

  /** Rejects an op in its request and removes it from its unit. */
  private rejectOp(op: POp, error: AccrueError): void {
    if (op.req.rejected.some((r) => r.index === op.index)) return;
    op.req.rejected.push({ index: op.index, error: withPath(error, `ops[${op.index}]`) });
    for (const u of op.req.units) {
      u.adds = u.adds.filter((x) => x !== op);
      u.sets = u.sets.filter((x) => x !== op);
    }
  }

  /**
   * Family consistency for a batch: the stored schema (cached, else read) or, for a family new to the
   * store (or left without series), the first definition in the batch, created with a conditional put.
   */
  private async resolveSchemas(ops: POp[], fresh = false): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const names = [...new Set(ops.map((o) => o.op.name))].filter((nm) => fresh || !this.schemas.has(nm));
      if (names.length > 0) await this.loadSchemas(names);
      fresh = false;
      const defs = new Map<string, POp>();
      const live = ops.filter((o) => !o.req.rejected.some((r) => r.index === o.index));
      for (const o of live) {
        const stored = this.schemas.get(o.op.name);
        const def = defs.get(o.op.name);
        if (def) {
          const c = familyConflict(def.schema, o.schema);
          if (c) this.rejectOp(o, c);
          continue;
        }
        if (stored && (stored.count > 0 || !familyConflict(stored.schema, o.schema))) {
          const c = familyConflict(stored.schema, o.schema);
          if (c) this.rejectOp(o, c);
          continue;
        }
        defs.set(o.op.name, o);
      }
      // Families to (re)define: absent, or present without series and defined differently.
      const toCreate = await this.withoutReservedConflicts(
        [...defs.values()].filter((d) => {
          const st = this.schemas.get(d.op.name);
          return !st || familyConflict(st.schema, d.schema);
        }),
        live,
      );
      let lost = false;
      await Promise.all(
        toCreate.map(async (d) => {
          const ok = await this.putSchema(
            d.schema,
            d.bounds ?? [],
            d.help,
            this.schemas.get(d.op.name)?.count,
          );
          if (!ok) {
            this.schemas.delete(d.op.name);
            lost = true;
          }
        }),
      );
      // HELP: the first non-empty one is kept; set once per family when the stored schema has none.
      const helps = new Map<string, string>();
      for (const o of live)
        if (o.help && !this.schemas.get(o.op.name)?.help && !helps.has(o.op.name))
          helps.set(o.op.name, o.help);
      await Promise.all([...helps].map(([nm, h]) => this.setHelp(nm, h)));
      if (!lost) return;
    }
  }

  /**
   * Families about to be defined whose name collides with a histogram/summary's `_bucket`/`_sum`/`_count`
   * (`reservedNameConflict`, the rule both stores share): their ops are rejected. Reads the schemas the
   * rule needs; the first definition in the batch wins over later ones.
   */
  private async withoutReservedConflicts(defs: POp[], live: POp[]): Promise<POp[]> {
    if (defs.length === 0) return defs;
    const need = new Set<string>();
    for (const d of defs)
      for (const c of reservedNameCandidates(d.op.name, d.schema.type)) if (!this.schemas.has(c)) need.add(c);
    if (need.size > 0) await this.loadSchemas([...need]);
    const accepted = new Map<string, MetricType>();
    const lookup = (nm: string): MetricType | undefined => {
      const st = this.schemas.get(nm);
      return accepted.get(nm) ?? (st && st.count > 0 ? st.schema.type : undefined);
    };
    const out: POp[] = [];
    for (const d of defs) {
      const c = reservedNameConflict(d.op.name, d.schema.type, lookup);
      if (c) {
        for (const o of live) if (o.op.name === d.op.name) this.rejectOp(o, c);
        continue;
      }
      accepted.set(d.op.name, d.schema.type);
      out.push(d);
    }
    return out;
  }

  private async loadSchemas(names: string[]): Promise<void> {
    const keys = names.map((nm) => ({ pk: s(schemaPk(nm)), sk: s(SK_SCHEMA) }));
    const items = await this.batchGet(keys);
    const found = new Set<string>();
    for (const it of items) {
      const e = schemaFromItem(it);
      if (e) {
        this.schemas.set(e.schema.name, e);
        found.add(e.schema.name);
      }
    }
    for (const nm of names) if (!found.has(nm)) this.schemas.delete(nm);
  }

  /** Creates (or redefines, when it has no series) a schema item. False when someone else won. */
  private async putSchema(
    schema: FamilySchema,
    bounds: readonly number[],
    help: string | undefined,
    knownCount: number | undefined,
  ): Promise<boolean> {
    const e = new Expr();
    const item: Item = {
      pk: s(schemaPk(schema.name)),
      sk: s(SK_SCHEMA),
      name: s(schema.name),
      t: s(schema.type),
      shape: s(schema.shape),
      bk: s(schema.buckets),
      b: numList(bounds),
      n: n(0),
      ...(help ? { help: s(help) } : {}),
    };
    const cond =
      knownCount === undefined
        ? `attribute_not_exists(${e.n('pk')})`
        : `attribute_not_exists(${e.n('pk')}) OR ${e.n('n')} = ${e.v(n(0))}`;
    try {
      await this.write(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: item.pk!, sk: item.sk! },
            UpdateExpression: `SET ${Object.keys(item)
              .filter((k) => k !== 'pk' && k !== 'sk')
              .map((k) => `${e.n(k)} = ${e.v(item[k]!)}`)
              .join(', ')}`,
            ConditionExpression: cond,
            ReturnConsumedCapacity: 'TOTAL',
            ...e.parts(),
          }),
        ),
      );
      this.schemas.set(schema.name, { schema, bounds, ...(help ? { help } : {}), count: 0 });
      return true;
    } catch (err) {
      if ((err as Error)?.name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  private async setHelp(name: string, help: string): Promise<void> {
    const e = new Expr();
    try {
      // A transaction of one update, so that it carries a change item: readers learn the new HELP.
      await this.transact([
        {
          Update: {
            TableName: this.table,
            Key: { pk: s(schemaPk(name)), sk: s(SK_SCHEMA) },
            UpdateExpression: `SET ${e.n('help')} = ${e.v(s(help))}`,
            ConditionExpression: `attribute_exists(${e.n('pk')}) AND attribute_not_exists(${e.n('help')})`,
            ...e.parts(),
          },
        },
      ]);
    } catch (err) {
      if (!cancellationReasons(err)?.some((r) => r.Code === 'ConditionalCheckFailed')) throw err;
    }
    const cur = this.schemas.get(name);
    if (cur && !cur.help) this.schemas.set(name, { ...cur, help });
  }

  /** Existence of series not yet known, with consistent batched reads. */
  private async learnExistence(units: Unit[]): Promise<void> {
    const unknown = new Map<string, POp>();
    for (const u of units)
      for (const o of [...u.adds, ...u.sets])
        if (!this.exists.has(o.key) && !unknown.has(o.key)) unknown.set(o.key, o);
    const metas = new Set<string>();
    for (const u of units) if (!this.eventFloor.has(u.req.gpk)) metas.add(u.req.gpk);
    if (unknown.size === 0 && metas.size === 0) return;
    if (this.exists.size > 500_000) {
      this.exists.clear();
      this.setFloor.clear();
    }
    const ops = [...unknown.values()];
    const items = await this.batchGet(
      [
        ...ops.map((o) => ({ pk: s(o.req.gpk), sk: s(o.sk) })),
        ...[...metas].map((gpk) => ({ pk: s(gpk), sk: s(SK_META) })),
      ],
      'pk, sk, ts, v, sv, lastEventMs',
    );
    const found = new Set<string>();
    for (const it of items) {
      const key = `${it.pk?.S}|${it.sk?.S}`;
      if (it.sk?.S === SK_META) {
        this.eventFloor.set(it.pk!.S!, readNumber(it.lastEventMs) ?? Number.NEGATIVE_INFINITY);
        continue;
      }
      found.add(key);
      const ts = readNumber(it.ts);
      const v = readNumber(it.sv) ?? readNumber(it.v);
      if (ts !== undefined && v !== undefined) this.noteSet(key, ts, v);
    }
    for (const gpk of metas)
      if (!this.eventFloor.has(gpk)) this.eventFloor.set(gpk, Number.NEGATIVE_INFINITY);
    for (const o of ops) this.exists.set(o.key, found.has(o.key));
  }

  /**
   * Scalars DynamoDB can't ADD (a delta of 1e20 or more, or a stored value kept as text) are written as
   * read-modify-write: read here (consistent), written with a condition on the value read.
   */
  private async readForRmw(plan: Plan): Promise<void> {
    const need: SeriesAcc[] = [];
    for (const a of plan.series.values()) {
      if (a.scalar === undefined || a.set) continue;
      if (Math.abs(a.scalar) >= MAX_DELTA || this.bigValue.has(a.key)) need.push(a);
    }
    if (need.length === 0) return;
    const items = await this.batchGet(
      need.filter((a) => !a.isNew).map((a) => ({ pk: s(a.gpk), sk: s(a.sk) })),
      'pk, sk, v',
    );
    const byKey = new Map(items.map((it) => [`${it.pk?.S}|${it.sk?.S}`, it]));
    for (const a of need) {
      const old = a.isNew ? undefined : byKey.get(a.key)?.v;
      a.rmw = old === undefined ? {} : { old };
    }
  }

  private noteSet(key: string, timeMs: number, value: number): void {
    const cur = this.setFloor.get(key);
    if (!cur || newerSet({ timeMs, value }, cur)) this.setFloor.set(key, { timeMs, value });
  }

  /** Drops sets that are known to be stale (not newer than the newest set known for their series). */
  private dropKnownStaleSets(units: Unit[]): void {
    for (const u of units) {
      if (u.sets.length === 0) continue;
      u.sets = u.sets.filter((o) => {
        const floor = this.setFloor.get(o.key);
        return !floor || newerSet(o.op as { value: number; timeMs: number }, floor);
      });
    }
  }

  private async runUnits(units: Unit[]): Promise<void> {
    let transientAttempts = 0;
    let lastTransient: unknown;
    const recheck: POp[] = [];
    for (let loop = 0; loop < 64; loop++) {
      if (recheck.length > 0) await this.resolveSchemas(recheck.splice(0), true);
      if (!units.some((u) => u.state === 'pending')) return;
      const pending = units.filter((u) => u.state === 'pending' && !waitsForSets(u));
      await this.learnExistence(pending);
      this.dropKnownStaleSets(pending);
      const plans = this.pack(pending);
      let transient = false;
      for (const plan of plans) {
        const r = await this.execPlan(plan, recheck);
        if (r === 'transient') transient = true;
        else if (r instanceof Error) {
          lastTransient = r;
          transient = true;
        }
      }
      if (transient) {
        transientAttempts++;
        if (transientAttempts >= this.retry.attempts) break;
        this.stats.retries++;
        await sleep(backoffMs(transientAttempts, this.retry));
      }
      if (lastTransient && !transient) lastTransient = undefined;
    }
    for (const u of units) {
      if (u.state === 'pending') {
        u.state = 'failed';
        u.error ??= new TransientError(
          `request ${u.req.id}: DynamoDB write still failing after ${this.retry.attempts} attempts${lastTransient ? `: ${describe(lastTransient)}` : ''}`,
          { cause: lastTransient },
        );
      }
    }
  }

  /** Packs units into plans of at most 100 actions, in order; a set and an add of one series never share one. */
  private pack(unsorted: Unit[]): Plan[] {
    // Units of one group next to each other (stable): they share series, so more of them fit in one
    // transaction. Order between requests doesn't matter: adds commute, sets are ordered by event time.
    const rank = new Map<string, number>();
    for (const u of unsorted) if (!rank.has(u.req.gpk)) rank.set(u.req.gpk, rank.size);
    const units = unsorted
      .map((u, i) => ({ u, i }))
      .sort((a, b) => rank.get(a.u.req.gpk)! - rank.get(b.u.req.gpk)! || a.i - b.i)
      .map((x) => x.u);
    const plans: Plan[] = [];
    const exists = (k: string) => this.exists.get(k) === true;
    let plan = new Plan();
    for (const u of units) {
      if (!this.fits(plan, u, exists)) {
        if (plan.units.length > 0) plans.push(plan);
        plan = new Plan();
      }
      this.addToPlan(plan, u);
    }
    if (plan.units.length > 0) plans.push(plan);
    return plans;
  }

  private fits(plan: Plan, u: Unit, exists: (k: string) => boolean): boolean {
    if (plan.units.length === 0) return true;
    const keys = new Map(plan.keys);
    for (const o of u.adds) {
      const k = keys.get(o.key);
      if (k?.set) return false;
      if (!k) keys.set(o.key, { gpk: o.req.gpk, fam: o.op.name, set: false, add: true });
    }
    for (const o of u.sets) {
      const k = keys.get(o.key);
      if (k?.add) return false;
      if (!k) keys.set(o.key, { gpk: o.req.gpk, fam: o.op.name, set: true, add: false });
    }
    return countActions(keys, plan.ledgers + (u.ledger ? 1 : 0), exists) <= MAX_ACTIONS;
  }

  private addToPlan(plan: Plan, u: Unit): void {
    plan.units.push(u);
    if (u.ledger) plan.ledgers++;
    for (const o of u.adds) {
      const k = plan.keys.get(o.key);
      if (k) k.add = true;
      else plan.keys.set(o.key, { gpk: o.req.gpk, fam: o.op.name, set: false, add: true });
    }
    for (const o of u.sets) {
      const k = plan.keys.get(o.key);
      if (k) k.set = true;
      else plan.keys.set(o.key, { gpk: o.req.gpk, fam: o.op.name, set: true, add: false });
    }
  }

  /** Builds the accumulators of a plan from its live units. */
  private accumulate(plan: Plan): void {
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
            isNew: this.exists.get(o.key) !== true,
            ops: [],
          };
          plan.series.set(o.key, a);
        }
        const op = o.op;
        if (op.kind === 'histogram_observe' && a.hist && !sameBounds(a.first.bounds, op.bounds)) {
          this.rejectOp(o, bucketLayoutConflict(op.name, a.first.bounds ?? [], op.bounds)!);
          continue;
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

  /** One attempt at a plan: 'ok', 'again' (retry now), 'transient' (back off), or an error (back off). */
  private async execPlan(plan: Plan, recheck: POp[]): Promise<'ok' | 'again' | 'transient' | Error> {
    this.accumulate(plan);
    const live = plan.units.filter((u) => u.state === 'pending');
    if (live.length === 0) return 'ok';
    await this.readForRmw(plan);
    const nowMs = this.now();
    const items: TransactWriteItem[] = [];
    const descs: Desc[] = [];
    const ledgerUnits = live.filter((u) => u.ledger !== undefined);
    const ttl = n(Math.floor(nowMs / 1000) + this.ledgerTtl);
    const headers = new Set<PReq>();
    for (const u of ledgerUnits) {
      const e = new Expr();
      // A one-part request's ledger item is its header: it carries the plan hash.
      const single = u.req.header === undefined;
      items.push({
        Put: {
          TableName: this.ledgerTable,
          Item: { id: s(u.ledger!), ttl, at: n(nowMs), ...(single ? { h: s(u.req.hash) } : {}) },
          ConditionExpression: `attribute_not_exists(${e.n('id')})`,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...e.parts(),
        },
      });
      descs.push({ k: 'ledger', unit: u });
      if (!single) headers.add(u.req);
    }
    for (const r of headers) {
      // Every part's transaction writes (or confirms) the header: a redelivery with another plan fails
      // this condition before any of its parts can commit.
      const e = new Expr();
      const hv = e.v(s(r.hash));
      items.push({
        Put: {
          TableName: this.ledgerTable,
          Item: {
            id: s(r.header!),
            ttl,
            at: n(nowMs),
            h: s(r.hash),
            np: n(r.units.filter((u) => u.ledger).length),
          },
          ConditionExpression: `attribute_not_exists(${e.n('id')}) OR ${e.n('h')} = ${hv}`,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...e.parts(),
        },
      });
      descs.push({ k: 'header', req: r });
    }
    const content = plan.series.size > 0;
    if (content) {
      const fams = new Map<string, FamAcc>();
      const news: SeriesAcc[] = [];
      for (const a of plan.series.values()) {
        items.push({ Update: this.seriesUpdate(a) });
        descs.push({ k: 'series', acc: a });
        if (a.isNew) {
          news.push(a);
          let f = fams.get(a.first.op.name);
          if (!f) {
            f = { name: a.first.op.name, schema: a.first.schema, newSeries: [] };
            fams.set(f.name, f);
          }
          f.newSeries.push(a);
        }
      }
      for (const g of plan.groups.values()) {
        const floor = this.eventFloor.get(g.gpk);
        const withEvent = g.eventMax !== undefined && (floor === undefined || g.eventMax > floor);
        items.push({ Update: this.metaApplyUpdate(g, nowMs, withEvent) });
        descs.push({ k: 'meta', acc: g, withEvent });
      }
      for (const f of fams.values()) {
        items.push({ Update: this.familyCounterUpdate(f.schema, f.newSeries.length) });
        descs.push({ k: 'family', acc: f });
      }
      if (news.length > 0) {
        items.push({ Update: this.totalCounterUpdate(news.length) });
        descs.push({ k: 'total', news });
      }
      const shard = shardOf(live[0]!.ledger ?? live[0]!.req.id);
      items.push({ Update: this.genUpdate(shard) });
      descs.push({ k: 'gen' });
    }
    if (items.length === 0) {
      for (const u of live) u.state = 'empty';
      return 'ok';
    }
    try {
      await this.transact(items);
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (reasons && !isTransient(err)) {
        recheck.push(...this.onCancelled(reasons, descs));
        return 'again';
      }
      if (isTransient(err)) return err as Error;
      // A request DynamoDB calls invalid will never pass; anything else (missing table, access denied)
      // is an operational problem: the message goes back to the queue instead of being dropped.
      const e =
        (err as Error)?.name === 'ValidationException'
          ? new AccrueError('internal', `DynamoDB refused a write: ${describe(err)}`)
          : new TransientError(`DynamoDB write failed: ${describe(err)}`, { cause: err });
      for (const u of live) {
        u.state = 'failed';
        u.error = e;
      }
      return 'ok';
    }
    // Committed.
    for (const u of live) {
      if (u.ledger !== undefined || u.adds.length > 0 || u.sets.length > 0) u.state = 'applied';
      else u.state = 'empty';
    }
    for (const a of plan.series.values()) {
      this.exists.set(a.key, true);
      if (a.rmw) {
        const stored = valueAttr((readNumber(a.rmw.old) ?? 0) + (a.scalar ?? 0));
        if (stored.S !== undefined) this.bigValue.add(a.key);
        else this.bigValue.delete(a.key);
      }
      if (a.set) {
        const op = a.set.op as { value: number; timeMs: number };
        this.noteSet(a.key, op.timeMs, op.value);
      }
    }
    for (const d of descs) {
      if (d.k === 'meta' && d.withEvent && d.acc.eventMax !== undefined)
        this.eventFloor.set(d.acc.gpk, d.acc.eventMax);
      if (d.k === 'family') {
        const cur = this.schemas.get(d.acc.name);
        if (cur) this.schemas.set(d.acc.name, { ...cur, count: cur.count + d.acc.newSeries.length });
      }
    }
    return 'ok';
  }

  /** Learns from a cancelled transaction: duplicates, stale sets, existence, limits, redefined families. */
  /** Returns the ops whose family schema must be read again (redefined or wiped meanwhile). */
  private onCancelled(reasons: CancellationReason[], descs: Desc[]): POp[] {
    const limitHits: { scope: SeriesLimit; news: SeriesAcc[]; have: number; max: number }[] = [];
    const refetch: POp[] = [];
    reasons.forEach((r, i) => {
      if (r.Code !== 'ConditionalCheckFailed') return;
      const d = descs[i];
      if (!d) return;
      const why = `${d.k}${d.k === 'series' ? (d.acc.isNew ? ':new' : d.acc.set ? ':set' : ':add') : ''}`;
      this.stats.conditionFailures[why] = (this.stats.conditionFailures[why] ?? 0) + 1;
      const item = r.Item;
      switch (d.k) {
        case 'ledger': {
          const h = readString(item?.h);
          if (h !== undefined && h !== d.unit.req.hash) {
            this.failRequest(d.unit.req, redeliveryMismatch(d.unit.req.id));
            break;
          }
          d.unit.state = 'duplicate';
          d.unit.adds = [];
          break;
        }
        case 'header':
          this.failRequest(d.req, redeliveryMismatch(d.req.id));
          break;
        case 'series': {
          const a = d.acc;
          if (!item) {
            this.exists.set(a.key, false);
            break;
          }
          if (a.isNew) {
            this.exists.set(a.key, true);
            break;
          }
          if (a.set) {
            const ts = readNumber(item.ts);
            const v = readNumber(item.sv) ?? readNumber(item.v);
            if (ts !== undefined && v !== undefined) this.noteSet(a.key, ts, v);
            // Stored set is newer (or equal time, larger value): this set is stale.
            for (const o of a.ops)
              for (const u of o.req.units) u.sets = u.sets.filter((x) => x.key !== a.key);
          } else if (a.rmw) {
            // The value changed since it was read: read it again.
          } else if (a.scalar !== undefined) {
            // The stored value is not a number DynamoDB can add to: read-modify-write from now on.
            this.bigValue.add(a.key);
          } else {
            const bk = readString(item.bk);
            const stored = bk !== undefined ? readNumList(item.b) : undefined;
            if (stored && a.first.bounds && bk !== boundsKey(a.first.bounds)) {
              // Observations are added only into a series with the same bucket layout.
              for (const o of a.ops)
                this.rejectOp(o, bucketLayoutConflict(o.op.name, stored, o.bounds ?? [])!);
              break;
            }
            // A histogram whose sum was pushed as NaN/Inf: adding keeps it as it is (IEEE); counts are lost.
            for (const o of a.ops) for (const u of o.req.units) u.adds = u.adds.filter((x) => x !== o);
          }
          break;
        }
        case 'meta': {
          const g = d.acc;
          const have = readNumber(item?.n) ?? 0;
          if (g.newSeries.length > 0 && have + g.newSeries.length > this.limits.maxSeriesPerGroup) {
            limitHits.push({
              scope: 'maxSeriesPerGroup',
              news: g.newSeries,
              have,
              max: this.limits.maxSeriesPerGroup,
            });
          }
          const ev = readNumber(item?.lastEventMs);
          if (ev !== undefined && ev > (this.eventFloor.get(g.gpk) ?? Number.NEGATIVE_INFINITY))
            this.eventFloor.set(g.gpk, ev);
          break;
        }
        case 'family': {
          const f = d.acc;
          const stored = item ? schemaFromItem(item) : undefined;
          if (!stored || familyConflict(stored.schema, f.schema)) {
            if (stored) this.schemas.set(f.name, stored);
            else this.schemas.delete(f.name);
            for (const a of f.newSeries) refetch.push(...a.ops);
            break;
          }
          this.schemas.set(f.name, stored);
          limitHits.push({
            scope: 'maxSeriesPerFamily',
            news: f.newSeries,
            have: stored.count,
            max: this.limits.maxSeriesPerFamily,
          });
          break;
        }
        case 'total': {
          const have = readNumber(item?.n) ?? 0;
          limitHits.push({ scope: 'maxSeriesTotal', news: d.news, have, max: this.limits.maxSeriesTotal });
          break;
        }
        case 'gen':
          break;
      }
    });
    for (const h of limitHits) {
      const room = Math.max(0, h.max - h.have);
      h.news.forEach((a, k) => {
        if (k < room) return;
        for (const o of a.ops) this.rejectOp(o, this.limitErr(h.scope, a.first.op.name));
      });
    }
    return refetch;
  }

  private seriesUpdate(a: SeriesAcc): Update {
    const e = new Expr();
    const sets: string[] = [];
    const adds: string[] = [];
    const o = a.first;
    const conds: string[] = [];
    if (a.isNew) {
      sets.push(`${e.n('f')} = ${e.v(s(o.op.name))}`, `${e.n('l')} = ${e.v(labelsAttr(o.labels))}`);
      sets.push(`${e.n('t')} = ${e.v(s(o.schema.type))}`);
      conds.push(`attribute_not_exists(${e.n('pk')})`);
    } else {
      conds.push(`attribute_exists(${e.n('pk')})`);
    }
    if (a.set) {
      const op = a.set.op as Extract<MetricOp, { kind: 'gauge_set' }>;
      const vv = e.v(valueAttr(op.value));
      const tv = e.v(n(op.timeMs));
      sets.push(`${e.n('v')} = ${vv}`, `${e.n('ts')} = ${tv}`, `${e.n('sv')} = ${vv}`);
      if (!a.isNew) {
        // Ties compare with the last SET's value `sv` (adds may have moved `v`): a redelivered set is
        // stale and never undoes later adds. Items written before `sv` existed compare with `v`.
        const ts = e.n('ts');
        const sv = e.n('sv');
        conds.push(
          `(attribute_not_exists(${ts}) OR ${ts} < ${tv} OR (${ts} = ${tv} AND (${sv} < ${vv} OR (attribute_not_exists(${sv}) AND ${e.n('v')} < ${vv}))))`,
        );
      }
    } else if (a.hist) {
      const bounds = a.first.bounds ?? [];
      if (a.isNew)
        sets.push(`${e.n('b')} = ${e.v(numList(bounds))}`, `${e.n('bk')} = ${e.v(s(boundsKey(bounds)))}`);
      else conds.push(`(attribute_not_exists(${e.n('bk')}) OR ${e.n('bk')} = ${e.v(s(boundsKey(bounds)))})`);
      adds.push(
        `${e.n('c')} ${e.v({ N: deltaString(a.hist.count) })}`,
        `${e.n('s')} ${e.v({ N: deltaString(a.hist.sum) })}`,
      );
      a.hist.cum.forEach((c, i) => {
        if (c !== 0 || a.isNew) adds.push(`${e.n(`b${i}`)} ${e.v({ N: deltaString(c) })}`);
      });
      if (!a.isNew)
        conds.push(`(attribute_not_exists(${e.n('s')}) OR attribute_type(${e.n('s')}, ${e.v(s('N'))}))`);
    } else if (a.rmw) {
      // Exact float addition, written back only if the value is still the one read.
      const old = a.rmw.old;
      sets.push(`${e.n('v')} = ${e.v(valueAttr((readNumber(old) ?? 0) + (a.scalar ?? 0)))}`);
      conds.push(old === undefined ? `attribute_not_exists(${e.n('v')})` : `${e.n('v')} = ${e.v(old)}`);
    } else {
      adds.push(`${e.n('v')} ${e.v({ N: deltaString(a.scalar ?? 0) })}`);
      if (!a.isNew)
        conds.push(`(attribute_not_exists(${e.n('v')}) OR attribute_type(${e.n('v')}, ${e.v(s('N'))}))`);
    }
    const expr = [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    return {
      TableName: this.table,
      Key: { pk: s(a.gpk), sk: s(a.sk) },
      UpdateExpression: expr,
      ConditionExpression: conds.join(' AND '),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...e.parts(),
    };
  }

  private metaApplyUpdate(g: GroupAcc, nowMs: number, withEvent: boolean): Update {
    const e = new Expr();
    const conds: string[] = [];
    const sets = [
      `${e.n('l')} = if_not_exists(${e.n('l')}, ${e.v(labelsAttr(g.group))})`,
      `${e.n('lastUpdateMs')} = ${e.v(n(nowMs))}`,
      `${e.n('lastPushMs')} = ${e.v(n(nowMs))}`,
    ];
    if (withEvent && g.eventMax !== undefined) {
      // Not conditional (a condition would cancel the whole transaction on an older event time): the
      // floor known to this process (read from the table on first use) keeps it from going back.
      sets.push(`${e.n('lastEventMs')} = ${e.v(n(g.eventMax))}`);
    }
    let add = '';
    const k = g.newSeries.length;
    if (k > 0) {
      add = ` ADD ${e.n('n')} ${e.v(n(k))}`;
      conds.push(limitCond(e, this.limits.maxSeriesPerGroup - k));
    }
    return {
      TableName: this.table,
      Key: { pk: s(g.gpk), sk: s(SK_META) },
      UpdateExpression: `SET ${sets.join(', ')}${add} REMOVE ${e.n('deleted')}, ${e.n('expiresAt')}`,
      ...(conds.length > 0 ? { ConditionExpression: conds.join(' AND ') } : {}),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...e.parts(),
    };
  }

  private familyCounterUpdate(schema: FamilySchema, k: number): Update {
    const e = new Expr();
    const conds = [`${e.n('t')} = ${e.v(s(schema.type))}`];
    if (k > 0) conds.push(limitCond(e, this.limits.maxSeriesPerFamily - k));
    return {
      TableName: this.table,
      Key: { pk: s(schemaPk(schema.name)), sk: s(SK_SCHEMA) },
      UpdateExpression: `ADD ${e.n('n')} ${e.v(n(k))}`,
      ConditionExpression: conds.join(' AND '),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...e.parts(),
    };
  }

  private totalCounterUpdate(k: number): Update {
    return this.totalUpdate(k, k);
  }

  /** Adds `add` to the store's series count; with `limitDelta` > 0, only if that many more still fit. */
  private totalUpdate(add: number, limitDelta: number): Update {
    const e = new Expr();
    return {
      TableName: this.table,
      Key: { pk: s(PK_TOTAL), sk: s(SK_TOTAL) },
      UpdateExpression: `ADD ${e.n('n')} ${e.v(n(add))}`,
      ...(limitDelta > 0
        ? { ConditionExpression: limitCond(e, this.limits.maxSeriesTotal - limitDelta) }
        : {}),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...e.parts(),
    };
  }

  private genUpdate(shard: number): Update {
    const e = new Expr();
    return {
      TableName: this.table,
      Key: genKey(shard),
      UpdateExpression: `ADD ${e.n('n')} ${e.v(n(1))}`,
      ...e.parts(),
    };
  }

  // ================================================================================ pushes

  async push(request: PushRequest): Promise<PushResult> {
    this.assertOpen();
    const group = validatePush(request);
    const gl = groupLimitError(group, this.limits);
    if (gl) throw gl;
    const t = request.pushTimeMs;
    if (request.method === 'DELETE') return this.deleteAt(group, t);
    const gnames = groupShapeNames(group);
    // Per family: the type (label names and bucket layouts may differ between series); label limits.
    const fams = request.families.map((f) => {
      let schema: FamilySchema | undefined;
      for (const sr of f.series) {
        schema ??= schemaOf(f.name, f.type, gnames, sr.labels);
        const lim = seriesLabelLimitError(f.name, group, gnames, sr.labels, this.limits);
        if (lim) throw lim;
      }
      return { family: f, schema, bounds: [] as number[] };
    });
    const gpk = groupPk(group);
    for (let attempt = 0; attempt < 6; attempt++) {
      const part = await this.queryGroup(gpk);
      const meta = part.meta;
      const putTs = readNumber(meta?.putTs);
      const pending = readNumber(meta?.pending);
      if ((putTs !== undefined && putTs > t) || (pending !== undefined && pending > t))
        return { status: 'stale' };
      const pushed = new Set(fams.map((f) => f.family.name));
      for (const [fam, ts] of part.pushTs) {
        if (ts > t && (request.method === 'PUT' || pushed.has(fam))) return { status: 'stale' };
      }
      // Old series being replaced, per family.
      const removed = new Map<string, Item[]>();
      for (const it of part.series) {
        const fam = it.f?.S ?? '';
        if (request.method === 'PUT' || pushed.has(fam)) {
          const l = removed.get(fam) ?? [];
          l.push(it);
          removed.set(fam, l);
        }
      }
      const oldKeys = new Set(part.series.map((it) => it.sk!.S!));
      // Schemas, read fresh: pushes are rare next to applies and must be exact.
      const pushedTypes = new Map<string, MetricType>();
      const reservedNames: string[] = [];
      for (const f of fams) {
        if (!f.schema) continue;
        pushedTypes.set(f.family.name, f.family.type);
        reservedNames.push(...reservedNameCandidates(f.family.name, f.family.type));
      }
      const famNames = [...new Set([...pushed, ...removed.keys(), ...reservedNames])];
      await this.loadSchemas(famNames);
      const definedType = (nm: string): MetricType | undefined => {
        const st = this.schemas.get(nm);
        return pushedTypes.get(nm) ?? (st && st.count > 0 ? st.schema.type : undefined);
      };
      // Per family: what the first transaction defines or checks (new family, redefinition, limit, HELP).
      // The counts themselves follow the items, transaction by transaction (countedChunks).
      const firstDefs = new Map<string, (d: number) => TransactWriteItem>();
      let totalDelta = 0;
      for (const f of fams) {
        const name = f.family.name;
        const newCount = f.family.series.length;
        const here = removed.get(name)?.length ?? 0;
        const delta = newCount - here;
        totalDelta += delta;
        const stored = this.schemas.get(name);
        if (!f.schema) continue; // an empty family: removes its series here (their deletes count), defines nothing
        if (!stored || stored.count === here) {
          const rc = reservedNameConflict(name, f.family.type, definedType);
          if (rc) throw rc;
        }
        if (!stored || (familyConflict(stored.schema, f.schema) && stored.count === here)) {
          // New family, or redefinition of one whose only series are the ones this push replaces.
          if (newCount > this.limits.maxSeriesPerFamily) throw this.limitErr('maxSeriesPerFamily', name);
          const schema = f.schema;
          const help = f.family.help || stored?.help;
          firstDefs.set(name, (d) => {
            const e = new Expr();
            const item: Item = {
              pk: s(schemaPk(name)),
              sk: s(SK_SCHEMA),
              name: s(name),
              t: s(schema.type),
              shape: s(schema.shape),
              bk: s(schema.buckets),
              b: numList([]),
              // The series this push replaces are still there until their deletes commit (with their -1).
              n: n((stored ? here : 0) + d),
              ...(help ? { help: s(help) } : {}),
            };
            return {
              Put: {
                TableName: this.table,
                Item: item,
                ConditionExpression: stored
                  ? `${e.n('n')} = ${e.v(n(here))}`
                  : `attribute_not_exists(${e.n('pk')})`,
                ...e.parts(),
              },
            };
          });
          continue;
        }
        const c = familyConflict(stored.schema, f.schema);
        if (c) throw c;
        if (delta > 0 && stored.count + delta > this.limits.maxSeriesPerFamily)
          throw this.limitErr('maxSeriesPerFamily', name);
        const help = f.family.help && !stored.help ? f.family.help : undefined;
        const type = f.schema.type;
        if (delta > 0 || help) {
          firstDefs.set(name, (d) => {
            const e = new Expr();
            const conds = [`${e.n('t')} = ${e.v(s(type))}`];
            if (delta > 0) conds.push(limitCond(e, this.limits.maxSeriesPerFamily - delta));
            const h = help ? `, ${e.n('help')} = ${e.v(s(help))}` : '';
            return {
              Update: {
                TableName: this.table,
                Key: { pk: s(schemaPk(name)), sk: s(SK_SCHEMA) },
                UpdateExpression: `SET ${e.n('name')} = ${e.v(s(name))}${h} ADD ${e.n('n')} ${e.v(n(d))}`,
                ConditionExpression: conds.join(' AND '),
                ...e.parts(),
              },
            };
          });
        }
      }
      for (const [fam, items] of removed) if (!pushed.has(fam)) totalDelta -= items.length;
      const groupCount = part.series.length + totalDelta;
      if (totalDelta > 0 && groupCount > this.limits.maxSeriesPerGroup)
        throw this.limitErr('maxSeriesPerGroup', fams[0]?.family.name ?? '');
      if (totalDelta > 0) {
        const total = await this.readTotal();
        if (total + totalDelta > this.limits.maxSeriesTotal)
          throw this.limitErr('maxSeriesTotal', fams[0]?.family.name ?? '');
      }
      const entries: CountedEntry[] = [];
      // POST markers (ordering per family) and, for PUT, removal of all markers.
      const markerCond = (x: Expr) =>
        `attribute_not_exists(${x.n('pushTs')}) OR ${x.n('pushTs')} <= ${x.v(n(t))}`;
      if (request.method === 'PUT') {
        for (const fam of part.pushTs.keys()) {
          const x = new Expr();
          const Key = { pk: s(gpk), sk: s(familyPushSk(fam)) };
          entries.push({
            item: {
              Delete: { TableName: this.table, Key, ConditionExpression: markerCond(x), ...x.parts() },
            },
            delta: 0,
          });
        }
      } else {
        for (const fam of pushed) {
          const x = new Expr();
          const Item = { pk: s(gpk), sk: s(familyPushSk(fam)), fam: s(fam), pushTs: n(t) };
          entries.push({
            item: { Put: { TableName: this.table, Item, ConditionExpression: markerCond(x), ...x.parts() } },
            delta: 0,
          });
        }
      }
      // Series: puts (conditional on what we saw) first, then deletes of what is not pushed again; each
      // new or deleted series counts in the transaction that writes it.
      const newKeys = new Set<string>();
      for (const f of fams) {
        for (const sr of f.family.series) {
          const labels = copyLabels(sr.labels);
          const sk = seriesSk(f.family.name, labels);
          newKeys.add(sk);
          const x = new Expr();
          const existed = oldKeys.has(sk);
          entries.push({
            item: {
              Put: {
                TableName: this.table,
                Item: pushedSeriesItem(gpk, sk, f.family, sr, labels),
                ConditionExpression: existed
                  ? `attribute_exists(${x.n('pk')})`
                  : `attribute_not_exists(${x.n('pk')})`,
                ...x.parts(),
              },
            },
            family: f.family.name,
            delta: existed ? 0 : 1,
          });
        }
      }
      for (const items of removed.values()) {
        for (const it of items) {
          if (newKeys.has(it.sk!.S!)) continue;
          entries.push({ item: deleteExisting(this.table, it), family: it.f?.S ?? '', delta: -1 });
        }
      }
      const chunks = countedChunks({
        entries,
        headSize: 2,
        head: (c, groupDelta, final) => [
          this.pushMetaUpdate({
            gpk,
            group,
            t,
            put: request.method === 'PUT',
            c,
            groupDelta,
            totalDelta,
            final,
          }),
          { Update: this.genUpdate(shardOf(gpk)) },
        ],
        family: (name, c, d) =>
          c === 0 && firstDefs.has(name)
            ? firstDefs.get(name)!(d)
            : firstDefs.has(name) || this.schemas.has(name)
              ? { Update: this.familyDelta(name, d) }
              : undefined,
        total: (c, d) => ({ Update: this.totalUpdate(d, c === 0 ? totalDelta : 0) }),
        firstChunkFamilies: new Set(firstDefs.keys()),
        firstChunkTotal: totalDelta > 0,
      });
      const r = await this.writeGroupChunks(t, chunks);
      if (r === 'stale') return { status: 'stale' };
      if (r === 'ok') {
        for (const it of part.series) {
          this.exists.delete(`${gpk}|${it.sk!.S!}`);
          this.setFloor.delete(`${gpk}|${it.sk!.S!}`);
          this.bigValue.delete(`${gpk}|${it.sk!.S!}`);
        }
        for (const k of newKeys) {
          this.exists.set(`${gpk}|${k}`, true);
          this.setFloor.delete(`${gpk}|${k}`);
          this.bigValue.delete(`${gpk}|${k}`);
        }
        for (const f of fams) this.schemas.delete(f.family.name);
        return { status: 'applied' };
      }
      // 'retry': something changed under us; read again.
      await sleep(backoffMs(attempt, this.retry));
    }
    throw new TransientError(`push to group ${describeGroup(group)}: the group kept changing; retry later`);
  }

  private limitErr(scope: SeriesLimit, family: string): LimitError {
    return (
      seriesLimitError(
        family,
        {
          family: scope === 'maxSeriesPerFamily' ? this.limits.maxSeriesPerFamily + 1 : 0,
          group: scope === 'maxSeriesPerGroup' ? this.limits.maxSeriesPerGroup + 1 : 0,
          total: scope === 'maxSeriesTotal' ? this.limits.maxSeriesTotal + 1 : 0,
        },
        this.limits,
      ) ?? new LimitError(scope, `family ${family}: over ${scope}`)
    );
  }

  private familyDelta(name: string, delta: number): Update {
    const e = new Expr();
    return {
      TableName: this.table,
      Key: { pk: s(schemaPk(name)), sk: s(SK_SCHEMA) },
      UpdateExpression: `ADD ${e.n('n')} ${e.v(n(delta))}`,
      ConditionExpression: `attribute_exists(${e.n('pk')})`,
      ...e.parts(),
    };
  }

  /**
   * The group's meta update every push transaction starts with; its condition orders pushes by time: the
   * first transactions mark the group `pending = t` (a newer push takes over and makes this one stale),
   * the last sets `putTs`/`lastPushMs` and clears it. It adds the transaction's own series delta to `n`;
   * the first also checks the group limit for the whole push.
   */
  private pushMetaUpdate(o: {
    gpk: string;
    group: GroupingKey;
    t: number;
    put: boolean;
    c: number;
    groupDelta: number;
    totalDelta: number;
    final: boolean;
  }): TransactWriteItem {
    const e = new Expr();
    const tv = e.v(n(o.t));
    const sets = [
      `${e.n('l')} = ${e.v(labelsAttr(o.group))}`,
      `${e.n('lastUpdateMs')} = ${e.v(n(this.now()))}`,
    ];
    const removes: string[] = [e.n('deleted'), e.n('expiresAt')];
    if (o.final) {
      sets.push(`${e.n('lastPushMs')} = ${tv}`);
      if (o.put) sets.push(`${e.n('putTs')} = ${tv}`);
      removes.push(e.n('pending'));
    } else {
      sets.push(`${e.n('pending')} = ${tv}`);
    }
    const conds = [
      `(attribute_not_exists(${e.n('putTs')}) OR ${e.n('putTs')} <= ${tv})`,
      `(attribute_not_exists(${e.n('pending')}) OR ${e.n('pending')} <= ${tv})`,
    ];
    const add = o.groupDelta !== 0 ? ` ADD ${e.n('n')} ${e.v(n(o.groupDelta))}` : '';
    if (o.c === 0 && o.totalDelta > 0) conds.push(limitCond(e, this.limits.maxSeriesPerGroup - o.totalDelta));
    return {
      Update: {
        TableName: this.table,
        Key: { pk: s(o.gpk), sk: s(SK_META) },
        UpdateExpression: `SET ${sets.join(', ')}${add} REMOVE ${removes.join(', ')}`,
        ConditionExpression: conds.join(' AND '),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...e.parts(),
      },
    };
  }

  /** Runs a push's transactions in order; 'stale' when a newer push holds the group, 'retry' when the group changed. */
  private async writeGroupChunks(
    t: number,
    chunks: TransactWriteItem[][],
  ): Promise<'ok' | 'stale' | 'retry'> {
    for (const items of chunks) {
      try {
        await this.withRetries(() => this.transact(items));
      } catch (err) {
        const reasons = cancellationReasons(err);
        if (!reasons) throw toAccrue(err);
        const meta = reasons[0];
        if (meta?.Code === 'ConditionalCheckFailed') {
          const putTs = readNumber(meta.Item?.putTs);
          const pending = readNumber(meta.Item?.pending);
          if ((putTs !== undefined && putTs > t) || (pending !== undefined && pending > t)) return 'stale';
        }
        return 'retry';
      }
    }
    return 'ok';
  }

  async recordPushFailure(group: GroupingKey, timeMs: number, reason: string): Promise<void> {
    this.assertOpen();
    const g = normalizeGroupingKey(group as Record<string, unknown>);
    const gl = groupLimitError(g, this.limits);
    if (gl) throw gl;
    if (!Number.isFinite(timeMs))
      throw new ValidationError([{ path: 'timeMs', message: 'must be a finite number' }]);
    const e = new Expr();
    await this.withRetries(() =>
      this.transact([
        {
          Update: {
            TableName: this.table,
            Key: { pk: s(groupPk(g)), sk: s(SK_META) },
            UpdateExpression: `SET ${e.n('l')} = if_not_exists(${e.n('l')}, ${e.v(labelsAttr(g))}), ${e.n('lastPushFailureMs')} = ${e.v(n(timeMs))}, ${e.n('lastFailureReason')} = ${e.v(s(failureReason(reason)))}, ${e.n('lastUpdateMs')} = ${e.v(n(this.now()))} REMOVE ${e.n('deleted')}, ${e.n('expiresAt')}`,
            ...e.parts(),
          },
        },
        { Update: this.genUpdate(shardOf(groupPk(g))) },
      ]),
    );
  }

  async deleteGroup(group: GroupingKey, timeMs: number): Promise<void> {
    this.assertOpen();
    const g = normalizeGroupingKey(group as Record<string, unknown>);
    const gl = groupLimitError(g, this.limits);
    if (gl) throw gl;
    await this.deleteAt(g, timeMs);
  }

  /** DELETE at time t: a tombstone meta item (hides the group at once), then the group's items go. */
  private async deleteAt(group: GroupingKey, t: number): Promise<PushResult> {
    const gpk = groupPk(group);
    for (let attempt = 0; attempt < 6; attempt++) {
      const part = await this.queryGroup(gpk);
      const meta = part.meta;
      const putTs = readNumber(meta?.putTs);
      const pending = readNumber(meta?.pending);
      if ((putTs !== undefined && putTs > t) || (pending !== undefined && pending > t))
        return { status: 'stale' };
      for (const ts of part.pushTs.values()) if (ts > t) return { status: 'stale' };
      const visible = meta !== undefined && meta.deleted === undefined;
      const e = new Expr();
      const tomb: TransactWriteItem = {
        Put: {
          TableName: this.table,
          Item: {
            pk: s(gpk),
            sk: s(SK_META),
            l: labelsAttr(group),
            deleted: { BOOL: true },
            putTs: n(t),
            lastUpdateMs: n(this.now()),
            n: n(0),
            expiresAt: n(Math.floor(this.now() / 1000) + this.tombstoneTtl),
          },
          ConditionExpression: `attribute_not_exists(${e.n('pk')}) OR ((attribute_not_exists(${e.n('putTs')}) OR ${e.n('putTs')} <= ${e.v(n(t))}) AND (attribute_not_exists(${e.n('pending')}) OR ${e.n('pending')} <= ${e.v(n(t))}))`,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...e.parts(),
        },
      };
      const first: TransactWriteItem[] = [tomb];
      if (visible || part.series.length > 0) first.push({ Update: this.genUpdate(shardOf(gpk)) });
      const guard = (): TransactWriteItem => {
        const x = new Expr();
        return {
          ConditionCheck: {
            TableName: this.table,
            Key: { pk: s(gpk), sk: s(SK_META) },
            ConditionExpression: `${x.n('deleted')} = ${x.v({ BOOL: true })} AND ${x.n('putTs')} = ${x.v(n(t))}`,
            ...x.parts(),
          },
        };
      };
      const r = await this.removeItems(gpk, part, first, guard);
      if (r === 'ok') return { status: 'applied' };
      if (r === 'stale') return { status: 'stale' };
      await sleep(backoffMs(attempt, this.retry));
    }
    throw new TransientError(`DELETE of group ${describeGroup(group)}: the group kept changing; retry later`);
  }

  /**
   * Removes a group's series and markers, adjusting the counters, in transactions of at most 100
   * actions. `first` (the meta change that decides) goes into the first transaction; later transactions
   * carry `guard()` so that they stop if the group was written again meanwhile.
   */
  private async removeItems(
    gpk: string,
    part: GroupPartition,
    first: TransactWriteItem[],
    guard: () => TransactWriteItem,
  ): Promise<'ok' | 'stale' | 'retry'> {
    const fams = new Set<string>();
    for (const it of part.series) fams.add(it.f?.S ?? '');
    if (fams.size > 0) await this.loadSchemas([...fams]);
    const entries: CountedEntry[] = [
      ...part.series.map((it) => ({
        item: deleteExisting(this.table, it),
        family: it.f?.S ?? '',
        delta: -1,
      })),
      ...part.markers.map((it) => ({ item: deleteExisting(this.table, it), delta: 0 })),
    ];
    const chunks = countedChunks({
      entries,
      headSize: Math.max(first.length, 1),
      head: (c) => (c === 0 ? [...first] : [guard()]),
      family: (name, _c, d) => (this.schemas.has(name) ? { Update: this.familyDelta(name, d) } : undefined),
      total: (_c, d) => ({ Update: this.totalCounterUpdate(d) }),
    });
    for (let c = 0; c < chunks.length; c++) {
      try {
        await this.withRetries(() => this.transact(chunks[c]!));
      } catch (err) {
        const reasons = cancellationReasons(err);
        if (!reasons) throw toAccrue(err);
        if (c === 0 && reasons[0]?.Code === 'ConditionalCheckFailed') return 'stale';
        if (c > 0 && reasons[0]?.Code === 'ConditionalCheckFailed') return 'ok'; // written again meanwhile
        return 'retry';
      }
    }
    for (const it of part.series) {
      this.exists.delete(`${gpk}|${it.sk!.S!}`);
      this.setFloor.delete(`${gpk}|${it.sk!.S!}`);
      this.bigValue.delete(`${gpk}|${it.sk!.S!}`);
    }
    for (const f of fams) this.schemas.delete(f);
    this.eventFloor.delete(gpk);
    return 'ok';
  }

  // ================================================================================ expiry, wipe

  async expire(nowMs: number, ttlMs: number): Promise<GroupingKey[]> {
    this.assertOpen();
    const cutoff = nowMs - ttlMs;
    const metas = (await this.scanAll()).filter((it) => it.sk?.S === SK_META && it.pk?.S?.startsWith('g#'));
    const out: GroupingKey[] = [];
    for (const m of metas) {
      if (m.deleted !== undefined) continue;
      const last = readNumber(m.lastUpdateMs) ?? 0;
      if (!(last < cutoff)) continue;
      const gpk = m.pk!.S!;
      const part = await this.queryGroup(gpk);
      if (
        !part.meta ||
        part.meta.deleted !== undefined ||
        !((readNumber(part.meta.lastUpdateMs) ?? 0) < cutoff)
      )
        continue;
      const e = new Expr();
      const first: TransactWriteItem[] = [
        {
          Delete: {
            TableName: this.table,
            Key: { pk: s(gpk), sk: s(SK_META) },
            ConditionExpression: `${e.n('lastUpdateMs')} < ${e.v(n(cutoff))} AND attribute_not_exists(${e.n('deleted')})`,
            ...e.parts(),
          },
        },
        { Update: this.genUpdate(shardOf(gpk)) },
      ];
      const guard = (): TransactWriteItem => {
        const x = new Expr();
        return {
          ConditionCheck: {
            TableName: this.table,
            Key: { pk: s(gpk), sk: s(SK_META) },
            ConditionExpression: `attribute_not_exists(${x.n('pk')})`,
            ...x.parts(),
          },
        };
      };
      const r = await this.removeItems(gpk, part, first, guard);
      if (r === 'ok') out.push(readLabels(m.l));
    }
    return out;
  }

  async wipe(): Promise<void> {
    this.assertOpen();
    const items = (await this.scanAll('pk, sk')).filter(
      (it) => it.pk?.S !== PK_GEN && !it.pk?.S?.startsWith(PK_GEN_SHARD),
    );
    const reqs = items.map((it) => ({ DeleteRequest: { Key: { pk: it.pk!, sk: it.sk! } } }));
    for (let i = 0; i < reqs.length; i += 25) {
      let batch: typeof reqs | undefined = reqs.slice(i, i + 25);
      for (let attempt = 0; batch && batch.length > 0; attempt++) {
        if (attempt > 0) await sleep(backoffMs(attempt, this.retry));
        const out = await this.write(() =>
          this.client.send(
            new BatchWriteItemCommand({
              RequestItems: { [this.table]: batch! },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        batch = out.UnprocessedItems?.[this.table] as typeof reqs | undefined;
        if (attempt > this.retry.attempts) throw new TransientError('wipe: DynamoDB kept items unprocessed');
      }
    }
    this.schemas.clear();
    this.exists.clear();
    this.setFloor.clear();
    this.bigValue.clear();
    this.eventFloor.clear();
    await this.withRetries(() =>
      this.write(() => this.client.send(new UpdateItemCommand({ ...this.genUpdate(0) }))),
    );
    // A wipe is not one transaction: readers are told to read everything again.
    this.reader.reset();
    await this.withRetries(() =>
      this.write(() =>
        this.client.send(
          new PutItemCommand({ TableName: this.table, Item: resetChangeItem(this.wallNow()) }),
        ),
      ),
    );
  }

  // ================================================================================ reads

  /** Incremental: the change index since the previous snapshot, and the groups it names (./snapshot-reader.ts). */
  async snapshot(): Promise<StoreSnapshot> {
    this.assertOpen();
    return this.reader.snapshot();
  }

  async generation(): Promise<string> {
    this.assertOpen();
    // This version's shards and those of older versions (one partition `gen`), summed: the sum only grows.
    const keys = Array.from({ length: GEN_SHARDS }, (_, i) => [
      genKey(i),
      { pk: s(PK_GEN), sk: s(genSk(i)) },
    ]).flat();
    const items = await this.batchGet(keys);
    let sum = 0;
    for (const it of items) sum += readNumber(it.n) ?? 0;
    return String(sum);
  }

  async listGroups(): Promise<GroupInfo[]> {
    this.assertOpen();
    const { groups } = await this.reader.snapshot();
    return groups.map((g) => {
      const seriesPerFamily: Record<string, number> = Object.create(null);
      for (const f of g.families) seriesPerFamily[f.name] = f.series.length;
      return {
        key: g.key,
        ...(g.lastPushMs !== undefined ? { lastPushMs: g.lastPushMs } : {}),
        ...(g.lastPushFailureMs !== undefined ? { lastPushFailureMs: g.lastPushFailureMs } : {}),
        ...(g.lastFailureReason !== undefined ? { lastFailureReason: g.lastFailureReason } : {}),
        ...(g.lastEventMs !== undefined ? { lastEventMs: g.lastEventMs } : {}),
        lastUpdateMs: g.lastUpdateMs,
        seriesPerFamily,
      };
    });
  }

  async ping(): Promise<void> {
    try {
      // Both tables at once: one round trip on the cold-start path instead of two.
      await Promise.all([
        this.client.send(
          new GetItemCommand({
            TableName: this.table,
            Key: genKey(0),
            ProjectionExpression: 'pk',
          }),
        ),
        this.client.send(
          new GetItemCommand({
            TableName: this.ledgerTable,
            Key: { id: s('i#ping') },
            ProjectionExpression: 'id',
          }),
        ),
      ]);
    } catch (e) {
      throw new TransientError(
        `DynamoDB tables ${this.table} / ${this.ledgerTable} do not answer: ${describe(e)}`,
        { cause: e },
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }

  // ================================================================================ DynamoDB plumbing

  private assertOpen(): void {
    if (this.closed) throw new AccrueError('internal', 'the DynamoDB store is closed');
  }

  private async transact(items: TransactWriteItem[]): Promise<void> {
    this.stats.transactions++;
    try {
      const out = await this.write(() =>
        this.client.send(
          new TransactWriteItemsCommand({
            // Change index: stamped per attempt, so a retried transaction is stamped when it is sent.
            TransactItems: withChangeItem(this.table, items, this.wallNow()),
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      void out;
    } catch (e) {
      if (cancellationReasons(e)) this.stats.cancelled++;
      throw e;
    }
  }

  /** Counts a write request and its consumed capacity. */
  private async write<T extends { ConsumedCapacity?: unknown }>(fn: () => Promise<T>): Promise<T> {
    this.stats.writeRequests++;
    const out = await fn();
    this.stats.wcu += capacity(out.ConsumedCapacity);
    return out;
  }

  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await sleep(backoffMs(attempt, this.retry));
      }
      try {
        return await fn();
      } catch (e) {
        if (!isTransient(e)) throw e;
        last = e;
      }
    }
    throw new TransientError(
      `DynamoDB write still failing after ${this.retry.attempts} attempts: ${describe(last)}`,
      {
        cause: last,
      },
    );
  }

  private async read<T extends { ConsumedCapacity?: unknown }>(fn: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await sleep(backoffMs(attempt, this.retry));
      }
      try {
        this.stats.readRequests++;
        const out = await fn();
        this.stats.rcu += capacity(out.ConsumedCapacity);
        return out;
      } catch (e) {
        if (!isTransient(e)) throw toAccrue(e);
        last = e;
      }
    }
    throw new TransientError(
      `DynamoDB read still failing after ${this.retry.attempts} attempts: ${describe(last)}`,
      {
        cause: last,
      },
    );
  }

  private async batchGet(keys: Record<string, AttributeValue>[], projection?: string): Promise<Item[]> {
    const out: Item[] = [];
    const chunks: Record<string, AttributeValue>[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    await Promise.all(
      chunks.map(async (chunk) => {
        let todo: Record<string, AttributeValue>[] | undefined = chunk;
        for (let attempt = 0; todo && todo.length > 0; attempt++) {
          if (attempt > 0) await sleep(backoffMs(attempt, this.retry));
          if (attempt > this.retry.attempts)
            throw new TransientError('DynamoDB kept keys unprocessed in BatchGetItem');
          const e = new Expr();
          const proj = projection
            ? {
                ProjectionExpression: projection
                  .split(/,\s*/)
                  .map((p) => e.n(p))
                  .join(', '),
                ...e.parts(),
              }
            : {};
          const keysNow: Record<string, AttributeValue>[] = todo;
          const res = await this.read(() =>
            this.client.send(
              new BatchGetItemCommand({
                RequestItems: { [this.table]: { Keys: keysNow, ConsistentRead: true, ...proj } },
                ReturnConsumedCapacity: 'TOTAL',
              }),
            ),
          );
          out.push(...((res.Responses?.[this.table] ?? []) as Item[]));
          todo = res.UnprocessedKeys?.[this.table]?.Keys as Record<string, AttributeValue>[] | undefined;
        }
      }),
    );
    return out;
  }

  private async queryGroup(gpk: string): Promise<GroupPartition> {
    const items: Item[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const e = new Expr();
      const startNow = start;
      const res = await this.read(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: `${e.n('pk')} = ${e.v(s(gpk))}`,
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
            ...(startNow ? { ExclusiveStartKey: startNow } : {}),
            ...e.parts(),
          }),
        ),
      );
      items.push(...((res.Items ?? []) as Item[]));
      start = res.LastEvaluatedKey;
    } while (start);
    const part: GroupPartition = { series: [], markers: [], pushTs: new Map() };
    for (const it of items) {
      const sk = it.sk?.S ?? '';
      if (sk === SK_META) part.meta = it;
      else if (sk.startsWith('s#')) part.series.push(it);
      else if (sk.startsWith('p#')) {
        part.markers.push(it);
        part.pushTs.set(it.fam?.S ?? sk.slice(2), readNumber(it.pushTs) ?? 0);
      }
    }
    return part;
  }

  private async readTotal(): Promise<number> {
    const res = await this.read(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { pk: s(PK_TOTAL), sk: s(SK_TOTAL) },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    return readNumber(res.Item?.n) ?? 0;
  }

  /** Parallel Scan (Segments) of the whole series table. */
  private async scanAll(projection?: string): Promise<Item[]> {
    const segs = Array.from({ length: this.segments }, (_, i) => i);
    const parts = await Promise.all(
      segs.map(async (segment) => {
        const out: Item[] = [];
        let start: Record<string, AttributeValue> | undefined;
        do {
          const e = new Expr();
          const startNow = start;
          const proj = projection
            ? {
                ProjectionExpression: projection
                  .split(/,\s*/)
                  .map((p) => e.n(p))
                  .join(', '),
                ...e.parts(),
              }
            : {};
          const res = await this.read(() =>
            this.client.send(
              new ScanCommand({
                TableName: this.table,
                Segment: segment,
                TotalSegments: this.segments,
                ConsistentRead: true,
                ReturnConsumedCapacity: 'TOTAL',
                ...(startNow ? { ExclusiveStartKey: startNow } : {}),
                ...proj,
              }),
            ),
          );
          out.push(...((res.Items ?? []) as Item[]));
          start = res.LastEvaluatedKey;
        } while (start);
        return out;
      }),
    );
    return parts.flat();
  }
}

interface GroupPartition {
  meta?: Item;
  series: Item[];
  markers: Item[];
  pushTs: Map<string, number>;
}

// ------------------------------------------------------------------------------------ helpers

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

/** Delete of an item the caller saw (conditional on it still being there). */
function deleteExisting(table: string, it: Item): TransactWriteItem {
  const x = new Expr();
  return {
    Delete: {
      TableName: table,
      Key: { pk: it.pk!, sk: it.sk! },
      ConditionExpression: `attribute_exists(${x.n('pk')})`,
      ...x.parts(),
    },
  };
}

function limitCond(e: Expr, lim: number): string {
  const nn = e.n('n');
  return lim >= 0
    ? `(attribute_not_exists(${nn}) OR ${nn} <= ${e.v(n(lim))})`
    : `(attribute_exists(${nn}) AND ${nn} <= ${e.v(n(lim))})`;
}

function capacity(c: unknown): number {
  if (!c) return 0;
  const list = Array.isArray(c) ? c : [c];
  let sum = 0;
  for (const x of list) sum += (x as { CapacityUnits?: number }).CapacityUnits ?? 0;
  return sum;
}

function newerSet(a: { value: number; timeMs: number }, b: { value: number; timeMs: number }): boolean {
  return a.timeMs > b.timeMs || (a.timeMs === b.timeMs && a.value > b.value);
}

function copyLabels(l: Labels): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const k of Object.keys(l)) out[k] = l[k]!;
  return out;
}

function toAccrue(e: unknown): AccrueError {
  if (e instanceof AccrueError) return e;
  // Only a request DynamoDB calls invalid is permanent; a missing table or denied access is operational.
  if ((e as Error)?.name === 'ValidationException')
    return new AccrueError('internal', `DynamoDB: ${describe(e)}`);
  return new TransientError(`DynamoDB: ${describe(e)}`, { cause: e });
}

function withPath<E extends AccrueError>(err: E, path: string): E {
  if (err.message.startsWith(path)) return err;
  (err as { message: string }).message = `${path}: ${err.message}`;
  return err;
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

function describeGroup(g: GroupingKey): string {
  return Object.keys(g)
    .map((k) => `${k}=${JSON.stringify(String(g[k]).slice(0, 64))}`)
    .join(',');
}

function pushedSeriesItem(
  gpk: string,
  sk: string,
  f: MetricFamily,
  sr: MetricFamily['series'][number],
  labels: Labels,
): Item {
  const item: Item = { pk: s(gpk), sk: s(sk), f: s(f.name), t: s(f.type), l: labelsAttr(labels) };
  if (f.type === 'histogram') {
    const h = sr as unknown as { buckets: { le: number; count: number }[]; sum: number; count: number };
    const bounds = h.buckets.map((b) => b.le);
    item.b = numList(bounds);
    item.bk = s(boundsKey(bounds));
    item.c = valueAttr(h.count);
    item.s = valueAttr(h.sum);
    h.buckets.forEach((b, i) => {
      item[`b${i}`] = valueAttr(b.count);
    });
  } else if (f.type === 'summary') {
    const q = sr as unknown as {
      quantiles: { quantile: number; value: number }[];
      sum: number;
      count: number;
    };
    item.c = valueAttr(q.count);
    item.s = valueAttr(q.sum);
    item.qk = numList(q.quantiles.map((x) => x.quantile));
    item.qv = numList(q.quantiles.map((x) => x.value));
  } else {
    item.v = valueAttr((sr as { value: number }).value);
  }
  return item;
}

export { digest };
