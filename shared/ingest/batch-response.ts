/**
 * The answer to Lambda's SQS event source mapping (ReportBatchItemFailures). Like Powertools' batch
 * utility, a batch in which EVERY record failed is an error, not a normal return: the invocation then
 * counts in the function's `Errors` metric (the IngestErrors alarm) and the event source mapping backs off,
 * instead of the failure hiding behind a successful invocation until the message-age alarm fires.
 *
 * Powertools' `processPartialResponse` itself doesn't fit: it calls a handler per record, while Accrue
 * decodes and pre-aggregates the whole batch into one `store.apply()` (docs/ingest.md).
 */
import type { BatchResult } from './pipeline';

export class FullBatchFailureError extends Error {
  override readonly name = 'FullBatchFailureError';
  constructor(readonly recordCount: number) {
    super(
      `all ${recordCount} record(s) of the batch failed with a transient error and stay on the queue ` +
        '(the log line "batch processed" has the cause)',
    );
  }
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The partial-batch response, or a thrown `FullBatchFailureError` when no record succeeded. */
export function toBatchResponse(result: BatchResult, recordCount: number): SqsBatchResponse {
  const { batchItemFailures } = result;
  if (recordCount > 0 && batchItemFailures.length >= recordCount)
    throw new FullBatchFailureError(recordCount);
  return { batchItemFailures };
}
