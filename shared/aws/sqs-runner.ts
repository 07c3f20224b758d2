/**
 * A local stand-in for Lambda's SQS event source mapping: pollers that receive from a queue, call the
 * same batch handler the Lambda calls, delete what succeeded and leave the rest to SQS.
 *
 * Semantics copied from the event source mapping (AWS Lambda developer guide, "Using Lambda with SQS"):
 * - Long polling (`WaitTimeSeconds`, default 20) while the queue is empty.
 * - `batchSize` (1..10000, default 10) and `batchingWindowMs` (MaximumBatchingWindowInSeconds, 0..300 s):
 *   with a window of 0 a batch is what one receive returned; otherwise the poller keeps receiving until
 *   it holds `batchSize` messages or the window, started by the first message, has elapsed.
 * - Partial batch responses (ReportBatchItemFailures): messages listed in `batchItemFailures` are left
 *   on the queue untouched and reappear after the visibility timeout; the others are deleted with
 *   DeleteMessageBatch. A handler that throws, or answers with an identifier that isn't in the batch,
 *   fails the whole batch (Lambda does the same).
 * - Redrive to the DLQ is the queue's job (its RedrivePolicy and maxReceiveCount), as in AWS.
 * - `concurrency` pollers run independently (Lambda scales pollers; here it's fixed).
 * - `stop()` is graceful: receives in progress are aborted (anything they had taken reappears after the
 *   visibility timeout), batches in flight finish, including their deletes.
 *
 * `hooks.beforeDelete` is a fault-injection point for tests: throwing there simulates a worker that dies
 * after the store commit and before the delete.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { IngestRecord, PipelineLogger } from '../ingest/pipeline';
import { type Problem, ValidationError } from '../model/errors';
import { fullJitterBackoffMs } from './retry';

export type BatchHandler = (
  records: IngestRecord[],
) => Promise<{ batchItemFailures: readonly { itemIdentifier: string }[] }>;

export interface RunnerHooks {
  /** Called after the handler answered and before the delete; throwing leaves the whole batch on the queue. */
  beforeDelete?(
    records: readonly IngestRecord[],
    result: { batchItemFailures: readonly { itemIdentifier: string }[] },
  ): void | Promise<void>;
}

export interface SqsRunnerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly handler: BatchHandler;
  /** Messages per batch, 1..10000. @default 10 */
  readonly batchSize?: number;
  /** MaximumBatchingWindowInSeconds, in ms, 0..300000. @default 0 */
  readonly batchingWindowMs?: number;
  /** Long-poll wait when the queue is empty, 0..20 s. @default 20 */
  readonly waitTimeSeconds?: number;
  /** Visibility timeout set on receive; unset = the queue's own. 0..43200 s. */
  readonly visibilityTimeoutSeconds?: number;
  /** Independent pollers, 1..100. @default 1 */
  readonly concurrency?: number;
  readonly logger?: PipelineLogger;
  readonly hooks?: RunnerHooks;
}

export interface RunnerStats {
  received: number;
  batches: number;
  deleted: number;
  /** Messages left on the queue for a retry (batch item failures, failed batches, failed deletes). */
  retried: number;
  handlerErrors: number;
  receiveErrors: number;
}

/** Wait after a failed receive: full jitter from 200 ms (mean 100 ms), doubling to 5 s (shared/aws/retry.ts). */
const RECEIVE_BACKOFF_BASE_MS = 200;
const RECEIVE_BACKOFF_CAP_MS = 5000;

const silent: PipelineLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class SqsEventSourceRunner {
  readonly stats: RunnerStats = {
    received: 0,
    batches: 0,
    deleted: 0,
    retried: 0,
    handlerErrors: 0,
    receiveErrors: 0,
  };
  readonly #o: Required<Omit<SqsRunnerOptions, 'visibilityTimeoutSeconds' | 'hooks'>> &
    Pick<SqsRunnerOptions, 'visibilityTimeoutSeconds' | 'hooks'>;
  #abort = new AbortController();
  #loops: Promise<void>[] = [];
  #stopping = false;

  constructor(options: SqsRunnerOptions) {
    const o = {
      batchSize: 10,
      batchingWindowMs: 0,
      waitTimeSeconds: 20,
      concurrency: 1,
      logger: silent,
      ...options,
    };
    const problems: Problem[] = [];
    const check = (path: string, v: number | undefined, min: number, max: number) => {
      if (v !== undefined && (!Number.isInteger(v) || v < min || v > max))
        problems.push({ path, message: `must be an integer in ${min}..${max}, got ${v}` });
    };
    if (!o.queueUrl) problems.push({ path: 'queueUrl', message: 'is required' });
    check('batchSize', o.batchSize, 1, 10_000);
    check('batchingWindowMs', o.batchingWindowMs, 0, 300_000);
    check('waitTimeSeconds', o.waitTimeSeconds, 0, 20);
    check('visibilityTimeoutSeconds', o.visibilityTimeoutSeconds, 0, 43_200);
    check('concurrency', o.concurrency, 1, 100);
    // Lambda's rule: a batch size above 10 needs a batching window.
    if (o.batchSize > 10 && o.batchingWindowMs === 0)
      problems.push({ path: 'batchingWindowMs', message: 'must be > 0 when batchSize > 10 (as for Lambda)' });
    if (problems.length > 0) throw new ValidationError(problems);
    this.#o = o;
  }

  get running(): boolean {
    return this.#loops.length > 0 && !this.#stopping;
  }

  start(): void {
    if (this.#loops.length > 0) throw new Error('SqsEventSourceRunner: already started');
    this.#stopping = false;
    this.#abort = new AbortController();
    for (let i = 0; i < this.#o.concurrency; i++) this.#loops.push(this.#poll(i));
  }

  /** Stops receiving, lets batches in flight finish (handler and deletes), then resolves. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  async #poll(poller: number): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      let batch: Message[];
      try {
        batch = await this.#gather();
        failures = 0;
      } catch (err) {
        if (this.#stopping) break;
        this.stats.receiveErrors++;
        const retryInMs = fullJitterBackoffMs(failures++, RECEIVE_BACKOFF_BASE_MS, RECEIVE_BACKOFF_CAP_MS);
        this.#o.logger.warn('receive failed', {
          poller,
          error: err instanceof Error ? err.message : String(err),
          retryInMs,
        });
        await sleep(retryInMs, undefined, { signal: this.#abort.signal }).catch(() => {});
        continue;
      }
      if (batch.length > 0) await this.#dispatch(batch);
    }
  }

  /** Receives one batch: up to batchSize messages, within the batching window. */
  async #gather(): Promise<Message[]> {
    const { client, queueUrl, batchSize, batchingWindowMs, waitTimeSeconds, visibilityTimeoutSeconds } =
      this.#o;
    const byId = new Map<string, Message>();
    let deadline = 0;
    while (!this.#stopping && byId.size < batchSize) {
      let wait = waitTimeSeconds;
      if (byId.size > 0) {
        const remaining = deadline - Date.now();
        if (batchingWindowMs === 0 || remaining <= 0) break;
        wait = Math.min(waitTimeSeconds, Math.floor(remaining / 1000));
      }
      let messages: Message[];
      try {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, batchSize - byId.size),
            WaitTimeSeconds: wait,
            ...(visibilityTimeoutSeconds !== undefined
              ? { VisibilityTimeout: visibilityTimeoutSeconds }
              : {}),
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.#abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        // Stopping (or a receive error) with messages in hand: process what we have.
        if (byId.size > 0) break;
        throw err;
      }
      if (messages.length > 0 && byId.size === 0) deadline = Date.now() + batchingWindowMs;
      // A message seen twice in one window (visibility expired meanwhile) keeps its newest receipt handle.
      for (const m of messages) if (m.MessageId && m.ReceiptHandle) byId.set(m.MessageId, m);
      this.stats.received += messages.length;
      if (messages.length === 0 && wait === 0) {
        // Short poll came back empty: don't spin.
        const pause = byId.size > 0 ? Math.max(0, Math.min(50, deadline - Date.now())) : 100;
        await sleep(pause, undefined, { signal: this.#abort.signal }).catch(() => {});
      }
    }
    return [...byId.values()];
  }

  async #dispatch(batch: Message[]): Promise<void> {
    const { handler, logger, hooks } = this.#o;
    this.stats.batches++;
    const records = batch.map(toRecord);
    let result: { batchItemFailures: readonly { itemIdentifier: string }[] };
    try {
      result = await handler(records);
      await hooks?.beforeDelete?.(records, result);
    } catch (err) {
      this.stats.handlerErrors++;
      this.stats.retried += batch.length;
      logger.error('batch failed; every message will be retried after the visibility timeout', {
        messages: batch.length,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    const ids = new Set(records.map((r) => r.messageId));
    const failed = new Set<string>();
    for (const f of result.batchItemFailures ?? []) {
      if (typeof f?.itemIdentifier !== 'string' || !ids.has(f.itemIdentifier)) {
        this.stats.retried += batch.length;
        logger.error('batch response names a message not in the batch; every message will be retried', {
          itemIdentifier: String(f?.itemIdentifier),
        });
        return;
      }
      failed.add(f.itemIdentifier);
    }
    this.stats.retried += failed.size;
    const done = batch.filter((m) => !failed.has(m.MessageId!));
    for (let i = 0; i < done.length; i += 10) {
      const part = done.slice(i, i + 10);
      try {
        const out = await this.#o.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.#o.queueUrl,
            Entries: part.map((m, k) => ({ Id: `d${k}`, ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        const nFailed = out.Failed?.length ?? 0;
        this.stats.deleted += part.length - nFailed;
        this.stats.retried += nFailed;
        if (nFailed > 0)
          logger.warn('delete failed; the messages will be redelivered (and skipped as duplicates)', {
            failed: out.Failed,
          });
      } catch (err) {
        this.stats.retried += part.length;
        logger.warn('delete failed; the messages will be redelivered (and skipped as duplicates)', {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}

function toRecord(m: Message): IngestRecord {
  const attributes: Record<string, string | undefined> = { ...(m.Attributes ?? {}) };
  const rc = Number(attributes.ApproximateReceiveCount);
  return {
    messageId: m.MessageId!,
    body: m.Body ?? '',
    ...(Number.isFinite(rc) ? { receiveCount: rc } : {}),
    ...(m.ReceiptHandle ? { receiptHandle: m.ReceiptHandle } : {}),
    attributes,
  };
}
