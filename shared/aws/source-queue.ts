/**
 * `SourceQueue` on SQS: DeleteMessageBatch of the records the pipeline finished by dead-lettering them
 * (shared/ingest/pipeline.ts, step 5), by their receipt handles, 10 per request. Records without a
 * receipt handle, entries SQS refused and requests that failed count as not removed; nothing throws (the
 * message then leaves the queue with its batch, or comes back and is dead-lettered once more).
 */
import { DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { IngestRecord, SourceQueue } from '../ingest/pipeline';

export interface SqsSourceQueueOptions {
  readonly client: SQSClient;
  /** The queue the records were received from (ACCRUE_QUEUE_URL). */
  readonly queueUrl: string;
}

export class SqsSourceQueue implements SourceQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(options: SqsSourceQueueOptions) {
    if (!options.queueUrl) throw new Error('SqsSourceQueue: queueUrl is required (ACCRUE_QUEUE_URL)');
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
  }

  async remove(records: readonly IngestRecord[]): Promise<number> {
    const handles = records.flatMap((r) => (r.receiptHandle ? [r.receiptHandle] : []));
    let left = records.length - handles.length;
    for (let i = 0; i < handles.length; i += 10) {
      const part = handles.slice(i, i + 10);
      try {
        const out = await this.#client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.#queueUrl,
            Entries: part.map((h, k) => ({ Id: `r${k}`, ReceiptHandle: h })),
          }),
        );
        left += out.Failed?.length ?? 0;
      } catch {
        left += part.length;
      }
    }
    return left;
  }
}
