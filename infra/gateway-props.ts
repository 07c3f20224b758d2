/**
 * The `AccrueGateway` construct's props: their types, ONE defaults object (`ACCRUE_GATEWAY_DEFAULTS`) that
 * both the resolution (`resolveAccrueGatewayProps`) and the validation (`checkAccrueGatewayProps`) read,
 * and the profile check shared with synth. Nothing here creates resources.
 */
import path from 'node:path';
import type {
  aws_ec2 as ec2,
  aws_elasticloadbalancingv2 as elbv2,
  aws_kms as kms,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
  aws_sns as sns,
} from 'aws-cdk-lib';
import {
  Duration,
  aws_ecs as ecs,
  aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  Token,
} from 'aws-cdk-lib';
import { LIMIT_ENV } from '../shared/env-names';
import type { Problem } from '../shared/model/errors';
import { EMBEDDED_PROFILE_PREFIX } from '../shared/profiles/deployed';
import { ProfileError } from '../shared/profiles/errors';
import { loadProfile } from '../shared/profiles/load';
import { DEFAULT_LEDGER_TTL_SECONDS, type StoreLimits } from '../shared/store/types';
import { REPO_ROOT } from './bundling';

/** Port the service listens on inside the container (the Pushgateway's port). */
export const SERVICE_CONTAINER_PORT = 9091;

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
  /**
   * OpenMetrics `_created` lines where a series' start is known (`ACCRUE_OPENMETRICS_CREATED`): Prometheus
   * 2.x stores each as one more series; `false` leaves them out (docs/exposition.md "Series starts").
   * @default true
   */
  readonly openMetricsCreated?: boolean;
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

/**
 * Every default of the props, in one place: `resolveAccrueGatewayProps` applies them and
 * `checkAccrueGatewayProps` reads them when a check depends on a prop that was left out.
 */
export const ACCRUE_GATEWAY_DEFAULTS = {
  ingestTimeout: Duration.seconds(30),
  maxBatchingWindow: Duration.seconds(1),
  queueRetention: Duration.days(4),
  dlqRetention: Duration.days(14),
  maxReceiveCount: 5,
  ingestMemorySize: 512,
  batchSize: 100,
  maxConcurrency: 10,
  functionArchitecture: lambda.Architecture.ARM_64,
  profile: 'aria',
  /** Added to queueRetention + dlqRetention + visibilityTimeout for the ledger TTL (never below the stores' default). */
  ledgerTtlMargin: Duration.days(1),
  tableRemovalPolicy: RemovalPolicy.RETAIN,
  deletionProtection: true,
  tableEncryption: 'aws-owned' as AccrueTableEncryption,
  internal: true,
  accessLogRetention: Duration.days(90),
  loadBalancerDeletionProtection: true,
  listenerPort: SERVICE_CONTAINER_PORT,
  serviceCpu: 512,
  serviceMemoryMiB: 1024,
  serviceCpuArchitecture: ecs.CpuArchitecture.ARM64,
  desiredCount: 1,
  targetCpuUtilizationPercent: 60,
  janitorInterval: Duration.minutes(5),
  maxMessageAge: Duration.minutes(15),
  logRetention: logs.RetentionDays.ONE_MONTH,
} as const;

/** AWS's guidance for Lambda consumers: 6 x the function timeout, plus the batching window. */
function defaultVisibilitySeconds(timeoutSeconds: number, windowSeconds: number): number {
  return 6 * timeoutSeconds + windowSeconds;
}

/** Defaults applied (`ACCRUE_GATEWAY_DEFAULTS`). */
export function resolveAccrueGatewayProps(props: AccrueGatewayProps): ResolvedAccrueGatewayProps {
  const D = ACCRUE_GATEWAY_DEFAULTS;
  const projectRoot = props.projectRoot ?? REPO_ROOT;
  const ingestTimeout = props.ingestTimeout ?? D.ingestTimeout;
  const maxBatchingWindow = props.maxBatchingWindow ?? D.maxBatchingWindow;
  const visibilityTimeout =
    props.visibilityTimeout ??
    Duration.seconds(defaultVisibilitySeconds(secondsOf(ingestTimeout), secondsOf(maxBatchingWindow)));
  const queueRetention = props.queueRetention ?? D.queueRetention;
  const dlqRetention = props.dlqRetention ?? D.dlqRetention;
  const maxConcurrency = props.maxConcurrency ?? D.maxConcurrency;
  return {
    ingestEntry: props.ingestEntry ?? path.join(projectRoot, 'functions', 'ingest', 'index.ts'),
    janitorEntry: props.janitorEntry ?? path.join(projectRoot, 'functions', 'janitor', 'index.ts'),
    projectRoot,
    dockerfile: props.dockerfile ?? path.join('service', 'Dockerfile'),
    visibilityTimeout,
    queueRetention,
    dlqRetention,
    maxReceiveCount: props.maxReceiveCount ?? D.maxReceiveCount,
    ingestTimeout,
    ingestMemorySize: props.ingestMemorySize ?? D.ingestMemorySize,
    batchSize: props.batchSize ?? D.batchSize,
    maxBatchingWindow,
    maxConcurrency,
    ingestReservedConcurrency: props.ingestReservedConcurrency ?? maxConcurrency,
    functionArchitecture: props.functionArchitecture ?? D.functionArchitecture,
    profile: props.profile ?? D.profile,
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
            secondsOf(D.ledgerTtlMargin),
        ),
      ),
    limits: props.limits ?? {},
    tableRemovalPolicy: props.tableRemovalPolicy ?? D.tableRemovalPolicy,
    deletionProtection: props.deletionProtection ?? D.deletionProtection,
    tableEncryption: props.tableEncryption ?? D.tableEncryption,
    internal: props.internal ?? D.internal,
    allowedCidrs: props.allowedCidrs,
    accessLogRetention: props.accessLogRetention ?? D.accessLogRetention,
    loadBalancerDeletionProtection: props.loadBalancerDeletionProtection ?? D.loadBalancerDeletionProtection,
    pushAuth: props.pushAuthSecret !== undefined,
    listenerPort: props.listenerPort ?? D.listenerPort,
    serviceCpu: props.serviceCpu ?? D.serviceCpu,
    serviceMemoryMiB: props.serviceMemoryMiB ?? D.serviceMemoryMiB,
    serviceCpuArchitecture: props.serviceCpuArchitecture ?? D.serviceCpuArchitecture,
    desiredCount: props.desiredCount ?? D.desiredCount,
    janitorInterval: props.janitorInterval ?? D.janitorInterval,
    maxMessageAge: props.maxMessageAge ?? D.maxMessageAge,
    logRetention: props.logRetention ?? D.logRetention,
  };
}

export function secondsOf(d: Duration): number {
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

/** Collects problems; the range helpers skip values given as tokens (CloudFormation checks those). */
class PropChecks {
  readonly problems: Problem[] = [];

  bad(p: string, message: string): void {
    this.problems.push({ path: p, message });
  }

  intIn(p: string, v: number | undefined, lo: number, hi: number): void {
    if (v === undefined || Token.isUnresolved(v)) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
      this.bad(p, `must be an integer from ${lo} to ${hi}, got ${String(v)}`);
  }

  secondsIn(p: string, d: Duration | undefined, lo: number, hi: number, unit = 's'): void {
    const s = knownSeconds(d);
    if (s === undefined) return;
    if (!Number.isFinite(s) || s < lo || s > hi)
      this.bad(p, `must be from ${lo} to ${hi} ${unit}, got ${s} s`);
  }
}

/**
 * Every problem with the props, all at once (nothing is built when there is one). Numbers given as
 * tokens are skipped: CloudFormation checks them at deploy time.
 */
export function checkAccrueGatewayProps(props: AccrueGatewayProps): Problem[] {
  const c = new PropChecks();
  if (props.existingVpc !== undefined && props.vpcProps !== undefined)
    c.bad('existingVpc', 'give existingVpc or vpcProps, not both');
  checkRanges(props, c);
  checkQueueTiming(props, c);
  checkExposure(props, c);
  checkConcurrency(props, c);
  checkStore(props, c);
  checkService(props, c);
  checkProfile(props, c);
  checkLimits(props, c);
  if (props.alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(props.alarmEmail))
    c.bad('alarmEmail', `must be an e-mail address, got ${JSON.stringify(props.alarmEmail)}`);
  return c.problems;
}

/** The ranges AWS accepts for each number and duration. */
function checkRanges(props: AccrueGatewayProps, c: PropChecks): void {
  c.secondsIn('ingestTimeout', props.ingestTimeout, 1, 900);
  c.secondsIn('queueRetention', props.queueRetention, 60, 1_209_600);
  c.secondsIn('dlqRetention', props.dlqRetention, 60, 1_209_600);
  c.secondsIn('visibilityTimeout', props.visibilityTimeout, 0, 43_200);
  c.secondsIn('maxBatchingWindow', props.maxBatchingWindow, 0, 300);
  c.secondsIn('maxMessageAge', props.maxMessageAge, 60, 1_209_600);
  c.intIn('maxReceiveCount', props.maxReceiveCount, 1, 1000);
  c.intIn('ingestMemorySize', props.ingestMemorySize, 128, 10_240);
  c.intIn('batchSize', props.batchSize, 1, 10_000);
  c.intIn('maxConcurrency', props.maxConcurrency, 2, 1000);
  c.intIn('ingestReservedConcurrency', props.ingestReservedConcurrency, 0, 1000);
  c.intIn('listenerPort', props.listenerPort, 1, 65_535);
  c.intIn('serviceCpu', props.serviceCpu, 256, 16_384);
  c.intIn('serviceMemoryMiB', props.serviceMemoryMiB, 512, 122_880);
  c.intIn('desiredCount', props.desiredCount, 1, 1000);
}

/** Visibility timeout against the function timeout, and the batching window against the batch size. */
function checkQueueTiming(props: AccrueGatewayProps, c: PropChecks): void {
  const D = ACCRUE_GATEWAY_DEFAULTS;
  const timeout = knownSeconds(props.ingestTimeout ?? D.ingestTimeout);
  const visibility = knownSeconds(props.visibilityTimeout);
  if (timeout !== undefined && visibility !== undefined && visibility < 6 * timeout)
    c.bad(
      'visibilityTimeout',
      `must be at least 6 x ingestTimeout (${6 * timeout} s) so a message isn't redelivered while a retried invocation still runs, got ${visibility} s`,
    );
  const batch = props.batchSize;
  const window = knownSeconds(props.maxBatchingWindow ?? D.maxBatchingWindow);
  if (batch !== undefined && !Token.isUnresolved(batch) && batch > 10 && window !== undefined && window < 1)
    c.bad(
      'maxBatchingWindow',
      `must be at least 1 s when batchSize is more than 10 (batchSize ${batch}), got ${window} s`,
    );
}

/** An internet-facing load balancer needs TLS, both credentials and an explicit acknowledgement. */
function checkExposure(props: AccrueGatewayProps, c: PropChecks): void {
  if (props.internal !== false) return;
  if (props.certificate === undefined)
    c.bad(
      'certificate',
      'internal: false needs a certificate: push and scrape credentials must not cross the internet in clear text',
    );
  if (props.acknowledgeInternetFacing !== true)
    c.bad(
      'internal',
      'internal: false makes /metrics and the push API reachable from the internet; set acknowledgeInternetFacing: true (and pushAuthSecret) to confirm',
    );
  if (props.pushAuthSecret === undefined)
    c.bad(
      'pushAuthSecret',
      'internal: false needs pushAuthSecret: without it anyone on the internet can push, overwrite and delete metrics',
    );
  if (props.scrapeAuthSecret === undefined)
    c.bad(
      'scrapeAuthSecret',
      'internal: false needs scrapeAuthSecret: without it anyone on the internet can read every metric on /metrics',
    );
}

/** Reserved concurrency: none, or enough for every invocation the event source may start. */
function checkConcurrency(props: AccrueGatewayProps, c: PropChecks): void {
  const reserved = props.ingestReservedConcurrency;
  const esmMax = props.maxConcurrency ?? ACCRUE_GATEWAY_DEFAULTS.maxConcurrency;
  if (
    reserved !== undefined &&
    !Token.isUnresolved(reserved) &&
    !Token.isUnresolved(esmMax) &&
    Number.isInteger(reserved) &&
    reserved > 0 &&
    reserved < esmMax
  )
    c.bad(
      'ingestReservedConcurrency',
      `must be 0 (none) or at least maxConcurrency (${esmMax}): the event source would start invocations the function can't run, and throttled messages count as receives toward the DLQ, got ${reserved}`,
    );
}

/** Tables, TTLs and the janitor's rate. */
function checkStore(props: AccrueGatewayProps, c: PropChecks): void {
  const D = ACCRUE_GATEWAY_DEFAULTS;
  if (
    props.tableEncryption !== undefined &&
    !['aws-owned', 'customer-managed'].includes(props.tableEncryption)
  )
    c.bad(
      'tableEncryption',
      `must be 'aws-owned' or 'customer-managed', got ${JSON.stringify(props.tableEncryption)}`,
    );
  c.secondsIn('accessLogRetention', props.accessLogRetention, 86_400, 3_650 * 86_400);
  if (props.tableRemovalPolicy === RemovalPolicy.DESTROY && props.deletionProtection !== false)
    c.bad(
      'tableRemovalPolicy',
      'RemovalPolicy.DESTROY needs deletionProtection: false (deletion protection would make the stack deletion fail)',
    );
  const timeout = knownSeconds(props.ingestTimeout ?? D.ingestTimeout);
  const window = knownSeconds(props.maxBatchingWindow ?? D.maxBatchingWindow);
  const retention = knownSeconds(props.queueRetention ?? D.queueRetention);
  const visibility =
    props.visibilityTimeout === undefined
      ? defaultVisibilitySeconds(timeout ?? secondsOf(D.ingestTimeout), window ?? 0)
      : knownSeconds(props.visibilityTimeout);
  const ledger = knownSeconds(props.ledgerTtl);
  if (ledger !== undefined && retention !== undefined && visibility !== undefined) {
    const min = retention + visibility;
    if (!(ledger > min))
      c.bad(
        'ledgerTtl',
        `must exceed queueRetention + visibilityTimeout (${min} s): a redelivered message must still find its ledger item, got ${ledger} s`,
      );
  }
  const groupTtl = knownSeconds(props.groupTtl);
  if (groupTtl !== undefined && !(groupTtl >= 1 && Number.isFinite(groupTtl)))
    c.bad('groupTtl', `must be at least 1 s (leave it unset for no expiry), got ${groupTtl} s`);
  const janitor = knownSeconds(props.janitorInterval);
  if (janitor !== undefined && (!Number.isFinite(janitor) || janitor < 60 || janitor % 60 !== 0))
    c.bad('janitorInterval', `must be whole minutes, at least 1 (EventBridge rate), got ${janitor} s`);
}

/** Autoscaling bounds and the listener's CIDRs. */
function checkService(props: AccrueGatewayProps, c: PropChecks): void {
  const as = props.autoScaling;
  if (as !== undefined) {
    c.intIn('autoScaling.maxCapacity', as.maxCapacity, 1, 1000);
    c.intIn('autoScaling.minCapacity', as.minCapacity, 1, 1000);
    if (as.targetCpuUtilizationPercent !== undefined)
      c.intIn('autoScaling.targetCpuUtilizationPercent', as.targetCpuUtilizationPercent, 10, 90);
    const min = as.minCapacity ?? props.desiredCount ?? ACCRUE_GATEWAY_DEFAULTS.desiredCount;
    if (Number.isInteger(min) && Number.isInteger(as.maxCapacity) && as.maxCapacity < min)
      c.bad('autoScaling.maxCapacity', `must be at least minCapacity (${min}), got ${as.maxCapacity}`);
  }
  if (props.allowedCidrs !== undefined) {
    if (props.allowedCidrs.length === 0)
      c.bad('allowedCidrs', 'must list at least one CIDR (leave it unset for the VPC CIDR)');
    props.allowedCidrs.forEach((cidr, i) => {
      if (typeof cidr !== 'string' || (!Token.isUnresolved(cidr) && !IPV4_CIDR.test(cidr)))
        c.bad(`allowedCidrs[${i}]`, `must be an IPv4 CIDR like 10.0.0.0/16, got ${JSON.stringify(cidr)}`);
    });
  }
}

/** The profile: a well-formed name, and one the full loader accepts (every problem listed). */
function checkProfile(props: AccrueGatewayProps, c: PropChecks): void {
  if (props.profile === undefined) return;
  if (typeof props.profile !== 'string' || !/^[\w./-]{1,200}$/.test(props.profile)) {
    c.bad(
      'profile',
      `must be a profile name or path of 1 to 200 characters [A-Za-z0-9_./-], got ${JSON.stringify(props.profile)}`,
    );
    return;
  }
  try {
    ingestProfile(props.profile, props.projectRoot ?? REPO_ROOT);
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    for (const pr of e.problems)
      c.bad('profile', `${e.source}: ${pr.path === '' ? '' : `${pr.path}: `}${pr.message}`);
  }
}

/** Store limits: known names (`ACCRUE_MAX_*`), positive integers. */
function checkLimits(props: AccrueGatewayProps, c: PropChecks): void {
  for (const [k, v] of Object.entries(props.limits ?? {})) {
    if (!Object.hasOwn(LIMIT_ENV, k))
      c.bad(`limits.${k}`, `is not a store limit (known: ${Object.keys(LIMIT_ENV).join(', ')})`);
    else c.intIn(`limits.${k}`, v as number, 1, Number.MAX_SAFE_INTEGER);
  }
}
