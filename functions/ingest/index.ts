/**
 * Lambda entry point for the SQS event source mapping (ReportBatchItemFailures on).
 * Wiring only: dependencies are built once per cold start, then every invocation is one `processBatch`.
 * Imports are chosen for the bundle (≤ 250 KB, bench/bundle.ts): the DynamoDB store folder (not the store
 * factory with the memory store), the decoder modules (not `shared/ingest/index.ts`, which re-exports the
 * TypeBox envelope schema) and the deployed-profile loader (not the full one with TypeBox and YAML).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SqsDeadLetterSink } from '../../shared/aws/dead-letter';
import { SqsSourceQueue } from '../../shared/aws/source-queue';
import { createSqsClient } from '../../shared/aws/sqs-client';
import { loadConfig } from '../../shared/config';
import { toBatchResponse } from '../../shared/ingest/batch-response';
import { pipelineDepsFromConfig } from '../../shared/ingest/deps';
import { type IngestRecord, type PipelineDeps, processBatch } from '../../shared/ingest/pipeline';
import { loadDeployedProfile } from '../../shared/profiles/deployed';
import { openDynamoStore } from '../../shared/store/dynamodb';

/**
 * The JSON of the profile the AccrueGateway construct embeds at synth (esbuild `define`, see
 * `ingestProfile` in infra/accrue-gateway.ts); absent (`typeof` gives 'undefined') in other builds and tests.
 */
declare const ACCRUE_EMBEDDED_PROFILE: string;
const embeddedProfile: unknown =
  typeof ACCRUE_EMBEDDED_PROFILE === 'string' ? JSON.parse(ACCRUE_EMBEDDED_PROFILE) : undefined;

const logger = new Logger({ serviceName: 'accrue-ingest' });
let deps: Promise<PipelineDeps> | undefined;

async function buildDeps(): Promise<PipelineDeps> {
  const config = loadConfig();
  if (!config.ingest.dlqUrl) throw new Error('ACCRUE_DLQ_URL: is required for the ingest function');
  // The profile first: a bad profile fails the cold start without a round trip to DynamoDB.
  const profile = loadDeployedProfile(config.ingest.profile, embeddedProfile);
  const sqs = createSqsClient(config.aws);
  return pipelineDepsFromConfig(config, {
    // Always DynamoDB here (importing the store folder directly keeps the memory store out of the bundle).
    store: await openDynamoStore(config.store, config.aws),
    profile,
    deadLetters: new SqsDeadLetterSink({ client: sqs, queueUrl: config.ingest.dlqUrl }),
    // Dead-lettered messages leave the queue at once (the construct sets ACCRUE_QUEUE_URL).
    ...(config.ingest.queueUrl
      ? { sourceQueue: new SqsSourceQueue({ client: sqs, queueUrl: config.ingest.queueUrl }) }
      : {}),
    logger,
  });
}

export function toIngestRecord(r: SQSRecord): IngestRecord {
  const rc = Number(r.attributes?.ApproximateReceiveCount);
  return {
    messageId: r.messageId,
    body: r.body,
    ...(Number.isFinite(rc) ? { receiveCount: rc } : {}),
    receiptHandle: r.receiptHandle,
    attributes: { ...r.attributes },
  };
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  deps ??= buildDeps().catch((err: unknown) => {
    deps = undefined; // a failed cold start is retried on the next invocation
    throw err;
  });
  // Every record failed (e.g. a store outage): throw, so the invocation counts as an error (docs/ingest.md).
  return toBatchResponse(
    await processBatch(event.Records.map(toIngestRecord), await deps),
    event.Records.length,
  );
}
