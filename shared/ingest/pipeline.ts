/**
 * The ingest pipeline: one SQS batch in, one `SQSBatchResponse`-shaped answer out.
 *
 * `processBatch` is what the Lambda (`functions/ingest`) and the local event-source runner
 * (`shared/aws/sqs-runner.ts`) both call. For a batch of records it:
 *
 * 1. decodes every record (`decodeMessage`: decode → validate → map → pre-aggregate);
 * 2. applies every message's `ApplyRequest` with ONE `store.apply()` call — the store's ledger makes that
 *    exactly once per idempotency key; records of one batch that share an idempotency key (a producer
 *    that sent the same message twice) are applied once and the copies follow the first one's outcome;
 * 3. runs each message's pushes in order (pushes are idempotent by push time, so they also run for
 *    `duplicate` messages: an earlier delivery may have applied the ops and failed on a push);
 * 4. copies everything permanent to the dead-letter sink with its reason: undecodable messages (whole
 *    body, so a DLQ redrive replays it), each rejected event (validation, unknown event), each op the
 *    store refused (family conflict, limit), each refused push;
 * 5. returns `batchItemFailures` for TRANSIENT failures only (store result `failed`, transient push
 *    errors, and dead-letter sends that failed — a record is never lost);
 * 6. writes its own metrics (`accrue_ingest_*`) as one more ApplyRequest under `{job="accrue",
 *    instance=<name>}`, so `/metrics` shows the pipeline's health.
 *
 * Nothing here knows about SQS or Lambda types; the adapters map their records to `IngestRecord`.
 */
import { randomUUID } from 'node:crypto';
import { fullJitterBackoffMs } from '../aws/retry';
import { AccrueError } from '../model/errors';
import { labelsFrom } from '../model/identity';
import { authorizeSender, type Producer } from '../producers';
import type { CompiledProfile } from '../profiles/types';
import type { ApplyRequest, ApplyResult, MetricOp, PushRequest, Store } from '../store/types';
import { type DecodedMessage, type DecodeOptions, decodeMessage, pushEventIndex } from './decode';
import { bodyKey, messageClock, scopeToProducer } from './idempotency';
import { eventsOfOp } from './op-sources';

export type { DecodedMessage, RejectedEvent } from './decode';

/** One queue message as the pipeline sees it (an `SQSRecord` reduced to what it needs). */
export interface IngestRecord {
  /** SQS message id: the batch item identifier (the idempotency key is the body's `id`, else its hash). */
  readonly messageId: string;
  readonly body: string;
  /** ApproximateReceiveCount, when known (for logs). */
  readonly receiveCount?: number;
  readonly attributes?: Readonly<Record<string, string | undefined>>;
}

/** One message for the dead-letter queue. */
export interface DeadLetterEntry {
  /** SQS message id of the source record (used to map a failed send back to its record). */
  readonly messageId: string;
  /** What to keep: the whole body for undecodable messages, the event / op / push otherwise. */
  readonly body: string;
  /** A `RejectReason` (`decode`, `invalid`, `family_conflict`, `limit`, …) or `internal`. */
  readonly reason: string;
  /** Where and why: index, message, idempotency key, group. Serialized as JSON in a message attribute. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Where permanent failures go. The SQS implementation is `SqsDeadLetterSink` (shared/aws/dead-letter.ts). */
export interface DeadLetterSink {
  /**
   * Sends the entries; resolves with the indexes (into `entries`) that were NOT accepted. May reject,
   * which means none were accepted. Entries are at least once: a retried record may send them again.
   */
  send(entries: readonly DeadLetterEntry[]): Promise<{ readonly failed: readonly number[] }>;
}

/** The logger surface used here; Powertools' `Logger` satisfies it. */
export interface PipelineLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Decodes one message body; throws (a permanent `AccrueError`, usually `DecodeError`) when it can't. */
export type Decoder = (
  body: string,
  fallbackId: string,
  profile: CompiledProfile,
  opts: DecodeOptions,
) => DecodedMessage;

export interface PipelineDeps {
  readonly store: Store;
  /** The compiled mapping profile (ARIA's by default). */
  readonly profile: CompiledProfile;
  /** Label limits etc. for the decoder (from `StoreConfig.limits`); its clock is `now`. */
  readonly decodeOptions?: Omit<DecodeOptions, 'nowMs'>;
  /** Which SQS SenderIds may write which jobs (ACCRUE_PRODUCERS); undefined = no binding. */
  readonly producers?: readonly Producer[];
  /** The decoder. @default decodeMessage (shared/ingest/decode.ts) */
  readonly decode?: Decoder;
  readonly deadLetters: DeadLetterSink;
  readonly logger: PipelineLogger;
  /** Clock in ms (wall clock for timestamps; differences for durations). */
  readonly now: () => number;
  /** `instance` label of the pipeline's own metrics: the Lambda function name or the local process name. */
  readonly instance: string;
  /**
   * Where the own metrics accumulate between writes (one per process, so unwritten counts carry over to
   * the next batch); false skips them. @default a new OwnMetrics(instance) per call (no carry-over)
   */
  readonly ownMetrics?: OwnMetrics | false;
}

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

export interface BatchResult {
  readonly batchItemFailures: { itemIdentifier: string }[];
  readonly stats: BatchStats;
}

/** Bucket layouts of the own histograms (finite upper bounds). */
export const APPLY_DURATION_BOUNDS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
export const BATCH_SIZE_BOUNDS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000];

/** The own metrics' group job label. */
export const OWN_JOB = 'accrue';

interface Slot {
  readonly record: IngestRecord;
  decoded?: DecodedMessage;
  /** Index of the first slot with the same idempotency key, when this one is an in-batch copy. */
  copyOf?: number;
  /** The store refused the message for good (a redelivery whose content changed): dead-lettered whole. */
  refused?: boolean;
  /** Store status of this slot's ApplyRequest. */
  status?: 'applied' | 'duplicate' | 'failed';
  outcome?: MessageOutcome;
  failure?: string;
  dead: DeadLetterEntry[];
  rejectedCounts: Map<string, number>;
}

export async function processBatch(
  records: readonly IngestRecord[],
  deps: PipelineDeps,
): Promise<BatchResult> {
  const { store, logger } = deps;
  const slots: Slot[] = records.map((record) => ({ record, dead: [], rejectedCounts: new Map() }));

  // 1. Decode; undecodable messages are dead-lettered whole, with the decoder's reason.
  const decode = deps.decode ?? decodeMessage;
  const decodeOptions: DecodeOptions = { ...deps.decodeOptions, nowMs: deps.now() };
  const decodeAlone = (record: IngestRecord) => (body: string) =>
    decode(body, 'op-source', deps.profile, messageClock(record, decodeOptions));
  const firstById = new Map<string, number>();
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    const { record } = slot;
    try {
      const decoded = scopeToProducer(
        decode(record.body, bodyKey(record.body), deps.profile, messageClock(record, decodeOptions)),
        record.attributes?.SenderId,
      );
      // The producer trust model: a sender writes only its own jobs (docs/security.md).
      authorizeSender(deps.producers, record.attributes?.SenderId, decoded.group['job'] ?? '');
      slot.decoded = decoded;
      const first = firstById.get(decoded.id);
      if (first === undefined) firstById.set(decoded.id, i);
      else slot.copyOf = first;
    } catch (err) {
      if (err instanceof AccrueError && !err.permanent) {
        slot.outcome = MessageOutcome.failed;
        slot.failure = err.message;
        continue;
      }
      const reason = err instanceof AccrueError ? err.reason : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      slot.outcome = MessageOutcome.deadLettered;
      slot.dead.push({
        messageId: record.messageId,
        body: record.body,
        reason,
        detail: { stage: 'decode', message, receiveCount: record.receiveCount },
      });
      addCount(slot.rejectedCounts, reason, 1);
    }
  }

  // 2. One apply for the whole batch, one request per distinct idempotency key.
  const owners: number[] = [];
  const requests: ApplyRequest[] = [];
  slots.forEach((slot, i) => {
    if (slot.decoded && slot.copyOf === undefined) {
      owners.push(i);
      requests.push(slot.decoded.apply);
    }
  });
  const applyStart = deps.now();
  let results: ApplyResult[] | undefined;
  let applyError: unknown;
  if (requests.length > 0) {
    try {
      const out = await store.apply(requests);
      if (out.length !== requests.length)
        throw new Error(`store.apply returned ${out.length} results for ${requests.length} requests`);
      results = out;
    } catch (err) {
      applyError = err;
      results = undefined;
    }
  }
  const applyDurationMs = deps.now() - applyStart;
  for (let k = 0; k < owners.length; k++) {
    const slot = slots[owners[k]!]!;
    const decoded = slot.decoded!;
    const result = results?.[k];
    if (!result) {
      slot.status = 'failed';
      slot.failure = `store.apply threw: ${errMessage(applyError)}`;
      continue;
    }
    slot.status = result.status;
    if (result.status === 'failed') {
      slot.failure = result.error.message;
      if (result.error.permanent) {
        // Never retried: the store refused this delivery for good (e.g. `redelivery_mismatch`).
        slot.refused = true;
        slot.dead.push({
          messageId: slot.record.messageId,
          body: slot.record.body,
          reason: result.error.reason,
          detail: {
            stage: 'store',
            message: result.error.message,
            idempotencyKey: decoded.id,
            group: { ...decoded.group },
            receiveCount: slot.record.receiveCount,
          },
        });
        addCount(slot.rejectedCounts, result.error.reason, 1);
      }
      continue;
    }
    // Events the decoder refused, and ops the store refused, go to the DLQ (for applied and duplicate
    // deliveries: a duplicate may be the retry of a delivery whose DLQ send failed).
    for (const r of decoded.rejected) {
      slot.dead.push({
        messageId: slot.record.messageId,
        body: eventBody(slot.record.body, r.index),
        reason: r.reason,
        detail: {
          stage: 'event',
          index: r.index,
          message: r.message,
          idempotencyKey: decoded.id,
          group: { ...decoded.group },
        },
      });
    }
    for (const r of result.rejected) {
      const op = decoded.apply.ops[r.index];
      // The op sums events (pre-aggregation): the detail names those events, by index in the message.
      const events = op ? eventsOfOp(slot.record.body, decoded, op, decodeAlone(slot.record)) : [];
      slot.dead.push({
        messageId: slot.record.messageId,
        body: op ? JSON.stringify(opForDlq(op)) : '{}',
        reason: r.error.reason,
        detail: {
          stage: 'store',
          ...(events.length > 0 ? { index: events[0], events } : {}),
          message: r.error.message,
          idempotencyKey: decoded.id,
          group: { ...decoded.group },
        },
      });
    }
    if (result.status === 'applied') {
      for (const r of decoded.rejected) addCount(slot.rejectedCounts, r.reason, 1);
      for (const r of result.rejected) addCount(slot.rejectedCounts, r.error.reason, 1);
    }
  }

  // 3. Pushes, in order per message; a transient failure stops that message's pushes and retries it.
  for (const i of owners) {
    const slot = slots[i]!;
    if (slot.status === 'failed') continue;
    const decoded = slot.decoded!;
    for (let p = 0; p < decoded.pushes.length; p++) {
      const push = decoded.pushes[p]!;
      try {
        await store.push(push);
      } catch (err) {
        if (!(err instanceof AccrueError) || !err.permanent) {
          slot.status = 'failed';
          slot.failure = `push ${p} (${push.method}): ${errMessage(err)}`;
          break;
        }
        slot.dead.push({
          messageId: slot.record.messageId,
          body: JSON.stringify({
            method: push.method,
            group: { ...push.group },
            pushTimeMs: push.pushTimeMs,
            families: push.families,
          }),
          reason: err.reason,
          detail: {
            stage: 'push',
            // The push event's index in the message (pushIndex: its place among the pushes, if unknown).
            ...eventIndexOf(push, p),
            message: err.message,
            idempotencyKey: decoded.id,
            group: { ...push.group },
          },
        });
        if (slot.status === 'applied') addCount(slot.rejectedCounts, err.reason, 1);
        try {
          await store.recordPushFailure(push.group, deps.now(), err.reason);
        } catch (e) {
          logger.warn('could not record push failure', {
            correlation_id: decoded.id,
            messageId: slot.record.messageId,
            error: errMessage(e),
          });
        }
      }
    }
  }

  // 4. Outcomes of owners, then of in-batch copies (which follow their first record).
  for (const i of owners) {
    const slot = slots[i]!;
    slot.outcome = slot.refused
      ? MessageOutcome.deadLettered
      : slot.status === 'failed'
        ? MessageOutcome.failed
        : slot.status === 'duplicate'
          ? MessageOutcome.duplicate
          : MessageOutcome.applied;
  }
  for (const slot of slots) {
    if (slot.copyOf === undefined) continue;
    const first = slots[slot.copyOf]!;
    slot.outcome = first.outcome === MessageOutcome.failed ? MessageOutcome.failed : MessageOutcome.duplicate;
    if (slot.outcome === MessageOutcome.failed)
      slot.failure = `same idempotency key as ${first.record.messageId}, which failed`;
  }

  // 5. Dead letters, one send for the batch; a record whose entries were not accepted is retried.
  const entries: DeadLetterEntry[] = [];
  const entryOwner: number[] = [];
  slots.forEach((slot, i) => {
    if (slot.outcome === MessageOutcome.failed) return;
    for (const e of slot.dead) {
      entries.push(e);
      entryOwner.push(i);
    }
  });
  let deadLetters = 0;
  if (entries.length > 0) {
    let failed: readonly number[];
    try {
      failed = (await deps.deadLetters.send(entries)).failed;
    } catch (err) {
      logger.error('dead-letter send failed', { error: errMessage(err), entries: entries.length });
      failed = entries.map((_, k) => k);
    }
    deadLetters = entries.length - failed.length;
    for (const k of failed) {
      const slot = slots[entryOwner[k]!]!;
      slot.outcome = MessageOutcome.failed;
      slot.failure = 'could not send to the dead-letter queue';
    }
  }

  // 6. Answer, stats, logs, own metrics.
  const outcomes: Record<MessageOutcome, number> = { applied: 0, duplicate: 0, failed: 0, dead_lettered: 0 };
  const rejected: Record<string, number> = Object.create(null);
  let eventsAccepted = 0;
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const slot of slots) {
    const outcome = slot.outcome ?? MessageOutcome.failed;
    outcomes[outcome]++;
    if (outcome === MessageOutcome.failed) batchItemFailures.push({ itemIdentifier: slot.record.messageId });
    if (slot.status === 'applied') eventsAccepted += slot.decoded?.acceptedCount ?? 0;
    // Decode failures count once they reached the DLQ; rejections inside messages count when applied.
    if (slot.status === 'applied' || outcome === MessageOutcome.deadLettered) {
      for (const [reason, n] of slot.rejectedCounts) rejected[reason] = (rejected[reason] ?? 0) + n;
    }
    const fields = {
      correlation_id: slot.decoded?.id ?? slot.record.messageId,
      messageId: slot.record.messageId,
      receiveCount: slot.record.receiveCount,
      outcome,
      events: slot.decoded?.eventCount,
      accepted: slot.decoded?.acceptedCount,
      rejected: slot.dead.length,
    };
    if (outcome === MessageOutcome.failed)
      logger.warn('message will be retried', { ...fields, error: slot.failure });
    else if (outcome === MessageOutcome.deadLettered)
      logger.warn('message dead-lettered', {
        ...fields,
        reason: slot.dead[0]?.reason,
        error: slot.dead[0]?.detail.message,
      });
    else if (slot.dead.length > 0) logger.info('message applied with rejections', fields);
    else logger.debug('message processed', fields);
    // A producer whose clock runs ahead: visible, though nothing was refused (docs/security.md).
    if (slot.decoded?.clamped && slot.status === 'applied')
      logger.warn('event times clamped', {
        ...fields,
        clamped: slot.decoded.clamped,
        sentTimestamp: slot.record.attributes?.SentTimestamp,
      });
  }
  const stats: BatchStats = {
    messages: slots.length,
    outcomes,
    eventsAccepted,
    rejected,
    deadLetters,
    applyDurationMs,
  };
  logger.info('batch processed', { ...stats, failures: batchItemFailures.length });

  if (deps.ownMetrics !== false && slots.length > 0) {
    const own = deps.ownMetrics ?? new OwnMetrics(deps.instance);
    own.add(stats);
    await own.flush(store, deps.now(), logger);
  }
  return { batchItemFailures, stats };
}

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
    const request = accRequest(acc, this.instance, nowMs);
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
export function ownMetricsRequest(stats: BatchStats, instance: string, nowMs: number): ApplyRequest {
  const acc = emptyAcc();
  addStats(acc, stats);
  return accRequest(acc, instance, nowMs);
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
    sum: h.sum,
    count: h.count,
  };
}

function addCount(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The rejected event itself (JSON) when the body is an envelope with `events[index]`, else the body. */
function eventBody(body: string, index: number): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { events?: unknown }).events)) {
      const ev = (parsed as { events: unknown[] }).events[index];
      if (ev !== undefined) return JSON.stringify(ev);
    }
  } catch {
    // Not JSON: keep the whole body.
  }
  return body;
}

function eventIndexOf(push: PushRequest, p: number): { index: number } | { pushIndex: number } {
  const index = pushEventIndex(push);
  return index === undefined ? { pushIndex: p } : { index };
}

function opForDlq(op: MetricOp): Record<string, unknown> {
  return { ...op, labels: { ...op.labels } };
}
