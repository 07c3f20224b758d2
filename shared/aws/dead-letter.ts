/**
 * `DeadLetterSink` on SQS: SendMessageBatch to the dead-letter queue.
 *
 * Each entry becomes one DLQ message whose body is what to keep (the whole undecodable body, or the
 * rejected event / op / push) and whose message attributes say why:
 * - `accrue-reason` (String): the reject reason (`decode`, `invalid`, `family_conflict`, `limit`, …);
 * - `accrue-source-message-id` (String): the SQS message id of the source record;
 * - `accrue-detail` (String): JSON with stage, the event's index in the message, message, idempotency key,
 *   group (cut at 4 KiB, still JSON).
 *
 * Batches hold at most 10 entries and stay under SQS's 256 KiB request payload; entries the queue
 * refused (SendMessageBatch `Failed`) or whose request failed are reported back by index so the caller
 * can retry their source record. Nothing is dropped.
 */
import { type MessageAttributeValue, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterEntry, DeadLetterSink } from '../ingest/pipeline';
import { chunkSqsBatches } from './retry';

export const DLQ_ATTR_REASON = 'accrue-reason';
export const DLQ_ATTR_SOURCE = 'accrue-source-message-id';
export const DLQ_ATTR_DETAIL = 'accrue-detail';

const MAX_DETAIL_CHARS = 4096;
/** Concurrent SendMessageBatch requests per `send()`. */
const PARALLEL = 4;

export interface SqsDeadLetterSinkOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
}

export class SqsDeadLetterSink implements DeadLetterSink {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: SqsDeadLetterSinkOptions) {
    if (!options.queueUrl) throw new Error('SqsDeadLetterSink: queueUrl is required (ACCRUE_DLQ_URL)');
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async send(entries: readonly DeadLetterEntry[]): Promise<{ readonly failed: readonly number[] }> {
    const chunks = chunkSqsBatches(entries.map((e, index) => ({ index, ...toMessage(e) })));
    const failed: number[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const batch = chunks[next++]!;
        try {
          const out = await this.#client.send(
            new SendMessageBatchCommand({
              QueueUrl: this.#queueUrl,
              Entries: batch.map((m) => ({
                Id: `e${m.index}`,
                MessageBody: m.body,
                MessageAttributes: m.attributes,
              })),
            }),
          );
          for (const f of out.Failed ?? []) {
            const index = Number(f.Id?.slice(1));
            if (Number.isInteger(index)) failed.push(index);
          }
        } catch {
          for (const m of batch) failed.push(m.index);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, chunks.length) }, worker));
    return { failed: failed.sort((a, b) => a - b) };
  }
}

interface OutMessage {
  readonly index: number;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly bytes: number;
}

function toMessage(e: DeadLetterEntry): Omit<OutMessage, 'index'> {
  const detail = boundedDetail(e.detail, MAX_DETAIL_CHARS);
  const attributes: Record<string, MessageAttributeValue> = {
    [DLQ_ATTR_REASON]: { DataType: 'String', StringValue: e.reason || 'unknown' },
    [DLQ_ATTR_SOURCE]: { DataType: 'String', StringValue: e.messageId || 'unknown' },
    [DLQ_ATTR_DETAIL]: { DataType: 'String', StringValue: detail },
  };
  let bytes = Buffer.byteLength(e.body);
  for (const [name, v] of Object.entries(attributes))
    bytes += name.length + 6 + Buffer.byteLength(v.StringValue ?? '');
  // SQS refuses an empty body.
  return { body: e.body === '' ? '(empty)' : e.body, attributes, bytes };
}

/**
 * `detail` as JSON of at most `max` characters that is still JSON: when too long, the message and the
 * group's values are clipped (and `truncated: true` added); if that is not enough, the group is left out.
 */
export function boundedDetail(detail: unknown, max: number): string {
  const full = JSON.stringify(detail) ?? '{}';
  if (full.length <= max) return full;
  const d: Record<string, unknown> = { ...(detail as Record<string, unknown>), truncated: true };
  const clipValue = (v: unknown, n: number) =>
    typeof v === 'string' && v.length > n ? `${v.slice(0, n)}…(${v.length - n} more characters)` : v;
  if (d.group && typeof d.group === 'object') {
    const g: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(d.group as Record<string, unknown>).slice(0, 32))
      g[k.slice(0, 64)] = clipValue(v, 64);
    d.group = g;
  }
  for (const budget of [Math.floor(max / 2), Math.floor(max / 8), 64]) {
    const text = JSON.stringify({ ...d, message: clipValue(d.message, budget) });
    if (text.length <= max) return text;
  }
  const { group: _group, ...rest } = d;
  const text = JSON.stringify({
    ...rest,
    message: clipValue(d.message, 64),
    idempotencyKey: clipValue(d.idempotencyKey, 128),
  });
  return text.length <= max
    ? text
    : JSON.stringify({
        stage: d.stage,
        ...(typeof d.index === 'number' ? { index: d.index } : {}),
        truncated: true,
      });
}
