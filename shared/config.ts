/**
 * Configuration, read once from the environment (STYLE.md §9). Every setting Accrue reads is here, with
 * its default; docs/configuration.md lists them for users. Modules take the parts they need as arguments;
 * nothing else reads `process.env`.
 */
import { ENV, LIMIT_ENV } from './env-names';
import { DEFAULT_LEDGER_TTL_SECONDS, DEFAULT_LIMITS, type StoreLimits } from './store/types';

export interface AwsConfig {
  /** AWS region. Env: AWS_REGION. @default 'us-east-1' */
  readonly region: string;
  /** Endpoint override for every AWS client (LocalStack, emulators). Env: AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
  /** Per-service overrides. Env: AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB. */
  readonly sqsEndpoint?: string;
  readonly dynamodbEndpoint?: string;
}

export interface StoreConfig {
  /** Env: ACCRUE_STORE = memory | dynamodb. @default 'memory' */
  readonly kind: 'memory' | 'dynamodb';
  /** Memory store's persistence folder. Env: ACCRUE_DATA_DIR. @default '.accrue/data' */
  readonly dataDir: string;
  /** DynamoDB table names. Env: ACCRUE_SERIES_TABLE, ACCRUE_LEDGER_TABLE. */
  readonly seriesTable: string;
  readonly ledgerTable: string;
  /** Ledger item TTL; must exceed queue retention + visibility timeout. Env: ACCRUE_LEDGER_TTL_SECONDS. @default 1_296_000 (15 days) */
  readonly ledgerTtlSeconds: number;
  /** Group TTL; 0 = off. Env: ACCRUE_GROUP_TTL_SECONDS. @default 0 */
  readonly groupTtlSeconds: number;
  readonly limits: StoreLimits;
}

export interface ServiceConfig {
  /** Env: ACCRUE_HOST. @default '127.0.0.1' */
  readonly host: string;
  /** Env: ACCRUE_PORT. @default 9091 (the Pushgateway's port) */
  readonly port: number;
  /** Push and admin auth: 'basic:<user>:<password>' or 'bearer:<token>'. Env: ACCRUE_PUSH_AUTH. @default none */
  readonly pushAuth?: string;
  /** Scrape auth, same form; unset = open. Env: ACCRUE_SCRAPE_AUTH. */
  readonly scrapeAuth?: string;
  /** Enables PUT /api/v1/admin/wipe. Env: ACCRUE_ADMIN_API=true. @default false */
  readonly adminApi: boolean;
  /**
   * Accepts UTF-8 metric and label names in HTTP pushes (quoted names in text bodies, names as they are
   * in protobuf, `U__` label names in grouping paths), as the Pushgateway's `--push.enable-utf8-names`.
   * Env: ACCRUE_UTF8_NAMES=true. @default false
   */
  readonly utf8Names?: boolean;
  /**
   * OpenMetrics `<family>_created` lines for counters, histograms and summaries whose start the store knows
   * (docs/exposition.md "Series starts"). Prometheus 2.x, and 3.x without `created-timestamp-zero-ingestion`,
   * store each as one more series; `false` leaves them out (protobuf `created_timestamp` stays).
   * Env: ACCRUE_OPENMETRICS_CREATED=false. @default true
   */
  readonly openMetricsCreated?: boolean;
  /** Request body limit (bytes, after gunzip too). Env: ACCRUE_MAX_BODY_BYTES. @default 8 MiB */
  readonly maxBodyBytes: number;
  /** How long the snapshot may be served before it is refreshed. Env: ACCRUE_SNAPSHOT_REFRESH_MS. @default 1000 */
  readonly snapshotRefreshMs: number;
  /** When the store can't be read and the last good snapshot is older than this, /metrics answers 503. Env: ACCRUE_SNAPSHOT_MAX_AGE_MS. @default 60000 */
  readonly snapshotMaxAgeMs: number;
  /**
   * Connection and memory limits against hostile or careless clients (docs/security.md). Optional so
   * that tests can give a partial config; `service/limits.ts` fills in `SERVICE_LIMIT_DEFAULTS`.
   */
  readonly limits?: Partial<ServiceLimits>;
  /** Producer trust model: JSON list or `@<file>` (shared/producers.ts, docs/security.md). Env: ACCRUE_PRODUCERS. @default none (no binding) */
  readonly producers?: string;
}

/** The service's protection limits (docs/security.md "Limits"). */
export interface ServiceLimits {
  /** Whole request (head and body) must arrive within this. Env: ACCRUE_REQUEST_TIMEOUT_MS. @default 30000 */
  readonly requestTimeoutMs: number;
  /** Request head must arrive within this (slowloris). Env: ACCRUE_HEADERS_TIMEOUT_MS. @default 10000 */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. Env: ACCRUE_KEEP_ALIVE_TIMEOUT_MS. @default 55000 */
  readonly keepAliveTimeoutMs: number;
  /** A connection with no bytes moving either way is closed after this. Env: ACCRUE_IDLE_TIMEOUT_MS. @default 30000 */
  readonly idleTimeoutMs: number;
  /**
   * A whole response must be written within this, from its first byte; then the socket is destroyed
   * (a client reading a large /metrics a few bytes at a time). 5x Prometheus' default scrape_timeout,
   * under issue 13's 60 s bound for hostile connections (docs/security.md). Env:
   * ACCRUE_RESPONSE_DEADLINE_MS. @default 50000
   */
  readonly responseDeadlineMs: number;
  /** Series one push may carry, checked while parsing. Env: ACCRUE_MAX_SERIES_PER_PUSH. @default 100000 */
  readonly maxSeriesPerPush: number;
  /** Push bodies held in memory at once, in bytes, over all requests. Env: ACCRUE_MAX_INFLIGHT_BODY_BYTES. @default 67108864 (64 MiB) */
  readonly maxInflightBodyBytes: number;
}

export const SERVICE_LIMIT_DEFAULTS: ServiceLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 55_000,
  idleTimeoutMs: 30_000,
  responseDeadlineMs: 50_000,
  maxSeriesPerPush: 100_000,
  maxInflightBodyBytes: 64 * 1024 * 1024,
};

export interface IngestConfig {
  /** Built-in profile name ('aria'), a path to a JSON/YAML profile (YAML: local runs and the CLI only), or `embedded:<name>` (a profile the CDK construct validated at synth and embedded in the Lambda bundle). Env: ACCRUE_PROFILE. @default 'aria' */
  readonly profile: string;
  /** Queue URLs. Env: ACCRUE_QUEUE_URL, ACCRUE_DLQ_URL. */
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  /** Largest SQS message body the decoder accepts, in UTF-8 bytes. Env: ACCRUE_MAX_MESSAGE_BYTES. @default 262144 (256 KiB) */
  readonly maxMessageBytes: number;
  /** Allowed skew: later event times are clamped to the message's clock plus this. Env: ACCRUE_MAX_EVENT_FUTURE_MS. @default 300000 */
  readonly maxEventFutureMs: number;
  /** `instance` label of the pipeline's own metrics. Env: ACCRUE_INSTANCE, else AWS_LAMBDA_FUNCTION_NAME. @default 'accrue-local' */
  readonly instance: string;
  /** Messages per batch (event source mapping BatchSize), 1..10000. Env: ACCRUE_BATCH_SIZE. @default 10 */
  readonly batchSize: number;
  /** MaximumBatchingWindowInSeconds, in ms (0..300000). Env: ACCRUE_BATCH_WINDOW_MS. @default 0 */
  readonly batchWindowMs: number;
  /** Queue visibility timeout. Env: ACCRUE_VISIBILITY_TIMEOUT_SECONDS. @default 30 */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before SQS moves a message to the DLQ (RedrivePolicy). Env: ACCRUE_MAX_RECEIVE_COUNT. @default 5 */
  readonly maxReceiveCount: number;
  /** Local runner: independent pollers. Env: ACCRUE_POLLERS. @default 1 */
  readonly pollers: number;
  /** Local runner: long-poll wait, 0..20 s. Env: ACCRUE_WAIT_TIME_SECONDS. @default 20 */
  readonly waitTimeSeconds: number;
  /** Same as ServiceConfig.producers: which SQS SenderIds may write which jobs. Env: ACCRUE_PRODUCERS. */
  readonly producers?: string;
}

/** `npm start` only (service/local.ts): the embedded SQS endpoint and its queues. */
export interface LocalConfig {
  /** Host the embedded SQS endpoint binds. Env: ACCRUE_LOCAL_SQS_HOST. @default '127.0.0.1' */
  readonly sqsHost: string;
  /** Port of the embedded SQS endpoint; 0 = any free port. Env: ACCRUE_LOCAL_SQS_PORT. @default 9324 */
  readonly sqsPort: number;
  /** Env: ACCRUE_QUEUE_NAME. @default 'accrue-events' */
  readonly queueName: string;
  /** Env: ACCRUE_DLQ_NAME. @default 'accrue-events-dlq' */
  readonly dlqName: string;
  /** Log level of the local pipeline's JSON logs (DEBUG, INFO, WARN, ERROR, SILENT). Env: ACCRUE_LOG_LEVEL. @default 'WARN' */
  readonly logLevel: string;
  /**
   * `ServiceConfig.snapshotRefreshMs` under `npm start`: the same env var, a shorter default, because the
   * embedded store's generation check is a memory read (bench/freshness.ts: p99 ≈ 1.1 s at 1000 ms).
   * Env: ACCRUE_SNAPSHOT_REFRESH_MS. @default 100
   */
  readonly snapshotRefreshMs: number;
}

/** Producer tools (CLI, demo): where to find a gateway. Flags override these; they override `.accrue/local.json`. */
export interface ClientConfig {
  /** SQS endpoint for producers. Env: ACCRUE_SQS_ENDPOINT (else AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL). */
  readonly sqsEndpoint?: string;
  /** Base URL of the service (/metrics, /api/v1/metrics). Env: ACCRUE_URL. */
  readonly serviceUrl?: string;
  /** File written by `npm start` describing the local gateway. Env: ACCRUE_LOCAL_FILE. @default '.accrue/local.json' */
  readonly localFile: string;
}

export interface AccrueConfig {
  readonly aws: AwsConfig;
  readonly store: StoreConfig;
  readonly service: ServiceConfig;
  readonly ingest: IngestConfig;
  readonly local: LocalConfig;
  readonly client: ClientConfig;
}

type Env = Readonly<Record<string, string | undefined>>;

function int(env: Env, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new Error(`${name}: must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

function bool(env: Env, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`${name}: must be true or false, got ${JSON.stringify(raw)}`);
}

function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function positive(env: Env, name: string, dflt: number): number {
  const v = int(env, name, dflt);
  if (v === 0) throw new Error(`${name}: must be positive (0 would switch the protection off)`);
  return v;
}

function storeLimits(env: Env): StoreLimits {
  const limits: Partial<Record<keyof StoreLimits, number>> = {};
  for (const k of Object.keys(LIMIT_ENV) as (keyof StoreLimits)[]) {
    limits[k] = int(env, LIMIT_ENV[k], DEFAULT_LIMITS[k]);
  }
  return limits as StoreLimits;
}

/** The longest delay Node's setTimeout takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

function serviceLimits(env: Env): ServiceLimits {
  const d = SERVICE_LIMIT_DEFAULTS;
  const limits: ServiceLimits = {
    requestTimeoutMs: positive(env, ENV.REQUEST_TIMEOUT_MS, d.requestTimeoutMs),
    headersTimeoutMs: positive(env, ENV.HEADERS_TIMEOUT_MS, d.headersTimeoutMs),
    keepAliveTimeoutMs: positive(env, ENV.KEEP_ALIVE_TIMEOUT_MS, d.keepAliveTimeoutMs),
    idleTimeoutMs: positive(env, ENV.IDLE_TIMEOUT_MS, d.idleTimeoutMs),
    responseDeadlineMs: positive(env, ENV.RESPONSE_DEADLINE_MS, d.responseDeadlineMs),
    maxSeriesPerPush: positive(env, ENV.MAX_SERIES_PER_PUSH, d.maxSeriesPerPush),
    maxInflightBodyBytes: positive(env, ENV.MAX_INFLIGHT_BODY_BYTES, d.maxInflightBodyBytes),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new Error('ACCRUE_HEADERS_TIMEOUT_MS: must not exceed ACCRUE_REQUEST_TIMEOUT_MS');
  // A longer timer would fire at once (Node's setTimeout limit), cutting every response.
  if (limits.responseDeadlineMs > MAX_TIMER_MS)
    throw new Error(`ACCRUE_RESPONSE_DEADLINE_MS: must be at most ${MAX_TIMER_MS} (about 24.8 days)`);
  return limits;
}

export function loadConfig(env: Env = process.env): AccrueConfig {
  const kind = str(env, ENV.STORE) ?? 'memory';
  if (kind !== 'memory' && kind !== 'dynamodb')
    throw new Error(`ACCRUE_STORE: must be memory or dynamodb, got ${JSON.stringify(kind)}`);
  const endpoint = str(env, ENV.AWS_ENDPOINT_URL);
  return {
    aws: {
      region: str(env, ENV.AWS_REGION) ?? str(env, ENV.AWS_DEFAULT_REGION) ?? 'us-east-1',
      endpoint,
      sqsEndpoint: str(env, ENV.AWS_ENDPOINT_URL_SQS) ?? endpoint,
      dynamodbEndpoint: str(env, ENV.AWS_ENDPOINT_URL_DYNAMODB) ?? endpoint,
    },
    store: {
      kind,
      dataDir: str(env, ENV.DATA_DIR) ?? '.accrue/data',
      seriesTable: str(env, ENV.SERIES_TABLE) ?? 'accrue-series',
      ledgerTable: str(env, ENV.LEDGER_TABLE) ?? 'accrue-ledger',
      ledgerTtlSeconds: int(env, ENV.LEDGER_TTL_SECONDS, DEFAULT_LEDGER_TTL_SECONDS),
      groupTtlSeconds: int(env, ENV.GROUP_TTL_SECONDS, 0),
      limits: storeLimits(env),
    },
    service: {
      host: str(env, ENV.HOST) ?? '127.0.0.1',
      port: int(env, ENV.PORT, 9091),
      pushAuth: str(env, ENV.PUSH_AUTH),
      scrapeAuth: str(env, ENV.SCRAPE_AUTH),
      adminApi: bool(env, ENV.ADMIN_API, false),
      utf8Names: bool(env, ENV.UTF8_NAMES, false),
      openMetricsCreated: bool(env, ENV.OPENMETRICS_CREATED, true),
      maxBodyBytes: int(env, ENV.MAX_BODY_BYTES, 8 * 1024 * 1024),
      snapshotRefreshMs: int(env, ENV.SNAPSHOT_REFRESH_MS, 1000),
      snapshotMaxAgeMs: int(env, ENV.SNAPSHOT_MAX_AGE_MS, 60_000),
      limits: serviceLimits(env),
      producers: str(env, ENV.PRODUCERS),
    },
    ingest: {
      profile: str(env, ENV.PROFILE) ?? 'aria',
      queueUrl: str(env, ENV.QUEUE_URL),
      dlqUrl: str(env, ENV.DLQ_URL),
      maxMessageBytes: int(env, ENV.MAX_MESSAGE_BYTES, 262_144),
      maxEventFutureMs: int(env, ENV.MAX_EVENT_FUTURE_MS, 300_000),
      instance: str(env, ENV.INSTANCE) ?? str(env, ENV.AWS_LAMBDA_FUNCTION_NAME) ?? 'accrue-local',
      batchSize: int(env, ENV.BATCH_SIZE, 10),
      batchWindowMs: int(env, ENV.BATCH_WINDOW_MS, 0),
      visibilityTimeoutSeconds: int(env, ENV.VISIBILITY_TIMEOUT_SECONDS, 30),
      maxReceiveCount: int(env, ENV.MAX_RECEIVE_COUNT, 5),
      pollers: int(env, ENV.POLLERS, 1),
      waitTimeSeconds: int(env, ENV.WAIT_TIME_SECONDS, 20),
      producers: str(env, ENV.PRODUCERS),
    },
    local: {
      sqsHost: str(env, ENV.LOCAL_SQS_HOST) ?? '127.0.0.1',
      sqsPort: int(env, ENV.LOCAL_SQS_PORT, 9324),
      queueName: str(env, ENV.QUEUE_NAME) ?? 'accrue-events',
      dlqName: str(env, ENV.DLQ_NAME) ?? 'accrue-events-dlq',
      logLevel: (str(env, ENV.LOG_LEVEL) ?? 'WARN').toUpperCase(),
      snapshotRefreshMs: int(env, ENV.SNAPSHOT_REFRESH_MS, 100),
    },
    client: {
      sqsEndpoint: str(env, ENV.SQS_ENDPOINT) ?? str(env, ENV.AWS_ENDPOINT_URL_SQS) ?? endpoint,
      serviceUrl: str(env, ENV.URL),
      localFile: str(env, ENV.LOCAL_FILE) ?? '.accrue/local.json',
    },
  };
}
