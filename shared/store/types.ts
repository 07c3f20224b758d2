/**
 * The Store: where aggregated state lives and where exactly-once is decided.
 *
 * Two implementations pass one contract suite (test/contract/store-contract.ts):
 * - `MemoryStore` (shared/store/memory): embedded, used by `npm start`, durable on local disk;
 * - `DynamoStore` (shared/store/dynamodb): the cloud store, DynamoDB tables.
 *
 * Contract, which every implementation must keep:
 *
 * 1. Exactly once. `apply()` applies a request's additive operations (counter inc, gauge add, histogram
 *    observe) exactly once per `ApplyRequest.id`, however often and in whatever batch composition the
 *    same id is applied again, including after a partial failure of an earlier attempt. A repeated id
 *    returns status `duplicate` and changes nothing. A repeated id whose content (plan hash,
 *    shared/store/plan.ts) differs from the committed one fails permanently (`redelivery_mismatch`).
 * 2. Last writer wins by event time. A gauge `set` is applied only when its `timeMs` is newer than the
 *    series' stored set time (ties: a larger value than the last set's wins, so the outcome doesn't
 *    depend on order and a redelivered set never undoes later adds). Within one request, sets are
 *    applied before the additive ops.
 * 3. Pushes follow the Pushgateway: PUT replaces the group, POST replaces the pushed families (all of
 *    their series) and keeps the others, DELETE removes exactly the group. A push whose `pushTimeMs` is
 *    older than what the group (PUT/DELETE) or family (POST) last received is `stale` and changes
 *    nothing, so a redelivered old push can't overwrite a newer one. A rejected push stores nothing.
 * 4. Family consistency. A family has one type across all groups (label names and bucket layouts may
 *    differ between series, as on the Pushgateway); histogram/summary names reserve `_bucket`, `_sum`,
 *    `_count`; observations are added only into a series with the same bucket layout. The first
 *    definition wins; a conflicting operation or push is rejected with `FamilyConflictError`, and the
 *    check costs O(1) per family touched, never a store scan.
 * 5. Limits (`StoreLimits`) are checked before anything is written; a breach is a `LimitError`.
 * 6. Grouping keys are normalized by `normalizeGroupingKey`: labels with empty values are dropped (an
 *    empty label value is the same as no label in Prometheus), so `{job="a", instance=""}` and
 *    `{job="a"}` are one group. `job` must be present and non-empty.
 * 7. Concurrency: every method may be called concurrently from many callers (and, for DynamoDB, from
 *    many processes); totals stay exact.
 * 8. Snapshots returned by `snapshot()` are immutable and consistent within each group; callers must
 *    not mutate them. `generation` changes whenever any content changes, so a renderer can cache bytes.
 *    A snapshot reflects every write that completed (in any process) before `snapshot()` was called; a
 *    counter never goes back from one snapshot to the next. After the first, a snapshot reads only what
 *    changed: groups that did not change keep their `GroupState` object, and `reads` says what was read.
 *
 * 9. Validation happens at the edge, once. `apply()` and `push()` take `ValidApplyRequest` / `ValidPush`,
 *    which only the edge validators produce (shared/store/valid.ts); a store never re-checks their shape,
 *    names or values. What a store reads back from its own data (the memory store's journal replay,
 *    DynamoDB items) is its own, trusted output and is not validated either.
 *
 * Group labels are never repeated inside the series' labels: series labels in requests and snapshots
 * exclude the grouping key's labels (the service strips them from pushed bodies, as the Pushgateway
 * overrides them), and the renderer adds the grouping labels back.
 */
import type { AccrueError } from '../model/errors';
import type { NativeHistogram } from '../model/native/types';
import type { Labels, MetricFamily } from '../model/types';

/** Labels identifying a group; always has a non-empty `job`. See `normalizeGroupingKey`. */
export type GroupingKey = Labels;

interface OpBase {
  readonly name: string;
  /** HELP text; the first non-empty HELP seen for a family is kept. */
  readonly help?: string;
  /** Series labels, without the grouping key's labels. */
  readonly labels: Labels;
}

/** Counter increment; `value` >= 0 and finite. */
export interface CounterInc extends OpBase {
  readonly kind: 'counter_inc';
  readonly value: number;
}

/** Gauge increment or decrement (signed delta), additive and exactly-once like counters. */
export interface GaugeAdd extends OpBase {
  readonly kind: 'gauge_add';
  readonly value: number;
}

/** Gauge set; last writer wins by `timeMs` (the event time), not arrival order. */
export interface GaugeSet extends OpBase {
  readonly kind: 'gauge_set';
  readonly value: number;
  readonly timeMs: number;
}

/**
 * Histogram observations, already aggregated: per-bucket (non-cumulative) count deltas.
 * `bounds` are the finite upper bounds, strictly ascending; `counts` has `bounds.length + 1` entries,
 * the last one being observations above the highest bound (the `+Inf` bucket's own share).
 * `count` equals the sum of `counts`.
 *
 * `native`, when the family is declared native (a profile's `native`), holds the same observations in
 * exponential buckets: whole-number populations adding up to `count`. Stores add it into the series' native
 * histogram by the spec (shared/model/native/merge.ts: a different schema reduces to the lower one, a
 * different zero threshold widens to the larger). A series keeps native buckets or not for its whole life:
 * an observe without them into a series with them is a `FamilyConflictError`; one with them into a series
 * without them adds its classic part only (`classicPartOf` in ./families.ts).
 * `bounds` may be empty (a native-only histogram: `counts` is then `[count]`).
 */
export interface HistogramObserve extends OpBase {
  readonly kind: 'histogram_observe';
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
  readonly native?: NativeHistogram;
}

export type MetricOp = CounterInc | GaugeAdd | GaugeSet | HistogramObserve;

/** The store-side form of one SQS message (or one internal write): a group and its aggregated ops. */
export interface ApplyRequest {
  /** Idempotency key: the producer's key, else a hash of the body, scoped per sender. Suffixes `#<n>` are reserved. */
  readonly id: string;
  readonly group: GroupingKey;
  /** Already pre-aggregated: at most one additive op per series (sets: the newest per series). */
  readonly ops: readonly MetricOp[];
  /** Newest event time in the request, for group metadata (`lastEventMs`). */
  readonly eventTimeMs?: number;
  /**
   * What the ledger keeps to tell a retry from a different request under the same id, when the sender
   * hashes its own content (HTTP aggregating pushes: gauge times are arrival times, so the ops of a
   * retry differ while its body doesn't). Default: the plan hash of the ops (shared/store/plan.ts).
   */
  readonly contentHash?: string;
}

/**
 * The brand of values only an edge validator produces (shared/store/valid.ts: `validateApplyRequest`,
 * `validatePushRequest`, and the decoder's and `preparePush`'s `brand…` calls). It exists at compile time
 * only: no value carries it at run time, and no code outside valid.ts may cast to it
 * (test/unit/architecture/edge-validation.test.ts).
 */
declare const validated: unique symbol;

/**
 * A grouping key an edge validator accepted and normalized (`validateGroupingKey`, or the group of a
 * `ValidApplyRequest` / `ValidPush`): names checked, empty values dropped, a non-empty `job`. What
 * `Store.deleteGroup` and `Store.recordPushFailure` take: stores check it against their limits only.
 */
export type ValidGroupingKey = GroupingKey & { readonly [validated]: 'group' };

/** An op an edge validator accepted (shape, names, values: `opProblems`). */
export type ValidOp = MetricOp & { readonly [validated]: 'op' };

/**
 * An apply request an edge validator accepted: a non-empty id, a normalized grouping key (legacy names),
 * valid ops, a finite `eventTimeMs`. What `Store.apply` takes: stores check it against stored state only.
 */
export interface ValidApplyRequest extends ApplyRequest {
  readonly group: ValidGroupingKey;
  readonly ops: readonly ValidOp[];
  readonly [validated]: 'apply';
}

/**
 * A push an edge validator accepted: a method, a finite push time, a normalized grouping key, families with
 * valid names, values and buckets, no duplicate family or series, no timestamps. What `Store.push` takes.
 */
export interface ValidPush extends PushRequest {
  readonly group: ValidGroupingKey;
  readonly [validated]: 'push';
}

export interface RejectedOp {
  /** Index into `ApplyRequest.ops`. */
  readonly index: number;
  readonly error: AccrueError;
}

export type ApplyResult =
  | { readonly id: string; readonly status: 'applied'; readonly rejected: readonly RejectedOp[] }
  | { readonly id: string; readonly status: 'duplicate'; readonly rejected: readonly RejectedOp[] }
  /** Nothing of this request was applied; retry it later (transient) — the id is not consumed. */
  | {
      readonly id: string;
      readonly status: 'failed';
      readonly error: AccrueError;
      readonly rejected: readonly RejectedOp[];
    };

export type PushMethod = 'PUT' | 'POST' | 'DELETE';

export interface PushRequest {
  readonly method: PushMethod;
  readonly group: GroupingKey;
  /** Validated families (names, no timestamps, no duplicate series); labels exclude the grouping key's. Empty for DELETE. */
  readonly families: readonly MetricFamily[];
  /** When the push was made (producer clock for SQS pushes, arrival time for HTTP pushes). */
  readonly pushTimeMs: number;
  /**
   * Idempotency key (SQS pushes: `<message key>#push-<n>`; HTTP pushes: the scoped `Idempotency-Key`).
   * With a key the push is applied at most once per key through the same ledger as `apply()`: a repeat
   * with the same content (`pushPlanHash`) is `duplicate` and changes nothing, a repeat with other content
   * throws `redelivery_mismatch`. A push that was refused (an exception) does not consume its key.
   */
  readonly id?: string;
  /** Overrides `pushPlanHash` as the content the ledger keeps (a sender's own hash of what it sent). */
  readonly contentHash?: string;
}

export interface PushResult {
  /** `duplicate`: the push's `id` was already applied with the same content; nothing changed. */
  readonly status: 'applied' | 'stale' | 'duplicate';
  /** For a `duplicate`: what the push did the first time (a replay answers as the first attempt did). */
  readonly first?: 'applied' | 'stale';
}

export interface GroupState {
  readonly key: GroupingKey;
  /** Last successful write of any kind (push or apply): exposed as `push_time_seconds`. */
  readonly lastPushMs?: number;
  /** Last refused push: exposed as `push_failure_time_seconds`. */
  readonly lastPushFailureMs?: number;
  readonly lastFailureReason?: string;
  /** Newest event time applied to the group. */
  readonly lastEventMs?: number;
  /** Last change of any kind; TTL is measured from it. */
  readonly lastUpdateMs: number;
  /**
   * When the newest push (PUT or POST) that carried each family arrived: the Pushgateway's per-family
   * `time_stamp` (/api/v1/metrics). Only stores that keep it (the memory store); families not in the map,
   * and every family when it is absent, use `lastPushMs`.
   */
  readonly familyPushMs?: ReadonlyMap<string, number>;
  /** Families with their series; series labels exclude the grouping key's labels. Sorted by name. */
  readonly families: readonly MetricFamily[];
}

export interface StoreSnapshot {
  /** Changes whenever content changes (compare generations of snapshots from one store instance). */
  readonly generation: string;
  readonly takenAtMs: number;
  readonly groups: readonly GroupState[];
  /** What this `snapshot()` call read to bring the view up to date (the service exports it). */
  readonly reads?: SnapshotReads;
}

/**
 * The cost of one `snapshot()` call. After the first (full) read, a snapshot reads only what changed since
 * the previous one: `groupsReread` follows the groups written meanwhile, not the store's size.
 */
export interface SnapshotReads {
  /** The whole store was read (the first snapshot, a periodic resync, or after a wipe). */
  readonly full: boolean;
  /** Groups read again (or rebuilt) because they changed since the previous snapshot. */
  readonly groupsReread: number;
  /** Requests sent to the backing database (0 for the memory store). */
  readonly requests: number;
  /** Read capacity units those requests consumed (DynamoDB's rules; 0 for the memory store). */
  readonly readUnits: number;
}

export interface GroupInfo {
  readonly key: GroupingKey;
  readonly lastPushMs?: number;
  readonly lastPushFailureMs?: number;
  readonly lastFailureReason?: string;
  readonly lastEventMs?: number;
  readonly lastUpdateMs: number;
  /** Series count per family name. */
  readonly seriesPerFamily: Readonly<Record<string, number>>;
}

export interface StoreLimits {
  /** Series per family across all groups. @default 100_000 */
  readonly maxSeriesPerFamily: number;
  /** Series per group across all families. @default 100_000 */
  readonly maxSeriesPerGroup: number;
  /** Series in the whole store. @default 1_000_000 */
  readonly maxSeriesTotal: number;
  /** Characters in one label value. @default 1024 */
  readonly maxLabelValueLength: number;
  /** Labels on one series, grouping labels included. @default 32 */
  readonly maxLabelsPerSeries: number;
  /**
   * Groups in the store, DELETE tombstones and failure-only groups included (each group also exposes its
   * `push_time_seconds` and `push_failure_time_seconds` series). @default 100_000
   */
  readonly maxGroups: number;
}

export const DEFAULT_LIMITS: StoreLimits = {
  maxSeriesPerFamily: 100_000,
  maxSeriesPerGroup: 100_000,
  maxSeriesTotal: 1_000_000,
  maxLabelValueLength: 1024,
  maxLabelsPerSeries: 32,
  maxGroups: 100_000,
};

/**
 * How long every store remembers applied request ids (the idempotency ledger) and DELETE tombstones:
 * 15 days, above SQS's longest retention (14 days), so a redelivery always finds its id. The CDK construct
 * raises it when the queues keep messages longer (infra/accrue-gateway.ts).
 */
export const DEFAULT_LEDGER_TTL_SECONDS = 15 * 24 * 3600;

/**
 * What `Store.claimDeadLetters` found: `claimed` (this caller sends, then settles with `token`), `held` (another
 * caller's claim younger than its lease: its send may be in progress), or `sent` (the dead letters are in the DLQ).
 */
export type DeadLetterClaim =
  | { readonly state: 'claimed'; readonly token: string }
  | { readonly state: 'held' }
  | { readonly state: 'sent' };

export interface Store {
  /**
   * Applies requests; one result per request, in order. Never throws for per-request problems. Requests
   * were validated at the edge (`ValidApplyRequest`); the store checks them against its state only
   * (family conflicts, bucket layouts, reserved names, limits), rejecting such an op alone (`rejected[]`).
   */
  apply(requests: readonly ValidApplyRequest[]): Promise<ApplyResult[]>;
  /**
   * Pushgateway PUT/POST/DELETE of a push validated at the edge (`ValidPush`). Throws FamilyConflictError /
   * LimitError (nothing stored).
   */
  push(request: ValidPush): Promise<PushResult>;
  /**
   * Records a refused push on the group (`push_failure_time_seconds`) without creating series. The key
   * was validated at the edge (`ValidGroupingKey`); the store checks its limits only.
   */
  recordPushFailure(group: ValidGroupingKey, timeMs: number, reason: string): Promise<void>;
  /**
   * Claims the right to send one message's dead letters (`key`: `deadLetterKey`, shared/ingest/dead-letter-claims.ts)
   * through the ledger `apply()` uses, so concurrent deliveries of a message send them once (docs/ingest.md
   * "One DLQ copy per message"). A `pending` claim older than `leaseMs` (by the store clock) is taken over.
   */
  claimDeadLetters(key: string, leaseMs: number): Promise<DeadLetterClaim>;
  /**
   * Ends a claim made with `token`: `sent` marks the key sent (kept as long as the ledger keeps ids); `false`
   * releases it so a retry claims again. A claim taken over by another caller meanwhile is left alone.
   */
  settleDeadLetters(key: string, token: string, sent: boolean): Promise<void>;
  /** Removes the group if it exists. Same as a DELETE push at `timeMs` (a key validated at the edge). */
  deleteGroup(group: ValidGroupingKey, timeMs: number): Promise<void>;
  /** Expires groups whose `lastUpdateMs` is older than `nowMs - ttlMs`; returns their keys. */
  expire(nowMs: number, ttlMs: number): Promise<GroupingKey[]>;
  /**
   * Everything, for rendering. Incremental: the first call reads the whole store, later calls read only
   * what changed since the previous call. Concurrent calls are serialized (each reflects the writes that
   * completed before it was made).
   */
  snapshot(): Promise<StoreSnapshot>;
  /** Cheap: the current generation, to decide whether a cached render is still good. */
  generation(): Promise<string>;
  listGroups(): Promise<GroupInfo[]>;
  /** Deletes everything (admin wipe). */
  wipe(): Promise<void>;
  /** Resolves when the store answers; throws TransientError otherwise (for /-/ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
