/**
 * The whole of Accrue in one process, without an AWS account (what `npm start` runs):
 * the embedded SQS endpoint (fauxqs, loopback), the queue and its DLQ with a RedrivePolicy, the store
 * (memory, durable in `ACCRUE_DATA_DIR` by default), the event-source runner calling the same
 * `processBatch` as the Lambda, and the HTTP service (`buildServer`) on ACCRUE_HOST:ACCRUE_PORT.
 *
 * `startLocal()` is also used in-process by the freshness bench.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { FastifyInstance } from 'fastify';
import { SqsDeadLetterSink } from '../../shared/aws/dead-letter';
import { ensureQueuePair } from '../../shared/aws/queues';
import { SqsSourceQueue } from '../../shared/aws/source-queue';
import { SqsEventSourceRunner } from '../../shared/aws/sqs-runner';
import type { AccrueConfig } from '../../shared/config';
import { toBatchResponse } from '../../shared/ingest/batch-response';
import { pipelineDepsFromConfig } from '../../shared/ingest/deps';
import { type PipelineLogger, processBatch } from '../../shared/ingest/pipeline';
import { loadProfile } from '../../shared/profiles';
import type { Store } from '../../shared/store/types';
import { createStore } from '../../shared/wiring/store';
import { buildServer } from '../server';
import { startLocalJanitor } from './janitor';

interface SqsEmulatorModule {
  startSqsEmulator(options?: {
    port?: number;
    host?: string;
  }): Promise<{ endpoint: string; port: number; stop(): Promise<void> }>;
}

/** Credentials the embedded endpoint accepts (it doesn't check them). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface LocalHandle {
  readonly sqsEndpoint: string;
  readonly region: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly metricsUrl: string;
  readonly store: Store;
  readonly runner: SqsEventSourceRunner;
  readonly server: FastifyInstance;
  /** Graceful: stop polling (the batch in flight finishes), close HTTP, flush and close the store, stop SQS. */
  stop(): Promise<void>;
}

export interface StartLocalOptions {
  /** Replaces the Powertools logger (tests, benches). */
  readonly logger?: PipelineLogger;
}

export async function startLocal(
  config: AccrueConfig,
  options: StartLocalOptions = {},
): Promise<LocalHandle> {
  // fauxqs 1.x is ESM-only: load the .mjs launcher with a dynamic import.
  const emulatorUrl = pathToFileURL(join(__dirname, 'sqs-emulator.mjs')).href;
  const { startSqsEmulator } = (await import(emulatorUrl)) as SqsEmulatorModule;
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  };
  try {
    const emu = await startSqsEmulator({ host: config.local.sqsHost, port: config.local.sqsPort });
    cleanups.push(() => emu.stop());
    const sqs = new SQSClient({
      endpoint: emu.endpoint,
      region: config.aws.region,
      credentials: LOCAL_CREDENTIALS,
    });
    cleanups.push(async () => sqs.destroy());
    const { queueUrl, dlqUrl } = await ensureQueuePair(sqs, {
      queueName: config.local.queueName,
      dlqName: config.local.dlqName,
      visibilityTimeoutSeconds: config.ingest.visibilityTimeoutSeconds,
      maxReceiveCount: config.ingest.maxReceiveCount,
    });

    const store = await createStore(config.store, config.aws);
    cleanups.push(() => store.close());
    const profile = loadProfile(config.ingest.profile);
    const logger =
      options.logger ??
      new Logger({
        serviceName: 'accrue-local',
        logLevel: config.local.logLevel as 'WARN',
        persistentKeys: { instance: config.ingest.instance },
      });
    const deadLetters = new SqsDeadLetterSink({ client: sqs, queueUrl: dlqUrl });
    // The same dependencies, read from the same variables, as the Lambda (functions/ingest).
    const sourceQueue = new SqsSourceQueue({ client: sqs, queueUrl });
    const pipeline = pipelineDepsFromConfig(config, { store, profile, deadLetters, sourceQueue, logger });
    const runner = new SqsEventSourceRunner({
      client: sqs,
      queueUrl,
      batchSize: config.ingest.batchSize,
      batchingWindowMs: config.ingest.batchWindowMs,
      waitTimeSeconds: config.ingest.waitTimeSeconds,
      concurrency: config.ingest.pollers,
      logger,
      handler: async (records) => toBatchResponse(await processBatch(records, pipeline), records.length),
    });

    const server = await buildServer({
      store,
      storeConfig: config.store,
      config: { ...config.service, snapshotRefreshMs: config.local.snapshotRefreshMs },
    });
    cleanups.push(() => server.close());
    await server.listen({ host: config.service.host, port: config.service.port });
    const addr = server.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.service.port;
    runner.start();
    cleanups.push(async () => {
      await runner.stop();
      // Own metrics a throttled write left behind (memory store: never; DynamoDB: rarely).
      if (pipeline.ownMetrics) await pipeline.ownMetrics.flush(store, Date.now(), logger);
    });
    // What the janitor Lambda does in the cloud: expire groups past ACCRUE_GROUP_TTL_SECONDS.
    const janitor = startLocalJanitor({ store, ttlSeconds: config.store.groupTtlSeconds, logger });
    cleanups.push(async () => janitor.stop());

    return {
      sqsEndpoint: emu.endpoint,
      region: config.aws.region,
      queueUrl,
      dlqUrl,
      metricsUrl: `http://${config.service.host}:${port}/metrics`,
      store,
      runner,
      server,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** What `npm start` prints: where things are and how to get the first data in (job `aria-pro`). */
export function banner(h: LocalHandle, config: AccrueConfig): string {
  const event = `{"v":1,"group":{"job":"aria-pro","instance":"local"},"events":[{"kind":"error","time":'$(date +%s000)',"error_type":"timeout","symbol":"EURUSD"}]}`;
  const base = h.metricsUrl.replace(/\/metrics$/, '');
  const store =
    config.store.kind === 'memory' ? `memory, durable in ${config.store.dataDir}` : config.store.kind;
  return [
    'Accrue is running locally (no AWS account needed).',
    `  status page   ${base}/   (groups, failures, ingest counters, settings)`,
    `  SQS endpoint  ${h.sqsEndpoint}   (region ${h.region}, any credentials)`,
    `  queue         ${h.queueUrl}`,
    `  dead letters  ${h.dlqUrl}   (after ${config.ingest.maxReceiveCount} receives, or at once for undecodable messages)`,
    `  metrics       ${h.metricsUrl}`,
    `  push          ${h.metricsUrl}/job/<job>{/<label>/<value>}   (Pushgateway API)`,
    `  store         ${store}`,
    `  profile       ${config.ingest.profile}`,
    '',
    'Try it from this folder, in another terminal:',
    '  npm run demo          # a simulated ARIA PRO trading service, 60 s',
    `  echo '{"kind":"error","error_type":"timeout","symbol":"EURUSD"}' | npx accrue send --job aria-pro --instance local`,
    `  echo 'demo_temperature_celsius 21.5' | curl --data-binary @- ${h.metricsUrl}/job/aria-pro/instance/local`,
    '  npx accrue top        # live view of what arrives',
    `then open ${base}/ (xdg-open on Linux), or: curl -s ${h.metricsUrl} | grep aria_`,
    'With the AWS CLI:',
    `  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws sqs send-message --endpoint-url ${h.sqsEndpoint} --region ${h.region} --queue-url ${h.queueUrl} --message-body '${event}'`,
    '',
    'Ctrl-C stops it (the batch in flight finishes, the store is flushed).',
  ].join('\n');
}
