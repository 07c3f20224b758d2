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
 *    body, so a DLQ redrive replays it; sent right after decoding, before the apply), each rejected event
 *    (validation, unknown event), each op the store refused (family conflict, limit), each refused push;
 *    a message whose dead letters the DLQ accepted is removed from its queue at once (`sourceQueue`), so
 *    a later failure of the batch (a worker dying, a timeout, a visibility timeout expiring during a slow
 *    apply) can't deliver it — and dead-letter it — again; and a message's dead letters are claimed in
 *    the store's ledger first, so two deliveries running at once send them once (./dead-letter-claims.ts):
 *    one DLQ copy per poisoned message;
 * 5. returns `batchItemFailures` for TRANSIENT failures only (store result `failed`, transient push
 *    errors, and dead-letter sends that failed — a record is never lost);
 * 6. writes its own metrics (`accrue_ingest_*`) as one more ApplyRequest under `{job="accrue",
 *    instance=<name>}`, so `/metrics` shows the pipeline's health.
 *
 * Nothing here knows about SQS or Lambda types; the adapters map their records to `IngestRecord`.
 */
import { AccrueError } from '../model/errors';
import { authorizeSender, type Producer } from '../producers';
import type { CompiledProfile } from '../profiles/types';
import type { ApplyResult, MetricOp, PushRequest, Store, ValidApplyRequest, ValidPush } from '../store/types';
import { claimEach, DEAD_LETTER_LEASE_MS, deadLetterKey, settleEach } from './dead-letter-claims';
import { type DecodedMessage, type DecodeOptions, decodeMessage, pushEventIndex } from './decode';
import { errMessage } from './errors';
import { bodyKey, messageClock, scopeToProducer } from './idempotency';
import { eventsOfOp } from './op-sources';
import { addCount, type BatchStats, MessageOutcome, OwnMetrics } from './own-metrics';

export type { DecodedMessage, RejectedEvent } from './decode';
export { type BatchStats, MessageOutcome, OWN_JOB, OwnMetrics, ownMetricsRequest } from './own-metrics';

/** One queue message as the pipeline sees it (an `SQSRecord` reduced to what it needs). */
export interface IngestRecord {
  /** SQS message id: the batch item identifier (the idempotency key is the body's `id`, else its hash). */
  readonly messageId: string;
  readonly body: string;
  /** ApproximateReceiveCount, when known (for logs). */
  readonly receiveCount?: number;
  /** The receipt handle of this delivery, to remove the message from its queue (`SourceQueue`). */
  readonly receiptHandle?: string;
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

/**
 * The queue the records came from. The SQS implementation is `SqsSourceQueue` (shared/aws/source-queue.ts).
 * The pipeline removes a message once its dead letters are in the DLQ, without waiting for the batch's
 * answer: the event source mapping deletes the others after the batch, and would delete these too, but a
 * batch that fails after that point comes back whole.
 */
export interface SourceQueue {
  /** Deletes the records (by receipt handle); resolves with how many were NOT deleted. Never rejects. */
  remove(records: readonly IngestRecord[]): Promise<number>;
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
  /** How long a delivery's claim on a message's dead letters holds off others. @default 60 s */
  readonly deadLetterLeaseMs?: number;
  /** Where the records came from; without it a dead-lettered message leaves the queue with its batch. */
  readonly sourceQueue?: SourceQueue;
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

export interface BatchResult {
  readonly batchItemFailures: { itemIdentifier: string }[];
  readonly stats: BatchStats;
}

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
  /** The DLQ accepted this slot's dead letters (they are not sent again in this batch). */
  lettered?: boolean;
  rejectedCounts: Map<string, number>;
}

/** The six steps named in this file's header, in order (undecodable messages are dead-lettered first). */
export async function processBatch(
  records: readonly IngestRecord[],
  deps: PipelineDeps,
): Promise<BatchResult> {
  const slots: Slot[] = records.map((record) => ({ record, dead: [], rejectedCounts: new Map() }));
  const decodeOptions: DecodeOptions = { ...deps.decodeOptions, nowMs: deps.now() };
  decodeAll(slots, deps, decodeOptions);
  const undecodable = await sendDeadLetters(slots, deps);
  const { owners, applyDurationMs } = await applyAll(slots, deps, decodeOptions);
  await runPushes(slots, owners, deps);
  settleOutcomes(slots, owners);
  const deadLetters = undecodable + (await sendDeadLetters(slots, deps));
  return answer(slots, deps, deadLetters, applyDurationMs);
}

/** 1. Decode; undecodable messages are dead-lettered whole, with the decoder's reason. */
function decodeAll(slots: Slot[], deps: PipelineDeps, decodeOptions: DecodeOptions): void {
  const decode = deps.decode ?? decodeMessage;
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
}

/** 2. One apply for the whole batch, one request per distinct idempotency key. */
async function applyAll(
  slots: Slot[],
  deps: PipelineDeps,
  decodeOptions: DecodeOptions,
): Promise<{ owners: number[]; applyDurationMs: number }> {
  const owners: number[] = [];
  const requests: ValidApplyRequest[] = [];
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
      const out = await deps.store.apply(requests);
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
    const result = results?.[k];
    if (!result) {
      slot.status = 'failed';
      slot.failure = `store.apply threw: ${errMessage(applyError)}`;
    } else recordApplyResult(slot, result, deps, decodeOptions);
  }
  return { owners, applyDurationMs };
}

/** Step 2 for one message: its status, and its refused message, events and ops as dead letters. */
function recordApplyResult(
  slot: Slot,
  result: ApplyResult,
  deps: PipelineDeps,
  decodeOptions: DecodeOptions,
): void {
  const decoded = slot.decoded!;
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
    return;
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
  for (const r of result.rejected)
    slot.dead.push(refusedOpEntry(slot, r.index, r.error, deps, decodeOptions));
  if (result.status === 'applied') {
    for (const r of decoded.rejected) addCount(slot.rejectedCounts, r.reason, 1);
    for (const r of result.rejected) addCount(slot.rejectedCounts, r.error.reason, 1);
  }
}

/** The dead letter of an op the store refused; its detail names the events pre-aggregation summed into it. */
function refusedOpEntry(
  slot: Slot,
  index: number,
  error: AccrueError,
  deps: PipelineDeps,
  decodeOptions: DecodeOptions,
): DeadLetterEntry {
  const decoded = slot.decoded!;
  const op = decoded.apply.ops[index];
  const decodeAlone = (body: string) =>
    (deps.decode ?? decodeMessage)(body, 'op-source', deps.profile, messageClock(slot.record, decodeOptions));
  const events = op ? eventsOfOp(slot.record.body, decoded, op, decodeAlone) : [];
  return {
    messageId: slot.record.messageId,
    body: op ? JSON.stringify(opForDlq(op)) : '{}',
    reason: error.reason,
    detail: {
      stage: 'store',
      ...(events.length > 0 ? { index: events[0], events } : {}),
      message: error.message,
      idempotencyKey: decoded.id,
      group: { ...decoded.group },
    },
  };
}

/** 3. Pushes, in order per message; a transient failure stops that message's pushes and retries it. */
async function runPushes(slots: Slot[], owners: readonly number[], deps: PipelineDeps): Promise<void> {
  for (const i of owners) {
    const slot = slots[i]!;
    if (slot.status === 'failed') continue;
    const pushes = slot.decoded!.pushes;
    for (let p = 0; p < pushes.length; p++) {
      const push = pushes[p]!;
      try {
        await deps.store.push(push);
      } catch (err) {
        if (!(err instanceof AccrueError) || !err.permanent) {
          slot.status = 'failed';
          slot.failure = `push ${p} (${push.method}): ${errMessage(err)}`;
          break;
        }
        await refusePush(slot, push, p, err, deps);
      }
    }
  }
}

/** Step 3 for a push the store refused for good: a dead letter, a count, the group's failure time. */
async function refusePush(
  slot: Slot,
  push: ValidPush,
  p: number,
  err: AccrueError,
  deps: PipelineDeps,
): Promise<void> {
  const decoded = slot.decoded!;
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
    await deps.store.recordPushFailure(push.group, deps.now(), err.reason);
  } catch (e) {
    deps.logger.warn('could not record push failure', {
      correlation_id: decoded.id,
      messageId: slot.record.messageId,
      error: errMessage(e),
    });
  }
}

/** 4. Outcomes of owners, then of in-batch copies (which follow their first record). */
function settleOutcomes(slots: Slot[], owners: readonly number[]): void {
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
}

/**
 * 5. Dead letters of every settled slot not sent yet, one send, each message's claimed first in the store's
 * ledger (./dead-letter-claims.ts), so concurrent deliveries of a message send them once; a record whose
 * entries were not accepted, or whose claim another delivery holds, is retried; one whose entries are in
 * the DLQ (sent now or before) is removed from its queue at once. Returns how many were sent.
 */
async function sendDeadLetters(slots: Slot[], deps: PipelineDeps): Promise<number> {
  const senders = await claimDeadLetterSlots(slots, deps);
  const entries: DeadLetterEntry[] = [];
  const entryOwner: number[] = [];
  for (const i of senders.keys()) {
    for (const e of slots[i]!.dead) {
      entries.push(e);
      entryOwner.push(i);
    }
  }
  let failed: readonly number[] = [];
  if (entries.length > 0) {
    try {
      failed = (await deps.deadLetters.send(entries)).failed;
    } catch (err) {
      deps.logger.error('dead-letter send failed', { error: errMessage(err), entries: entries.length });
      failed = entries.map((_, k) => k);
    }
  }
  const refused = new Set(failed.map((k) => entryOwner[k]!));
  for (const i of refused) {
    slots[i]!.outcome = MessageOutcome.failed;
    slots[i]!.failure = 'could not send to the dead-letter queue';
  }
  const unsettled = await settleEach(
    deps.store,
    [...senders].flatMap(([i, c]) => (c ? [{ ...c, sent: !refused.has(i) }] : [])),
  );
  if (unsettled > 0) deps.logger.warn('could not settle dead-letter claims', { claims: unsettled });
  const lettered = [...senders.keys()].filter((i) => !refused.has(i));
  for (const i of lettered) slots[i]!.lettered = true;
  await removeFromQueue(
    lettered.map((i) => slots[i]!.record),
    deps,
  );
  return entries.length - failed.length;
}

/**
 * Step 5's claims: the slots whose dead letters this delivery sends (with their claims), or that another
 * delivery already sent (no claim: nothing to send, counted as a duplicate); a claim held by another
 * delivery, or a store error, makes the record a retry.
 */
async function claimDeadLetterSlots(
  slots: Slot[],
  deps: PipelineDeps,
): Promise<Map<number, { key: string; token: string } | undefined>> {
  const todo: number[] = [];
  slots.forEach((slot, i) => {
    if (slot.outcome === undefined || slot.outcome === MessageOutcome.failed || slot.lettered) return;
    if (slot.dead.length > 0) todo.push(i);
  });
  const keys = todo.map((i) => {
    const { record, decoded } = slots[i]!;
    return deadLetterKey(record.messageId, record.body, decoded?.id);
  });
  const claims = await claimEach(deps.store, keys, deps.deadLetterLeaseMs ?? DEAD_LETTER_LEASE_MS);
  const senders = new Map<number, { key: string; token: string } | undefined>();
  todo.forEach((i, k) => {
    const slot = slots[i]!;
    const claim = claims[k]!;
    if (claim.state === 'claimed') senders.set(i, { key: keys[k]!, token: claim.token });
    else if (claim.state === 'sent') {
      // Another delivery of this message sent them: this one neither sends nor counts them again.
      senders.set(i, undefined);
      slot.dead = [];
      if (slot.outcome === MessageOutcome.deadLettered) slot.outcome = MessageOutcome.duplicate;
      if (slot.status !== 'applied') slot.rejectedCounts.clear();
    } else {
      slot.outcome = MessageOutcome.failed;
      slot.failure =
        claim.state === 'held'
          ? 'another delivery of this message is sending its dead letters'
          : `could not claim its dead letters: ${claim.error}`;
    }
  });
  return senders;
}

/** Step 5: records whose dead letters are in the DLQ leave the queue now (a leftover is only logged). */
async function removeFromQueue(records: readonly IngestRecord[], deps: PipelineDeps): Promise<void> {
  if (!deps.sourceQueue || records.length === 0) return;
  const left = await deps.sourceQueue.remove(records);
  if (left > 0)
    deps.logger.warn(
      'could not remove dead-lettered messages from the queue; a redelivery sends them again',
      {
        messages: left,
      },
    );
}

/** 6. Answer, stats, logs, own metrics. */
async function answer(
  slots: Slot[],
  deps: PipelineDeps,
  deadLetters: number,
  applyDurationMs: number,
): Promise<BatchResult> {
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
    logSlot(slot, outcome, deps.logger);
  }
  const stats: BatchStats = {
    messages: slots.length,
    outcomes,
    eventsAccepted,
    rejected,
    deadLetters,
    applyDurationMs,
  };
  deps.logger.info('batch processed', { ...stats, failures: batchItemFailures.length });
  if (deps.ownMetrics !== false && slots.length > 0) {
    const own = deps.ownMetrics ?? new OwnMetrics(deps.instance);
    own.add(stats);
    await own.flush(deps.store, deps.now(), deps.logger);
  }
  return { batchItemFailures, stats };
}

/** Step 6 for one message: one log line by outcome, and one for clamped event times. */
function logSlot(slot: Slot, outcome: MessageOutcome, logger: PipelineLogger): void {
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
