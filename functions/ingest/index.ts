/**
 * Lambda entry point for the SQS event source mapping (ReportBatchItemFailures on).
 * Wiring only: dependencies are built once per cold start, then every invocation is one `processBatch`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SqsDeadLetterSink } from '../../shared/aws/dead-letter';
import { createSqsClient } from '../../shared/aws/sqs-client';
import { loadConfig } from '../../shared/config';
import { type IngestRecord, type PipelineDeps, processBatch } from '../../shared/ingest/pipeline';
import { loadProfile } from '../../shared/profiles';
import { createStore } from '../../shared/store';

const logger = new Logger({ serviceName: 'accrue-ingest' });
let deps: Promise<PipelineDeps> | undefined;

async function buildDeps(): Promise<PipelineDeps> {
  const config = loadConfig();
  if (!config.ingest.dlqUrl) throw new Error('ACCRUE_DLQ_URL: is required for the ingest function');
  return {
    store: await createStore(config.store, config.aws),
    profile: loadProfile(config.ingest.profile),
    decodeOptions: { limits: config.store.limits },
    deadLetters: new SqsDeadLetterSink({
      client: createSqsClient(config.aws),
      queueUrl: config.ingest.dlqUrl,
    }),
    logger,
    now: Date.now,
    instance: config.ingest.instance,
  };
}

export function toIngestRecord(r: SQSRecord): IngestRecord {
  const rc = Number(r.attributes?.ApproximateReceiveCount);
  return {
    messageId: r.messageId,
    body: r.body,
    ...(Number.isFinite(rc) ? { receiveCount: rc } : {}),
    attributes: { ...r.attributes },
  };
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  deps ??= buildDeps().catch((err: unknown) => {
    deps = undefined; // a failed cold start is retried on the next invocation
    throw err;
  });
  const { batchItemFailures } = await processBatch(event.Records.map(toIngestRecord), await deps);
  return { batchItemFailures };
}
