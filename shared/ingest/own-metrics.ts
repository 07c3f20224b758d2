/**
 * The ingest pipeline's own metrics (`accrue_ingest_*`): what one batch did (`BatchStats`), added up per
 * process and written as one ApplyRequest under `{job="accrue", instance}` (shared/ingest/pipeline.ts,
 * step 6).
 */
import { randomUUID } from 'node:crypto';
import { fullJitterBackoffMs } from '../aws/retry';
import { labelsFrom } from '../model/identity';
import type { ApplyRequest, MetricOp, Store, ValidApplyRequest } from '../store/types';
import { validateApplyRequest } from '../store/valid';
import { errMessage } from './errors';
import type { PipelineLogger } from './pipeline';

export const MessageOutcome = {
  applied: 'applied',
  duplicate: 'duplicate',
  failed: 'failed',
  deadLettered: 'dead_lettered',
} as const;
export type MessageOutcome = (typeof MessageOutcome)[keyof typeof MessageOutcome];

export interface BatchStats {
  readonly messages: number;
  readonly outcomes: Readonly<Record<MessageOutcome, number>>;
  readonly eventsAccepted: number;
  /** Rejected events / ops / pushes by reason, counted on the delivery whose apply was `applied`. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly deadLetters: number;
  readonly applyDurationMs: number;
}

/** Bucket layouts of the own histograms (finite upper bounds). */
const APPLY_DURATION_BOUNDS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const BATCH_SIZE_BOUNDS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000];

/** The own metrics' group job label. */
export const OWN_JOB = 'accrue';

interface Hist {
  readonly counts: number[];
  sum: number;
  count: number;
}

function emptyHist(bounds: readonly number[]): Hist {
  return { counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 };
}

function observeHist(h: Hist, bounds: readonly number[], value: number): void {
  let slot = bounds.findIndex((b) => value <= b);
  if (slot < 0) slot = bounds.length;
  h.counts[slot] = (h.counts[slot] ?? 0) + 1;
  h.sum += value;
  h.count++;
}

function mergeHist(into: Hist, from: Hist): void {
  for (let i = 0; i < from.counts.length; i++) into.counts[i] = (into.counts[i] ?? 0) + (from.counts[i] ?? 0);
  into.sum += from.sum;
  into.count += from.count;
}

/** Own-metric deltas not yet written. */
interface OwnAcc {
  batches: number;
  accepted: number;
  readonly rejected: Map<string, number>;
  readonly outcomes: Record<MessageOutcome, number>;
  readonly applySeconds: Hist;
  readonly batchSize: Hist;
}

function emptyAcc(): OwnAcc {
  return {
    batches: 0,
    accepted: 0,
    rejected: new Map(),
    outcomes: { applied: 0, duplicate: 0, failed: 0, dead_lettered: 0 },
    applySeconds: emptyHist(APPLY_DURATION_BOUNDS),
    batchSize: emptyHist(BATCH_SIZE_BOUNDS),
  };
}

function addStats(a: OwnAcc, stats: BatchStats): void {
  a.batches++;
  a.accepted += stats.eventsAccepted;
  for (const [r, n] of Object.entries(stats.rejected)) addCount(a.rejected, r, n);
  for (const o of Object.values(MessageOutcome)) a.outcomes[o] += stats.outcomes[o];
  observeHist(a.applySeconds, APPLY_DURATION_BOUNDS, stats.applyDurationMs / 1000);
  observeHist(a.batchSize, BATCH_SIZE_BOUNDS, stats.messages);
}

function mergeAcc(into: OwnAcc, from: OwnAcc): void {
  into.batches += from.batches;
  into.accepted += from.accepted;
  for (const [r, n] of from.rejected) addCount(into.rejected, r, n);
  for (const o of Object.values(MessageOutcome)) into.outcomes[o] += from.outcomes[o];
  mergeHist(into.applySeconds, from.applySeconds);
  mergeHist(into.batchSize, from.batchSize);
}

/**
 * The pipeline's own metrics (`accrue_ingest_*`): adds up batches and writes them as one ApplyRequest
 * under `{job="accrue", instance}` with a fresh id. What a write could not store (status `failed` after
 * a few tries, or a throw) is kept and written with the next flush, so a throttled store delays these
 * counts instead of losing them. Create one per process (the Lambda, the runner) and pass it in
 * `PipelineDeps.ownMetrics`. Safe to share between concurrent batches (each flush takes what is there).
 */
export class OwnMetrics {
  readonly instance: string;
  #acc = emptyAcc();

  constructor(instance: string) {
    this.instance = instance;
  }

  /** True when counts are waiting to be written. */
  get pending(): boolean {
    return this.#acc.batches > 0;
  }

  add(stats: BatchStats): void {
    addStats(this.#acc, stats);
  }

  /** Writes what has accumulated (up to `attempts` tries); resolves true when it was stored. */
  async flush(store: Store, nowMs: number, logger: PipelineLogger, attempts = 3): Promise<boolean> {
    if (!this.pending) return true;
    const acc = this.#acc;
    this.#acc = emptyAcc();
    let request: ValidApplyRequest;
    try {
      request = validateApplyRequest(accRequest(acc, this.instance, nowMs));
    } catch (err) {
      // A bug, not a store outage: keeping them would refuse every later batch's own metrics too.
      logger.warn('own metrics dropped: the request is invalid', { error: errMessage(err) });
      return false;
    }
    let error = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, fullJitterBackoffMs(i, 40, 1000)));
      try {
        const [r] = await store.apply([request]);
        if (r && r.status !== 'failed') return true;
        error = r ? r.error.message : 'no result';
      } catch (err) {
        error = errMessage(err);
      }
    }
    mergeAcc(this.#acc, acc);
    logger.warn('own metrics not written; kept for the next batch', { error, batches: this.#acc.batches });
    return false;
  }
}

/** The own metrics of one batch as one ApplyRequest (what `OwnMetrics` writes for a single batch). */
export function ownMetricsRequest(stats: BatchStats, instance: string, nowMs: number): ValidApplyRequest {
  const acc = emptyAcc();
  addStats(acc, stats);
  return validateApplyRequest(accRequest(acc, instance, nowMs));
}

function accRequest(a: OwnAcc, instance: string, nowMs: number): ApplyRequest {
  const ops: MetricOp[] = [];
  const none = labelsFrom([]);
  ops.push({
    kind: 'counter_inc',
    name: 'accrue_ingest_events_accepted_total',
    help: 'Events applied to the store by the ingest pipeline (counted once per message).',
    labels: none,
    value: a.accepted,
  });
  for (const reason of [...a.rejected.keys()].sort()) {
    ops.push({
      kind: 'counter_inc',
      name: 'accrue_ingest_events_rejected_total',
      help: 'Events, ops and pushes refused by the ingest pipeline, by reason; each was copied to the dead-letter queue.',
      labels: labelsFrom([['reason', reason]]),
      value: a.rejected.get(reason) ?? 0,
    });
  }
  for (const outcome of Object.values(MessageOutcome)) {
    ops.push({
      kind: 'counter_inc',
      name: 'accrue_ingest_messages_total',
      help: 'Queue messages processed by the ingest pipeline, by outcome (failed ones are retried by SQS).',
      labels: labelsFrom([['outcome', outcome]]),
      value: a.outcomes[outcome],
    });
  }
  ops.push({
    kind: 'counter_inc',
    name: 'accrue_ingest_duplicates_skipped_total',
    help: 'Messages skipped because their idempotency key was already applied (redeliveries, producer retries).',
    labels: none,
    value: a.outcomes.duplicate,
  });
  ops.push(
    histOp(
      'accrue_ingest_apply_duration_seconds',
      'Duration of the store apply of one batch.',
      APPLY_DURATION_BOUNDS,
      a.applySeconds,
    ),
  );
  ops.push(
    histOp(
      'accrue_ingest_batch_size',
      'Messages per batch received by the ingest pipeline.',
      BATCH_SIZE_BOUNDS,
      a.batchSize,
    ),
  );
  return {
    id: `accrue-ingest:${instance}:${randomUUID()}`,
    group: labelsFrom([
      ['job', OWN_JOB],
      ['instance', instance],
    ]),
    ops,
    eventTimeMs: nowMs,
  };
}

function histOp(name: string, help: string, bounds: readonly number[], h: Hist): MetricOp {
  return {
    kind: 'histogram_observe',
    name,
    help,
    labels: labelsFrom([]),
    bounds,
    counts: [...h.counts],
    // Saturated rather than infinite (a request's sums must be finite): a clock jump of 1e308 s is still
    // counted, in the +Inf bucket.
    sum: Math.min(h.sum, Number.MAX_VALUE),
    count: h.count,
  };
}

/** Adds `n` to `key`'s count. */
export function addCount(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
