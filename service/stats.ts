/**
 * Accrue's own service metrics (prefix `accrue_`), exposed after the stored families on /metrics.
 * Names never collide with stored families: pushes of `accrue_*` are refused (shared/push/prepare.ts) and
 * Accrue's ingest writes only `accrue_ingest_*`, which no name here starts with.
 */
import type { MetricFamily, ScalarSeries } from '../shared/model/types';
import type { SnapshotReads } from '../shared/store/types';
import { type CutReason, RESPONSE_DEADLINE_REASON } from './response-deadline';

/** Routes that take an `Idempotency-Key` (../idempotency.ts). */
export type IdempotentRoute = 'push' | 'aggregate';
/** What became of a request's key: first use, a replay of the same request, another request (409). */
export type KeyOutcome = 'first' | 'replayed' | 'mismatch';

export class ServiceStats {
  private readonly idempotency = new Map<string, { route: string; outcome: string; n: number }>();
  private readonly pushRequests = new Map<string, { method: string; code: string; n: number }>();
  private readonly rejected = new Map<string, number>();
  /** Responses cut, by reason; every reason starts at 0 so that `rate()` sees the first cut. */
  private readonly cut = new Map<string, number>([[RESPONSE_DEADLINE_REASON, 0]]);
  scrapes = 0;
  snapshotRefreshFailures = 0;
  renderSeconds = 0;
  renders = 0;
  duplicateSeriesDropped = 0;
  conflictingSeriesDropped = 0;
  /** Store reads behind the snapshot refreshes (what the read side costs). */
  private readonly refreshes = { full: 0, incremental: 0 };
  private refreshSecondsTotal = 0;
  private lastRefreshSeconds = 0;
  private storeReadRequests = 0;
  private storeReadUnits = 0;
  private groupsReread = 0;
  /** Every name `families()` may return. */
  readonly ownNames: ReadonlySet<string> = new Set([
    'accrue_push_requests_total',
    'accrue_push_rejected_total',
    'accrue_idempotency_keys_total',
    'accrue_responses_cut_total',
    'accrue_render_duration_seconds',
    'accrue_renders_total',
    'accrue_render_duplicate_series_dropped',
    'accrue_render_conflicting_series_dropped',
    'accrue_scrapes_total',
    'accrue_snapshot_age_seconds',
    'accrue_snapshot_groups',
    'accrue_snapshot_series',
    'accrue_snapshot_refresh_failures_total',
    'accrue_snapshot_refreshes_total',
    'accrue_snapshot_refresh_duration_seconds',
    'accrue_snapshot_refresh_seconds_total',
    'accrue_snapshot_groups_reread_total',
    'accrue_store_read_requests_total',
    'accrue_store_read_units_total',
  ]);

  /** What one successful `store.snapshot()` read. */
  countSnapshotReads(reads: SnapshotReads | undefined): void {
    if (!reads) return;
    if (reads.full) this.refreshes.full++;
    else this.refreshes.incremental++;
    this.groupsReread += reads.groupsReread;
    this.storeReadRequests += reads.requests;
    this.storeReadUnits += reads.readUnits;
  }

  /** Duration of one refresh attempt (successful or not). */
  countRefresh(seconds: number): void {
    this.lastRefreshSeconds = seconds;
    this.refreshSecondsTotal += seconds;
  }

  countPush(method: string, code: number): void {
    const k = `${method} ${code}`;
    const e = this.pushRequests.get(k);
    if (e) e.n++;
    else this.pushRequests.set(k, { method, code: String(code), n: 1 });
  }

  countIdempotency(route: IdempotentRoute, outcome: KeyOutcome): void {
    const k = `${route} ${outcome}`;
    const e = this.idempotency.get(k);
    if (e) e.n++;
    else this.idempotency.set(k, { route, outcome, n: 1 });
  }

  countRejected(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  /** A response the server cut before it was written whole (./response-deadline.ts). */
  countResponseCut(reason: CutReason): void {
    this.cut.set(reason, (this.cut.get(reason) ?? 0) + 1);
  }

  rejectedByReason(): ReadonlyMap<string, number> {
    return this.rejected;
  }

  /** The families to append to a scrape. `snapshotAgeSeconds` is NaN before the first good snapshot. */
  families(snapshotAgeSeconds: number, groups: number, series: number): MetricFamily[] {
    const lbl = (pairs: Record<string, string>) =>
      Object.assign(Object.create(null), pairs) as Record<string, string>;
    const scalar = (value: number, labels: Record<string, string> = {}): ScalarSeries => ({
      labels: lbl(labels),
      value,
    });
    return [
      {
        name: 'accrue_push_requests_total',
        help: 'Pushgateway API requests (PUT, POST, DELETE) handled by this instance, by method and status code.',
        type: 'counter',
        series: [...this.pushRequests.values()]
          .sort((a, b) => (a.method + a.code < b.method + b.code ? -1 : 1))
          .map((e) => scalar(e.n, { method: e.method, code: e.code })),
      },
      {
        name: 'accrue_push_rejected_total',
        help: 'Pushes refused by this instance, by reason.',
        type: 'counter',
        series: [...this.rejected.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([reason, n]) => scalar(n, { reason })),
      },
      {
        name: 'accrue_idempotency_keys_total',
        help: 'Writes with an Idempotency-Key handled by this instance, by route and outcome: first (applied or stale the first time), replayed (acknowledged again, not applied), mismatch (the key was used for another request: 409).',
        type: 'counter',
        series: [...this.idempotency.values()]
          .sort((a, b) => (a.route + a.outcome < b.route + b.outcome ? -1 : 1))
          .map((e) => scalar(e.n, { route: e.route, outcome: e.outcome })),
      },
      {
        name: 'accrue_responses_cut_total',
        help: 'Responses whose socket this instance destroyed before they were written whole, by reason: response_deadline (not written within ACCRUE_RESPONSE_DEADLINE_MS: a client reading too slowly).',
        type: 'counter',
        series: [...this.cut.entries()].map(([reason, n]) => scalar(n, { reason })),
      },
      {
        name: 'accrue_render_duration_seconds',
        help: 'Duration of the last render of the stored families.',
        type: 'gauge',
        series: [scalar(this.renderSeconds)],
      },
      {
        name: 'accrue_renders_total',
        help: 'Renders of the stored families (one per store change and format).',
        type: 'counter',
        series: [scalar(this.renders)],
      },
      {
        name: 'accrue_render_duplicate_series_dropped',
        help: 'Series left out of the last render because a more recently updated group exposes the identical series.',
        type: 'gauge',
        series: [scalar(this.duplicateSeriesDropped)],
      },
      {
        name: 'accrue_render_conflicting_series_dropped',
        help: "Series left out of the last render because their family's type disagrees across groups.",
        type: 'gauge',
        series: [scalar(this.conflictingSeriesDropped)],
      },
      {
        name: 'accrue_scrapes_total',
        help: 'Requests of /metrics served by this instance.',
        type: 'counter',
        series: [scalar(this.scrapes)],
      },
      {
        name: 'accrue_snapshot_age_seconds',
        help: 'Seconds since the served snapshot was last confirmed to match the store.',
        type: 'gauge',
        series: [scalar(snapshotAgeSeconds)],
      },
      {
        name: 'accrue_snapshot_groups',
        help: 'Groups in the served snapshot.',
        type: 'gauge',
        series: [scalar(groups)],
      },
      {
        name: 'accrue_snapshot_series',
        help: 'Series in the served snapshot (stored families only).',
        type: 'gauge',
        series: [scalar(series)],
      },
      {
        name: 'accrue_snapshot_refresh_failures_total',
        help: 'Failed attempts to read the store for a new snapshot.',
        type: 'counter',
        series: [scalar(this.snapshotRefreshFailures)],
      },
      {
        name: 'accrue_snapshot_refreshes_total',
        help: 'Successful snapshot refreshes, by kind: full (the whole store read) or incremental (only what changed).',
        type: 'counter',
        series: [
          scalar(this.refreshes.full, { kind: 'full' }),
          scalar(this.refreshes.incremental, { kind: 'incremental' }),
        ],
      },
      {
        name: 'accrue_snapshot_refresh_duration_seconds',
        help: 'Duration of the last snapshot refresh (scrapes do not wait for it).',
        type: 'gauge',
        series: [scalar(this.lastRefreshSeconds)],
      },
      {
        name: 'accrue_snapshot_refresh_seconds_total',
        help: 'Time spent in snapshot refreshes.',
        type: 'counter',
        series: [scalar(this.refreshSecondsTotal)],
      },
      {
        name: 'accrue_snapshot_groups_reread_total',
        help: 'Groups read again by snapshot refreshes because they changed (all groups for a full read).',
        type: 'counter',
        series: [scalar(this.groupsReread)],
      },
      {
        name: 'accrue_store_read_requests_total',
        help: 'Requests sent to the store database by snapshot refreshes (0 for the memory store).',
        type: 'counter',
        series: [scalar(this.storeReadRequests)],
      },
      {
        name: 'accrue_store_read_units_total',
        help: 'Read capacity units consumed by snapshot refreshes (DynamoDB read request units; 0 for the memory store).',
        type: 'counter',
        series: [scalar(this.storeReadUnits)],
      },
    ].filter((f) => f.series.length > 0) as MetricFamily[];
  }
}
