/**
 * `AccrueGateway`: the whole gateway as one L3 construct, in the style of aws-solutions-constructs
 * `aws-sqs-lambda` (STYLE.md §10): readonly props with `@default`s, every conflicting prop reported together
 * before anything is built (`checkAccrueGatewayProps`), defaults resolved in one function
 * (`resolveAccrueGatewayProps`), every created resource exposed, permissions only through `grant*` calls.
 *
 *   producers ──grantSend──▶ SQS queue (KMS) ──maxReceiveCount──▶ DLQ (KMS)
 *                               │ event source mapping (batch, window, ReportBatchItemFailures, maxConcurrency)
 *                               ▼
 *                       ingest Lambda (nodejs22.x, arm64, reserved concurrency) ──▶ DynamoDB series + ledger
 *                                                                  ▲                 tables (PITR, TTL)
 *   Prometheus / push clients ──▶ ALB (internal, access logs) ──▶ ECS Fargate service (service/Dockerfile,
 *                                                                  read-only root, health check)
 *   EventBridge schedule ──▶ janitor Lambda (store.expire)
 *   CloudWatch alarms ──▶ SNS topic; every log group KMS-encrypted
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  Annotations,
  ArnFormat,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  Duration,
  aws_dynamodb as dynamodb,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2,
  aws_events as events,
  aws_events_targets as eventsTargets,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  Stage,
  aws_s3 as s3,
  type aws_secretsmanager as secretsmanager,
  aws_sns as sns,
  aws_sns_subscriptions as snsSubscriptions,
  aws_sqs as sqs,
  Token,
} from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import { SERVICE_LIMIT_DEFAULTS } from '../shared/config';
import { ENV, LIMIT_ENV } from '../shared/env-names';
import { type Problem, ValidationError } from '../shared/model/errors';
import { EMBEDDED_PROFILE_PREFIX } from '../shared/profiles/deployed';
import { ProfileError } from '../shared/profiles/errors';
import { loadProfile } from '../shared/profiles/load';
import { LEDGER_TTL_ATTRIBUTE, SERIES_TTL_ATTRIBUTE } from '../shared/store/dynamodb/tables';
import { DEFAULT_LEDGER_TTL_SECONDS, type StoreLimits } from '../shared/store/types';

/** The ALB's idle timeout: 5 s under the service's keep-alive timeout (shared/config.ts). */
export const ALB_IDLE_TIMEOUT_SECONDS = Math.floor(SERVICE_LIMIT_DEFAULTS.keepAliveTimeoutMs / 1000) - 5;

import { lambdaBundlingOptions, REPO_ROOT } from './bundling';
import {
  grantTable,
  LEDGER_READER_ACTIONS,
  LEDGER_WRITER_ACTIONS,
  SERIES_TABLE_ACTIONS,
} from './permissions';
import { SERVICE_HEALTHCHECK_SCRIPT, stageServiceImage } from './service-image';

/** Port the service listens on inside the container (the Pushgateway's port). */
export const SERVICE_CONTAINER_PORT = 9091;

/**
 * Key schemas; must match `createTables()` in shared/store/dynamodb/tables.ts (a test compares the
 * template with what `createTables()` creates in DynamoDB Local). TTL attribute names come from there.
 */
export const SERIES_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const LEDGER_TABLE_KEYS = { partitionKey: 'id' } as const;
export { LEDGER_TTL_ATTRIBUTE, SERIES_TTL_ATTRIBUTE };

/** Where the service may write with its read-only root filesystem (an ephemeral task volume). */
export const SERVICE_SCRATCH_PATH = '/tmp';

/**
 * How the DynamoDB tables are encrypted: 'aws-owned' (DynamoDB's default, no cost, no key policy to
 * manage) or 'customer-managed' (the construct's `encryptionKey`: key use shows in CloudTrail and can be
 * revoked; KMS requests are billed).
 */
export type AccrueTableEncryption = 'aws-owned' | 'customer-managed';

export interface AccrueAutoScalingProps {
  /** Fewest tasks. @default the service's `desiredCount` */
  readonly minCapacity?: number;
  /** Most tasks. */
  readonly maxCapacity: number;
  /** Target average CPU utilization. @default 60 */
  readonly targetCpuUtilizationPercent?: number;
}

export interface AccrueGatewayProps {
  // ---- code ----
  /** The ingest handler's entry file. @default `<repo>/functions/ingest/index.ts` */
  readonly ingestEntry?: string;
  /** The janitor handler's entry file. @default `<repo>/functions/janitor/index.ts` */
  readonly janitorEntry?: string;
  /** The service's Dockerfile, relative to `projectRoot`; its build context is a staged folder holding only the service bundle (`main.js`, `main.js.map`). @default 'service/Dockerfile' */
  readonly dockerfile?: string;
  /** The repository root: Docker build context of the service and esbuild project root. @default the folder above `infra/` */
  readonly projectRoot?: string;

  // ---- queue ----
  /**
   * Key for SQS, the DLQ, the alarm topic, the log groups and (with `tableEncryption: 'customer-managed'`)
   * the tables. A key you pass must allow CloudWatch Logs (`logs.<region>.amazonaws.com`) and CloudWatch
   * (`cloudwatch.amazonaws.com`, for alarm notifications) in its key policy (docs/deploy.md).
   * @default a new customer managed key with rotation and those statements
   */
  readonly encryptionKey?: kms.IKey;
  /** Queue visibility timeout; at least 6 x `ingestTimeout` (AWS's guidance for Lambda consumers). @default 6 x `ingestTimeout` + `maxBatchingWindow` */
  readonly visibilityTimeout?: Duration;
  /** How long undelivered messages stay on the queue (60 s .. 14 days). @default 4 days */
  readonly queueRetention?: Duration;
  /** How long messages stay on the DLQ (60 s .. 14 days). @default 14 days */
  readonly dlqRetention?: Duration;
  /** Receives before a message moves to the DLQ (1 .. 1000). @default 5 */
  readonly maxReceiveCount?: number;

  // ---- ingest Lambda ----
  /** Ingest function timeout (1 s .. 15 min). @default 30 s */
  readonly ingestTimeout?: Duration;
  /** Ingest function memory in MiB (128 .. 10240). @default 512 */
  readonly ingestMemorySize?: number;
  /** Messages per invocation (1 .. 10000; more than 10 needs `maxBatchingWindow` >= 1 s). A whole batch is pre-aggregated into few DynamoDB transactions, so larger batches cost less per event (docs/benchmarks.md). @default 100 */
  readonly batchSize?: number;
  /** How long Lambda gathers a batch (0 .. 300 s). @default 1 s */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent ingest invocations the event source may start (2 .. 1000); bounds DynamoDB write pressure. @default 10 */
  readonly maxConcurrency?: number;
  /**
   * Reserved concurrency of the ingest function: at least `maxConcurrency`, so other functions in the account
   * can't take the concurrency ingest needs (throttled invocations return messages to the queue and count
   * as receives: a long squeeze would push valid messages to the DLQ). 0 reserves nothing.
   * @default `maxConcurrency`
   */
  readonly ingestReservedConcurrency?: number;
  /** CPU architecture of both functions. @default lambda.Architecture.ARM_64 */
  readonly functionArchitecture?: lambda.Architecture;
  /**
   * Mapping profile: a built-in profile name, or the path of a JSON/YAML profile file (relative paths from
   * `projectRoot`). A file is validated at synth with the full loader (synth fails listing every problem),
   * converted to JSON and embedded in the ingest bundle (`ACCRUE_PROFILE=embedded:<name>`); see
   * docs/deploy.md, "Profiles in the Lambda". @default 'aria'
   */
  readonly profile?: string;

  // ---- store ----
  /** Groups not updated for this long are expired by the janitor; `undefined` = never. @default never */
  readonly groupTtl?: Duration;
  /**
   * Ledger item TTL; must exceed `queueRetention` + `visibilityTimeout` (a redelivered message must still
   * find its ledger item). The default also covers a message that is redriven from the DLQ at the end of
   * its DLQ retention. @default the larger of the stores' default (15 days, DEFAULT_LEDGER_TTL_SECONDS) and
   * `queueRetention` + `dlqRetention` + `visibilityTimeout` + 1 day
   */
  readonly ledgerTtl?: Duration;
  /** Store limits (`ACCRUE_MAX_*`). @default shared/store/types DEFAULT_LIMITS */
  readonly limits?: Partial<StoreLimits>;
  /** What happens to the tables when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection on both tables. @default true */
  readonly deletionProtection?: boolean;
  /** Table encryption. @default 'aws-owned' */
  readonly tableEncryption?: AccrueTableEncryption;

  // ---- network and service ----
  /** A VPC to run the service in. Give this or `vpcProps`, not both. @default a new VPC */
  readonly existingVpc?: ec2.IVpc;
  /** Props for the VPC the construct creates. @default 2 AZs, 1 NAT gateway, flow logs, a DynamoDB gateway endpoint */
  readonly vpcProps?: ec2.VpcProps;
  /** Subnets of the service's tasks (they need a route to ECR, CloudWatch Logs and DynamoDB). @default private subnets with egress */
  readonly serviceSubnets?: ec2.SubnetSelection;
  /** Subnets of the load balancer (two AZs at least). @default `serviceSubnets` when internal, public subnets when internet-facing */
  readonly loadBalancerSubnets?: ec2.SubnetSelection;
  /** Whether the load balancer is internal. Internet-facing needs `acknowledgeInternetFacing: true`. @default true */
  readonly internal?: boolean;
  /** Confirms that an internet-facing load balancer is intended (`certificate`, `pushAuthSecret` and `scrapeAuthSecret` are then required). @default false */
  readonly acknowledgeInternetFacing?: boolean;
  /** IPv4 CIDRs allowed to reach the listener. @default the VPC's CIDR */
  readonly allowedCidrs?: readonly string[];
  /** Listener port of the load balancer. @default 9091 (the Pushgateway's port) */
  readonly listenerPort?: number;
  /** TLS certificate: the listener speaks HTTPS (policy TLS 1.2/1.3). Required when internet-facing. @default HTTP */
  readonly certificate?: elbv2.IListenerCertificate;
  /** Fargate task CPU units. @default 512 */
  readonly serviceCpu?: number;
  /** Fargate task memory in MiB. @default 1024 */
  readonly serviceMemoryMiB?: number;
  /** CPU architecture of the service's tasks and image. @default ecs.CpuArchitecture.ARM64 */
  readonly serviceCpuArchitecture?: ecs.CpuArchitecture;
  /** Tasks when not autoscaling (at least 1). @default 1 */
  readonly desiredCount?: number;
  /** CPU-based autoscaling of the service. @default no autoscaling */
  readonly autoScaling?: AccrueAutoScalingProps;
  /** Secret whose value is `ACCRUE_PUSH_AUTH` ('basic:<user>:<password>' or 'bearer:<token>'). Required when internet-facing. @default pushes unauthenticated (synth warns) */
  readonly pushAuthSecret?: secretsmanager.ISecret;
  /** Secret whose value is `ACCRUE_SCRAPE_AUTH`. Required when internet-facing. @default scrapes unauthenticated */
  readonly scrapeAuthSecret?: secretsmanager.ISecret;
  /** Bucket for ALB access logs (SSE-S3: ALB can't write to SSE-KMS buckets). @default a new bucket, objects expire after `accessLogRetention` */
  readonly accessLogBucket?: s3.IBucket;
  /** How long the created access-log bucket keeps logs. @default 90 days */
  readonly accessLogRetention?: Duration;
  /** ALB deletion protection (a stack deletion then fails until you turn it off). @default true */
  readonly loadBalancerDeletionProtection?: boolean;

  // ---- janitor ----
  /** How often the janitor runs (whole minutes, at least 1). @default 5 minutes */
  readonly janitorInterval?: Duration;

  // ---- operations ----
  /** Topic the alarms notify. @default a new KMS-encrypted topic */
  readonly alarmTopic?: sns.ITopic;
  /** An e-mail address subscribed to the alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /** Alarm when the oldest queued message is older than this. @default 15 minutes */
  readonly maxMessageAge?: Duration;
  /** Retention of the functions' and service's log groups. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** Props after defaults; what the constructor builds from. */
export interface ResolvedAccrueGatewayProps {
  readonly ingestEntry: string;
  readonly janitorEntry: string;
  readonly projectRoot: string;
  readonly dockerfile: string;
  readonly visibilityTimeout: Duration;
  readonly queueRetention: Duration;
  readonly dlqRetention: Duration;
  readonly maxReceiveCount: number;
  readonly ingestTimeout: Duration;
  readonly ingestMemorySize: number;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency: number;
  /** 0: none. */
  readonly ingestReservedConcurrency: number;
  readonly functionArchitecture: lambda.Architecture;
  readonly profile: string;
  readonly groupTtl?: Duration;
  readonly ledgerTtl: Duration;
  readonly limits: Partial<StoreLimits>;
  readonly tableRemovalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  readonly tableEncryption: AccrueTableEncryption;
  readonly internal: boolean;
  readonly accessLogRetention: Duration;
  readonly loadBalancerDeletionProtection: boolean;
  /** Whether pushes need credentials (`pushAuthSecret` given). */
  readonly pushAuth: boolean;
  /** `undefined`: the VPC's CIDR. */
  readonly allowedCidrs?: readonly string[];
  readonly listenerPort: number;
  readonly serviceCpu: number;
  readonly serviceMemoryMiB: number;
  readonly serviceCpuArchitecture: ecs.CpuArchitecture;
  readonly desiredCount: number;
  readonly janitorInterval: Duration;
  readonly maxMessageAge: Duration;
  readonly logRetention: logs.RetentionDays;
}

/** Defaults, in one place. */
export function resolveAccrueGatewayProps(props: AccrueGatewayProps): ResolvedAccrueGatewayProps {
  const projectRoot = props.projectRoot ?? REPO_ROOT;
  const ingestTimeout = props.ingestTimeout ?? Duration.seconds(30);
  const maxBatchingWindow = props.maxBatchingWindow ?? Duration.seconds(1);
  // AWS's guidance for Lambda consumers: 6 x the function timeout, plus the batching window.
  const visibilityTimeout =
    props.visibilityTimeout ?? Duration.seconds(6 * secondsOf(ingestTimeout) + secondsOf(maxBatchingWindow));
  const queueRetention = props.queueRetention ?? Duration.days(4);
  const dlqRetention = props.dlqRetention ?? Duration.days(14);
  return {
    ingestEntry: props.ingestEntry ?? path.join(projectRoot, 'functions', 'ingest', 'index.ts'),
    janitorEntry: props.janitorEntry ?? path.join(projectRoot, 'functions', 'janitor', 'index.ts'),
    projectRoot,
    dockerfile: props.dockerfile ?? path.join('service', 'Dockerfile'),
    visibilityTimeout,
    queueRetention,
    dlqRetention,
    maxReceiveCount: props.maxReceiveCount ?? 5,
    ingestTimeout,
    ingestMemorySize: props.ingestMemorySize ?? 512,
    batchSize: props.batchSize ?? 100,
    maxBatchingWindow,
    maxConcurrency: props.maxConcurrency ?? 10,
    ingestReservedConcurrency: props.ingestReservedConcurrency ?? props.maxConcurrency ?? 10,
    functionArchitecture: props.functionArchitecture ?? lambda.Architecture.ARM_64,
    profile: props.profile ?? 'aria',
    groupTtl: props.groupTtl,
    // The stores' default (shared/store/types.ts), raised when the queues keep messages longer.
    ledgerTtl:
      props.ledgerTtl ??
      Duration.seconds(
        Math.max(
          DEFAULT_LEDGER_TTL_SECONDS,
          secondsOf(queueRetention) +
            secondsOf(dlqRetention) +
            secondsOf(visibilityTimeout) +
            secondsOf(Duration.days(1)),
        ),
      ),
    limits: props.limits ?? {},
    tableRemovalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
    deletionProtection: props.deletionProtection ?? true,
    tableEncryption: props.tableEncryption ?? 'aws-owned',
    internal: props.internal ?? true,
    allowedCidrs: props.allowedCidrs,
    accessLogRetention: props.accessLogRetention ?? Duration.days(90),
    loadBalancerDeletionProtection: props.loadBalancerDeletionProtection ?? true,
    pushAuth: props.pushAuthSecret !== undefined,
    listenerPort: props.listenerPort ?? SERVICE_CONTAINER_PORT,
    serviceCpu: props.serviceCpu ?? 512,
    serviceMemoryMiB: props.serviceMemoryMiB ?? 1024,
    serviceCpuArchitecture: props.serviceCpuArchitecture ?? ecs.CpuArchitecture.ARM64,
    desiredCount: props.desiredCount ?? 1,
    janitorInterval: props.janitorInterval ?? Duration.minutes(5),
    maxMessageAge: props.maxMessageAge ?? Duration.minutes(15),
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
  };
}

function secondsOf(d: Duration): number {
  return d.toSeconds({ integral: false });
}

/** Seconds of a duration, or undefined when it is a token (checked at deploy time, not here). */
function knownSeconds(d: Duration | undefined): number | undefined {
  if (d === undefined || d.isUnresolved()) return undefined;
  return secondsOf(d);
}

const IPV4_CIDR =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;

/** What the ingest Lambda gets for a profile prop: its `ACCRUE_PROFILE` and esbuild `define`s. */
export interface IngestProfile {
  /** `ACCRUE_PROFILE`: the built-in profile's name, or `embedded:<name>` for a profile file. */
  readonly env: string;
  /** `ACCRUE_EMBEDDED_PROFILE`: the profile file as a JS string literal of its JSON (read by functions/ingest). */
  readonly define: Readonly<Record<string, string>>;
}

/**
 * Validates the profile with the full loader (TypeBox, JSON or YAML) and says how to ship it to the ingest
 * Lambda, whose loader has neither TypeBox nor a YAML parser (shared/profiles/deployed.ts): a built-in
 * profile by name; a file as its JSON, embedded with esbuild `define` (a string literal parsed with
 * `JSON.parse` at cold start, so keys such as `__proto__` stay plain data). Throws `ProfileError`.
 */
export function ingestProfile(profile: string, projectRoot: string): IngestProfile {
  if (!/\.(json|ya?ml)$/i.test(profile)) {
    loadProfile(profile); // a built-in profile, or a ProfileError saying what is accepted
    return { env: profile, define: {} };
  }
  const compiled = loadProfile(path.resolve(projectRoot, profile));
  return {
    env: `${EMBEDDED_PROFILE_PREFIX}${compiled.name}`,
    define: { ACCRUE_EMBEDDED_PROFILE: JSON.stringify(JSON.stringify(compiled.definition)) },
  };
}

/**
 * Every problem with the props, all at once (nothing is built when there is one). Numbers given as
 * tokens are skipped: CloudFormation checks them at deploy time.
 */
export function checkAccrueGatewayProps(props: AccrueGatewayProps): Problem[] {
  const problems: Problem[] = [];
  const bad = (p: string, message: string) => problems.push({ path: p, message });
  const intIn = (p: string, v: number | undefined, lo: number, hi: number) => {
    if (v === undefined || Token.isUnresolved(v)) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
      bad(p, `must be an integer from ${lo} to ${hi}, got ${String(v)}`);
  };
  const secondsIn = (p: string, d: Duration | undefined, lo: number, hi: number, unit = 's') => {
    const s = knownSeconds(d);
    if (s === undefined) return;
    if (!Number.isFinite(s) || s < lo || s > hi) bad(p, `must be from ${lo} to ${hi} ${unit}, got ${s} s`);
  };

  if (props.existingVpc !== undefined && props.vpcProps !== undefined)
    bad('existingVpc', 'give existingVpc or vpcProps, not both');

  secondsIn('ingestTimeout', props.ingestTimeout, 1, 900);
  secondsIn('queueRetention', props.queueRetention, 60, 1_209_600);
  secondsIn('dlqRetention', props.dlqRetention, 60, 1_209_600);
  secondsIn('visibilityTimeout', props.visibilityTimeout, 0, 43_200);
  secondsIn('maxBatchingWindow', props.maxBatchingWindow, 0, 300);
  secondsIn('maxMessageAge', props.maxMessageAge, 60, 1_209_600);
  intIn('maxReceiveCount', props.maxReceiveCount, 1, 1000);
  intIn('ingestMemorySize', props.ingestMemorySize, 128, 10_240);
  intIn('batchSize', props.batchSize, 1, 10_000);
  intIn('maxConcurrency', props.maxConcurrency, 2, 1000);
  intIn('ingestReservedConcurrency', props.ingestReservedConcurrency, 0, 1000);
  intIn('listenerPort', props.listenerPort, 1, 65_535);
  intIn('serviceCpu', props.serviceCpu, 256, 16_384);
  intIn('serviceMemoryMiB', props.serviceMemoryMiB, 512, 122_880);
  intIn('desiredCount', props.desiredCount, 1, 1000);

  const timeout = knownSeconds(props.ingestTimeout ?? Duration.seconds(30));
  const visibility = knownSeconds(props.visibilityTimeout);
  if (timeout !== undefined && visibility !== undefined && visibility < 6 * timeout)
    bad(
      'visibilityTimeout',
      `must be at least 6 x ingestTimeout (${6 * timeout} s) so a message isn't redelivered while a retried invocation still runs, got ${visibility} s`,
    );

  const batch = props.batchSize;
  const window = knownSeconds(props.maxBatchingWindow ?? Duration.seconds(1));
  if (batch !== undefined && !Token.isUnresolved(batch) && batch > 10 && window !== undefined && window < 1)
    bad(
      'maxBatchingWindow',
      `must be at least 1 s when batchSize is more than 10 (batchSize ${batch}), got ${window} s`,
    );

  if (props.internal === false && props.certificate === undefined)
    bad(
      'certificate',
      'internal: false needs a certificate: push and scrape credentials must not cross the internet in clear text',
    );
  if (props.internal === false && props.acknowledgeInternetFacing !== true)
    bad(
      'internal',
      'internal: false makes /metrics and the push API reachable from the internet; set acknowledgeInternetFacing: true (and pushAuthSecret) to confirm',
    );
  if (props.internal === false && props.pushAuthSecret === undefined)
    bad(
      'pushAuthSecret',
      'internal: false needs pushAuthSecret: without it anyone on the internet can push, overwrite and delete metrics',
    );
  if (props.internal === false && props.scrapeAuthSecret === undefined)
    bad(
      'scrapeAuthSecret',
      'internal: false needs scrapeAuthSecret: without it anyone on the internet can read every metric on /metrics',
    );

  const reserved = props.ingestReservedConcurrency;
  const esmMax = props.maxConcurrency ?? 10;
  if (
    reserved !== undefined &&
    !Token.isUnresolved(reserved) &&
    !Token.isUnresolved(esmMax) &&
    Number.isInteger(reserved) &&
    reserved > 0 &&
    reserved < esmMax
  )
    bad(
      'ingestReservedConcurrency',
      `must be 0 (none) or at least maxConcurrency (${esmMax}): the event source would start invocations the function can't run, and throttled messages count as receives toward the DLQ, got ${reserved}`,
    );
  if (
    props.tableEncryption !== undefined &&
    !['aws-owned', 'customer-managed'].includes(props.tableEncryption)
  )
    bad(
      'tableEncryption',
      `must be 'aws-owned' or 'customer-managed', got ${JSON.stringify(props.tableEncryption)}`,
    );
  secondsIn('accessLogRetention', props.accessLogRetention, 86_400, 3_650 * 86_400);

  if (props.tableRemovalPolicy === RemovalPolicy.DESTROY && props.deletionProtection !== false)
    bad(
      'tableRemovalPolicy',
      'RemovalPolicy.DESTROY needs deletionProtection: false (deletion protection would make the stack deletion fail)',
    );

  const retention = knownSeconds(props.queueRetention ?? Duration.days(4));
  const visibilityOrDefault =
    props.visibilityTimeout === undefined ? 6 * (timeout ?? 30) + (window ?? 0) : visibility;
  const ledger = knownSeconds(props.ledgerTtl);
  if (ledger !== undefined && retention !== undefined && visibilityOrDefault !== undefined) {
    const min = retention + visibilityOrDefault;
    if (!(ledger > min))
      bad(
        'ledgerTtl',
        `must exceed queueRetention + visibilityTimeout (${min} s): a redelivered message must still find its ledger item, got ${ledger} s`,
      );
  }
  const groupTtl = knownSeconds(props.groupTtl);
  if (groupTtl !== undefined && !(groupTtl >= 1 && Number.isFinite(groupTtl)))
    bad('groupTtl', `must be at least 1 s (leave it unset for no expiry), got ${groupTtl} s`);

  const janitor = knownSeconds(props.janitorInterval);
  if (janitor !== undefined && (!Number.isFinite(janitor) || janitor < 60 || janitor % 60 !== 0))
    bad('janitorInterval', `must be whole minutes, at least 1 (EventBridge rate), got ${janitor} s`);

  const as = props.autoScaling;
  if (as !== undefined) {
    intIn('autoScaling.maxCapacity', as.maxCapacity, 1, 1000);
    intIn('autoScaling.minCapacity', as.minCapacity, 1, 1000);
    if (as.targetCpuUtilizationPercent !== undefined)
      intIn('autoScaling.targetCpuUtilizationPercent', as.targetCpuUtilizationPercent, 10, 90);
    const min = as.minCapacity ?? props.desiredCount ?? 1;
    if (Number.isInteger(min) && Number.isInteger(as.maxCapacity) && as.maxCapacity < min)
      bad('autoScaling.maxCapacity', `must be at least minCapacity (${min}), got ${as.maxCapacity}`);
  }

  if (props.allowedCidrs !== undefined) {
    if (props.allowedCidrs.length === 0)
      bad('allowedCidrs', 'must list at least one CIDR (leave it unset for the VPC CIDR)');
    props.allowedCidrs.forEach((c, i) => {
      if (typeof c !== 'string' || (!Token.isUnresolved(c) && !IPV4_CIDR.test(c)))
        bad(`allowedCidrs[${i}]`, `must be an IPv4 CIDR like 10.0.0.0/16, got ${JSON.stringify(c)}`);
    });
  }

  if (
    props.profile !== undefined &&
    (typeof props.profile !== 'string' || !/^[\w./-]{1,200}$/.test(props.profile))
  )
    bad(
      'profile',
      `must be a profile name or path of 1 to 200 characters [A-Za-z0-9_./-], got ${JSON.stringify(props.profile)}`,
    );
  else if (props.profile !== undefined) {
    try {
      ingestProfile(props.profile, props.projectRoot ?? REPO_ROOT);
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      for (const pr of e.problems)
        bad('profile', `${e.source}: ${pr.path === '' ? '' : `${pr.path}: `}${pr.message}`);
    }
  }

  if (props.limits !== undefined) {
    for (const [k, v] of Object.entries(props.limits)) {
      if (!Object.hasOwn(LIMIT_ENV, k))
        bad(`limits.${k}`, `is not a store limit (known: ${Object.keys(LIMIT_ENV).join(', ')})`);
      else intIn(`limits.${k}`, v as number, 1, Number.MAX_SAFE_INTEGER);
    }
  }

  if (props.alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(props.alarmEmail))
    bad('alarmEmail', `must be an e-mail address, got ${JSON.stringify(props.alarmEmail)}`);

  return problems;
}

/** The alarms the construct creates, each notifying the alarm topic. */
export interface AccrueGatewayAlarms {
  /** The DLQ holds at least one message. */
  readonly deadLetterQueueNotEmpty: cloudwatch.Alarm;
  /** The oldest message on the queue is older than `maxMessageAge`. */
  readonly oldestMessageAge: cloudwatch.Alarm;
  readonly ingestErrors: cloudwatch.Alarm;
  readonly ingestThrottles: cloudwatch.Alarm;
  readonly janitorErrors: cloudwatch.Alarm;
  /** At least one target is unhealthy. */
  readonly unhealthyHosts: cloudwatch.Alarm;
  /** No healthy target at all (missing data counts as breaching). */
  readonly noHealthyHosts: cloudwatch.Alarm;
}

export class AccrueGateway extends Construct {
  public readonly encryptionKey: kms.IKey;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly seriesTable: dynamodb.Table;
  public readonly ledgerTable: dynamodb.Table;
  public readonly ingestFunction: nodejs.NodejsFunction;
  public readonly ingestLogGroup: logs.LogGroup;
  public readonly eventSourceMapping: lambda.EventSourceMapping;
  public readonly janitorFunction: nodejs.NodejsFunction;
  public readonly janitorLogGroup: logs.LogGroup;
  public readonly janitorRule: events.Rule;
  public readonly vpc: ec2.IVpc;
  public readonly cluster: ecs.Cluster;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly serviceLogGroup: logs.LogGroup;
  public readonly service: ecs.FargateService;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly scalableTarget?: ecs.ScalableTaskCount;
  /** The bucket the load balancer writes its access logs to (created unless given); none in a region-agnostic stack. */
  public readonly accessLogBucket?: s3.IBucket;
  public readonly alarmTopic: sns.ITopic;
  public readonly alarms: AccrueGatewayAlarms;
  /** `http(s)://<alb-dns-name>:<port>`: the Pushgateway API's base URL. */
  public readonly serviceUrl: string;
  /** `http(s)://<alb-dns-name>:<port>/metrics`; with a certificate, use a DNS name the certificate covers. */
  public readonly metricsUrl: string;
  /** The resolved props (defaults applied). */
  public readonly settings: ResolvedAccrueGatewayProps;

  constructor(scope: Construct, id: string, props: AccrueGatewayProps = {}) {
    super(scope, id);
    const problems = checkAccrueGatewayProps(props);
    if (problems.length > 0) {
      const err = new ValidationError(problems);
      // The operator's own props: the message lists every problem (ValidationError bounds what it echoes).
      err.message = `AccrueGateway ${this.node.path}: ${problems.length} invalid prop(s): ${problems.map((q) => `${q.path}: ${q.message}`).join('; ')}`;
      throw err;
    }
    const p = resolveAccrueGatewayProps(props);
    this.settings = p;
    const stack = Stack.of(this);

    // ---- encryption ----
    const ownKey = props.encryptionKey === undefined;
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Accrue: SQS queue, DLQ, alarm topic, log groups (and tables when customer-managed)',
        enableKeyRotation: true,
      });
    if (ownKey) allowLogsToUseKey(this.encryptionKey, stack);

    // ---- queues ----
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      retentionPeriod: p.dlqRetention,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      retentionPeriod: p.queueRetention,
      visibilityTimeout: p.visibilityTimeout,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: p.maxReceiveCount },
    });

    // ---- tables (key schemas = shared/store/dynamodb createTables()) ----
    const tableKey = p.tableEncryption === 'customer-managed' ? this.encryptionKey : undefined;
    const tableProps = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: p.deletionProtection,
      removalPolicy: p.tableRemovalPolicy,
      // 'aws-owned': DynamoDB's default encryption (no SSESpecification).
      ...(tableKey ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: tableKey } : {}),
    };
    this.seriesTable = new dynamodb.Table(this, 'SeriesTable', {
      ...tableProps,
      partitionKey: { name: SERIES_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SERIES_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      // DELETE tombstones expire through it.
      timeToLiveAttribute: SERIES_TTL_ATTRIBUTE,
    });
    this.ledgerTable = new dynamodb.Table(this, 'LedgerTable', {
      ...tableProps,
      partitionKey: { name: LEDGER_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
    });

    // ---- configuration shared by every runtime (names: shared/config.ts) ----
    const storeEnv: Record<string, string> = {
      [ENV.STORE]: 'dynamodb',
      [ENV.SERIES_TABLE]: this.seriesTable.tableName,
      [ENV.LEDGER_TABLE]: this.ledgerTable.tableName,
      [ENV.GROUP_TTL_SECONDS]: String(p.groupTtl === undefined ? 0 : Math.ceil(secondsOf(p.groupTtl))),
    };
    for (const [k, v] of Object.entries(p.limits)) {
      const name = LIMIT_ENV[k as keyof StoreLimits];
      if (v !== undefined) storeEnv[name] = String(v);
    }

    // ---- ingest Lambda ----
    const bundling: nodejs.BundlingOptions = { ...lambdaBundlingOptions(), format: nodejs.OutputFormat.CJS };
    const profile = ingestProfile(p.profile, p.projectRoot);
    const { bundlingRoot, lockFile } = lambdaBundlingRoot(p.projectRoot);
    const logGroup = (id: string) =>
      new logs.LogGroup(this, id, {
        retention: p.logRetention,
        encryptionKey: this.encryptionKey,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    // Function roles without AWSLambdaBasicExecutionRole (log actions on every log group): each function
    // may write its own log group only.
    const functionRole = (id: string, group: logs.LogGroup) => {
      const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [group.logGroupArn],
        }),
      );
      return role;
    };
    this.ingestLogGroup = logGroup('IngestLogGroup');
    this.ingestFunction = new nodejs.NodejsFunction(this, 'IngestFunction', {
      role: functionRole('IngestRole', this.ingestLogGroup),
      description: 'Accrue: aggregates SQS batches into the store exactly once',
      entry: p.ingestEntry,
      handler: 'handler',
      projectRoot: bundlingRoot,
      depsLockFilePath: lockFile,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: p.functionArchitecture,
      memorySize: p.ingestMemorySize,
      timeout: p.ingestTimeout,
      ...(p.ingestReservedConcurrency > 0
        ? { reservedConcurrentExecutions: p.ingestReservedConcurrency }
        : {}),
      bundling: { ...bundling, define: { ...profile.define } },
      logGroup: this.ingestLogGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        ...storeEnv,
        [ENV.LEDGER_TTL_SECONDS]: String(Math.ceil(secondsOf(p.ledgerTtl))),
        [ENV.DLQ_URL]: this.deadLetterQueue.queueUrl,
        [ENV.QUEUE_URL]: this.queue.queueUrl,
        [ENV.PROFILE]: profile.env,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    this.queue.grantConsumeMessages(this.ingestFunction);
    this.deadLetterQueue.grantSendMessages(this.ingestFunction);
    grantTable(this.seriesTable, this.ingestFunction, SERIES_TABLE_ACTIONS, tableKey);
    grantTable(this.ledgerTable, this.ingestFunction, LEDGER_WRITER_ACTIONS, tableKey);
    this.eventSourceMapping = new lambda.EventSourceMapping(this, 'IngestEventSource', {
      target: this.ingestFunction,
      eventSourceArn: this.queue.queueArn,
      batchSize: p.batchSize,
      maxBatchingWindow: p.maxBatchingWindow.toSeconds() === 0 ? undefined : p.maxBatchingWindow,
      reportBatchItemFailures: true,
      maxConcurrency: p.maxConcurrency,
    });
    // The mapping polls with the function's role: the grant above must exist before the mapping is created.
    this.eventSourceMapping.node.addDependency(this.ingestFunction);

    // ---- janitor Lambda on a schedule ----
    this.janitorLogGroup = logGroup('JanitorLogGroup');
    this.janitorFunction = new nodejs.NodejsFunction(this, 'JanitorFunction', {
      role: functionRole('JanitorRole', this.janitorLogGroup),
      description: 'Accrue: expires groups past their TTL',
      entry: p.janitorEntry,
      handler: 'handler',
      projectRoot: bundlingRoot,
      depsLockFilePath: lockFile,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: p.functionArchitecture,
      memorySize: 256,
      timeout: Duration.minutes(1),
      bundling,
      logGroup: this.janitorLogGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...storeEnv, NODE_OPTIONS: '--enable-source-maps' },
    });
    grantTable(this.seriesTable, this.janitorFunction, SERIES_TABLE_ACTIONS, tableKey);
    grantTable(this.ledgerTable, this.janitorFunction, LEDGER_READER_ACTIONS, tableKey);
    this.janitorRule = new events.Rule(this, 'JanitorSchedule', {
      description: 'Accrue: runs the janitor',
      schedule: events.Schedule.rate(p.janitorInterval),
      targets: [new eventsTargets.LambdaFunction(this.janitorFunction, { retryAttempts: 0 })],
    });

    // ---- network ----
    if (props.existingVpc !== undefined) {
      this.vpc = props.existingVpc;
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 1,
        flowLogs: {
          FlowLog: {
            trafficType: ec2.FlowLogTrafficType.REJECT,
            destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup('FlowLogGroup')),
          },
        },
        ...props.vpcProps,
      });
      vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
      this.vpc = vpc;
    }

    const serviceSubnets = props.serviceSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    // ---- service on Fargate ----
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: p.serviceCpu,
      memoryLimitMiB: p.serviceMemoryMiB,
      runtimePlatform: {
        cpuArchitecture: p.serviceCpuArchitecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.serviceLogGroup = logGroup('ServiceLogGroup');
    const secrets: Record<string, ecs.Secret> = {};
    if (props.pushAuthSecret) secrets[ENV.PUSH_AUTH] = ecs.Secret.fromSecretsManager(props.pushAuthSecret);
    if (props.scrapeAuthSecret)
      secrets[ENV.SCRAPE_AUTH] = ecs.Secret.fromSecretsManager(props.scrapeAuthSecret);
    const imageContext = stageServiceImage({
      projectRoot: p.projectRoot,
      dockerfile: p.dockerfile,
      outDir: path.join(Stage.of(this)?.outdir ?? p.projectRoot, `.accrue-service-image-${this.node.addr}`),
      bundle: stack.bundlingRequired,
    });
    this.container = this.taskDefinition.addContainer('Service', {
      image: ecs.ContainerImage.fromAsset(imageContext, {
        platform:
          p.serviceCpuArchitecture === ecs.CpuArchitecture.ARM64
            ? Platform.LINUX_ARM64
            : Platform.LINUX_AMD64,
      }),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'accrue', logGroup: this.serviceLogGroup }),
      environment: {
        ...storeEnv,
        [ENV.HOST]: '0.0.0.0',
        [ENV.PORT]: String(SERVICE_CONTAINER_PORT),
        [ENV.AWS_REGION]: stack.region,
      },
      secrets,
      portMappings: [{ containerPort: SERVICE_CONTAINER_PORT, protocol: ecs.Protocol.TCP }],
      // ECS ignores the image's HEALTHCHECK; this is the same command (a test keeps them equal).
      healthCheck: {
        command: ['CMD', 'node', '-e', SERVICE_HEALTHCHECK_SCRIPT],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(3),
        startPeriod: Duration.seconds(10),
        retries: 3,
      },
      readonlyRootFilesystem: true,
    });
    // The only writable path: an ephemeral task volume (Fargate has no tmpfs). With the DynamoDB store the
    // service writes no files; Node and libraries may use the temp folder.
    this.taskDefinition.addVolume({ name: 'scratch' });
    this.container.addMountPoints({
      containerPath: SERVICE_SCRATCH_PATH,
      sourceVolume: 'scratch',
      readOnly: false,
    });
    grantTable(this.seriesTable, this.taskDefinition.taskRole, SERIES_TABLE_ACTIONS, tableKey);
    grantTable(this.ledgerTable, this.taskDefinition.taskRole, LEDGER_READER_ACTIONS, tableKey);
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: p.desiredCount,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      vpcSubnets: serviceSubnets,
      assignPublicIp: false,
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: !p.internal,
      dropInvalidHeaderFields: true,
      deletionProtection: p.loadBalancerDeletionProtection,
      // Below the service's keep-alive timeout, so the ALB, not the task, closes idle connections: a task
      // closing one the ALB is about to reuse would turn a scrape or push into a 502.
      idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
      vpcSubnets:
        props.loadBalancerSubnets ?? (p.internal ? serviceSubnets : { subnetType: ec2.SubnetType.PUBLIC }),
    });
    // The bucket policy names the region's ELB log-delivery principal: a region-agnostic stack can't have one.
    if (Token.isUnresolved(stack.region)) {
      Annotations.of(this).addWarningV2(
        'accrue:noAccessLogs',
        'no ALB access logs: the stack has no region (set env.region, or deploy through the CLI with a region configured)',
      );
    } else {
      this.accessLogBucket = props.accessLogBucket ?? this.newAccessLogBucket(p);
      this.loadBalancer.logAccessLogs(this.accessLogBucket, 'accrue');
    }
    this.listener = this.loadBalancer.addListener('Listener', {
      port: p.listenerPort,
      open: false,
      ...(props.certificate
        ? {
            protocol: elbv2.ApplicationProtocol.HTTPS,
            certificates: [props.certificate],
            sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          }
        : { protocol: elbv2.ApplicationProtocol.HTTP }),
    });
    for (const cidr of p.allowedCidrs ?? [this.vpc.vpcCidrBlock])
      this.listener.connections.allowDefaultPortFrom(ec2.Peer.ipv4(cidr), 'Prometheus and push clients');
    this.targetGroup = this.listener.addTargets('Service', {
      port: SERVICE_CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service],
      deregistrationDelay: Duration.seconds(15),
      healthCheck: {
        path: '/-/healthy',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    if (props.autoScaling) {
      const as = props.autoScaling;
      this.scalableTarget = this.service.autoScaleTaskCount({
        minCapacity: as.minCapacity ?? p.desiredCount,
        maxCapacity: as.maxCapacity,
      });
      this.scalableTarget.scaleOnCpuUtilization('CpuScaling', {
        targetUtilizationPercent: as.targetCpuUtilizationPercent ?? 60,
      });
    }
    const scheme = props.certificate ? 'https' : 'http';
    this.serviceUrl = `${scheme}://${this.loadBalancer.loadBalancerDnsName}:${p.listenerPort}`;
    this.metricsUrl = `${this.serviceUrl}/metrics`;
    if (!p.pushAuth)
      Annotations.of(this).addWarningV2(
        'accrue:pushOpen',
        `push is open: without pushAuthSecret (context accrue:pushAuthSecretArn) anyone who reaches the load balancer (${p.allowedCidrs?.join(', ') ?? 'the VPC CIDR'}) can push, overwrite and delete metrics`,
      );

    // ---- alarms ----
    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'Accrue alarms',
        masterKey: this.encryptionKey,
        enforceSSL: true,
      });
      // CloudWatch publishes to the encrypted topic with the key: only for this account's alarms.
      if (ownKey)
        this.encryptionKey.grant(
          new iam.PrincipalWithConditions(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: {
              'aws:SourceArn': stack.formatArn({
                service: 'cloudwatch',
                resource: 'alarm',
                resourceName: '*',
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            },
          }),
          'kms:Decrypt',
          'kms:GenerateDataKey*',
        );
    }
    if (props.alarmEmail)
      this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(props.alarmEmail));
    const minute = Duration.minutes(1);
    const alarm = (
      name: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      op = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      missing = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) => {
      const a = new cloudwatch.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: op,
        treatMissingData: missing,
        alarmDescription: description,
      });
      a.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      a.addOkAction(new cwActions.SnsAction(this.alarmTopic));
      return a;
    };
    this.alarms = {
      deadLetterQueueNotEmpty: alarm(
        'DeadLetterQueueNotEmptyAlarm',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: minute,
          statistic: 'Maximum',
        }),
        1,
        'Messages on the Accrue DLQ: undecodable messages or rejected events; inspect them, then redrive or purge',
      ),
      oldestMessageAge: alarm(
        'OldestMessageAgeAlarm',
        this.queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
        secondsOf(p.maxMessageAge),
        `The oldest message on the Accrue queue is older than ${secondsOf(p.maxMessageAge)} s: ingest is falling behind or failing`,
      ),
      ingestErrors: alarm(
        'IngestErrorsAlarm',
        this.ingestFunction.metricErrors({ period: minute, statistic: 'Sum' }),
        1,
        'The Accrue ingest function failed (whole-batch errors, not per-message rejections)',
      ),
      ingestThrottles: alarm(
        'IngestThrottlesAlarm',
        this.ingestFunction.metricThrottles({ period: minute, statistic: 'Sum' }),
        1,
        'The Accrue ingest function was throttled (account concurrency exhausted)',
      ),
      janitorErrors: alarm(
        'JanitorErrorsAlarm',
        this.janitorFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        'The Accrue janitor failed to expire groups',
      ),
      unhealthyHosts: alarm(
        'UnhealthyHostsAlarm',
        this.targetGroup.metrics.unhealthyHostCount({ period: minute, statistic: 'Maximum' }),
        1,
        'At least one Accrue service task fails its /-/healthy check',
      ),
      noHealthyHosts: alarm(
        'NoHealthyHostsAlarm',
        this.targetGroup.metrics.healthyHostCount({ period: minute, statistic: 'Minimum' }),
        1,
        'No healthy Accrue service task: /metrics and pushes are down',
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        cloudwatch.TreatMissingData.BREACHING,
      ),
    };

    // ---- outputs ----
    new CfnOutput(this, 'QueueUrl', {
      value: this.queue.queueUrl,
      description: 'SQS queue producers send to',
    });
    new CfnOutput(this, 'QueueArn', { value: this.queue.queueArn, description: 'For producer IAM policies' });
    new CfnOutput(this, 'KmsKeyArn', {
      value: this.encryptionKey.keyArn,
      description: 'Producers need kms:GenerateDataKey* and kms:Decrypt on it to send to the queue',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueArn', { value: this.deadLetterQueue.queueArn });
    new CfnOutput(this, 'ServiceUrl', { value: this.serviceUrl, description: 'Pushgateway API base URL' });
    new CfnOutput(this, 'MetricsUrl', { value: this.metricsUrl, description: 'Prometheus scrape target' });
    new CfnOutput(this, 'VpcId', { value: this.vpc.vpcId });
    new CfnOutput(this, 'LoadBalancerSecurityGroupId', {
      value: this.loadBalancer.connections.securityGroups[0]!.securityGroupId,
      description: 'Allow Prometheus in: an ingress rule on this group from its security group or CIDR',
    });
    new CfnOutput(this, 'SeriesTableName', { value: this.seriesTable.tableName });
    new CfnOutput(this, 'SeriesTableArn', { value: this.seriesTable.tableArn });
    new CfnOutput(this, 'LedgerTableName', { value: this.ledgerTable.tableName });
    new CfnOutput(this, 'LedgerTableArn', { value: this.ledgerTable.tableArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  /** SSE-S3 (ALB access logs support no KMS), TLS only, no public access, objects expiring. */
  private newAccessLogBucket(p: ResolvedAccrueGatewayProps): s3.Bucket {
    return new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: p.accessLogRetention }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Lets a producer send to the queue (sqs:SendMessage & co. on this queue, and the key use it needs). */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }
}

/**
 * Lets CloudWatch Logs encrypt this account's log groups in this region with the key (the statement
 * AWS documents for log group encryption, scoped by the encryption context).
 */
function allowLogsToUseKey(key: kms.IKey, stack: Stack): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}

/**
 * Where NodejsFunction runs esbuild (`npx --no-install esbuild` in that folder, which must contain the
 * entries): the nearest folder at or above the project root whose node_modules/.bin has esbuild — the
 * checkout itself, or, for the installed npm package (node_modules/accrue, where npm hoists esbuild to the
 * app's node_modules), the consuming app. NodejsFunction only needs an existing lock file to anchor it
 * (no install runs): that folder's package-lock.json, else the project's package.json (npm packs no lockfile).
 */
function lambdaBundlingRoot(projectRoot: string): { bundlingRoot: string; lockFile: string } {
  let bundlingRoot = projectRoot;
  for (let d = projectRoot; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules', '.bin', 'esbuild'))) {
      bundlingRoot = d;
      break;
    }
    if (path.dirname(d) === d) break;
  }
  const lockFile = [
    path.join(bundlingRoot, 'package-lock.json'),
    path.join(projectRoot, 'package.json'),
  ].find((f) => existsSync(f))!;
  return { bundlingRoot, lockFile };
}
