/**
 * The parts of the `AccrueGateway` construct: queues, tables, the ingest and janitor functions, the
 * network and service, the load balancer, the alarms. Each builder creates its resources in the
 * gateway's own scope with the ids they always had, so the logical ids (and with them the tables and
 * queues of a deployed stack) stay the same: nested constructs would rename every resource and make
 * CloudFormation replace them (docs/architecture.md, "Decisions").
 */
import path from 'node:path';
import {
  Annotations,
  ArnFormat,
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
  type Stack,
  Stage,
  aws_s3 as s3,
  aws_sns as sns,
  aws_sns_subscriptions as snsSubscriptions,
  aws_sqs as sqs,
  Token,
} from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import type { Construct } from 'constructs';
import { SERVICE_LIMIT_DEFAULTS } from '../shared/config';
import { ENV, LIMIT_ENV } from '../shared/env-names';
import { LEDGER_TTL_ATTRIBUTE, SERIES_TTL_ATTRIBUTE } from '../shared/store/dynamodb/tables';
import type { StoreLimits } from '../shared/store/types';
import { lambdaBundlingOptions, lambdaBundlingRoot } from './bundling';
import {
  ACCRUE_GATEWAY_DEFAULTS,
  type AccrueGatewayProps,
  ingestProfile,
  type ResolvedAccrueGatewayProps,
  SERVICE_CONTAINER_PORT,
  secondsOf,
} from './gateway-props';
import {
  grantTable,
  LEDGER_READER_ACTIONS,
  LEDGER_WRITER_ACTIONS,
  SERIES_TABLE_ACTIONS,
} from './permissions';
import { SERVICE_HEALTHCHECK_SCRIPT, stageServiceImage } from './service-image';

/** The ALB's idle timeout: 5 s under the service's keep-alive timeout (shared/config.ts). */
export const ALB_IDLE_TIMEOUT_SECONDS = Math.floor(SERVICE_LIMIT_DEFAULTS.keepAliveTimeoutMs / 1000) - 5;

/**
 * Key schemas; must match `createTables()` in shared/store/dynamodb/tables.ts (a test compares the
 * template with what `createTables()` creates in DynamoDB Local). TTL attribute names come from there.
 */
export const SERIES_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const LEDGER_TABLE_KEYS = { partitionKey: 'id' } as const;

/** Where the service may write with its read-only root filesystem (an ephemeral task volume). */
export const SERVICE_SCRATCH_PATH = '/tmp';

/** What every builder needs: the gateway's scope, its props (given and resolved), stack and key. */
export interface GatewayContext {
  readonly scope: Construct;
  readonly props: AccrueGatewayProps;
  readonly p: ResolvedAccrueGatewayProps;
  readonly stack: Stack;
  readonly key: kms.IKey;
  /** The construct created the key (so it may add statements to its policy). */
  readonly ownKey: boolean;
}

/** The key for SQS, the DLQ, the alarm topic and the log groups (created unless given). */
export function buildKey(scope: Construct, props: AccrueGatewayProps, stack: Stack): kms.IKey {
  if (props.encryptionKey !== undefined) return props.encryptionKey;
  const key = new kms.Key(scope, 'Key', {
    description: 'Accrue: SQS queue, DLQ, alarm topic, log groups (and tables when customer-managed)',
    enableKeyRotation: true,
  });
  allowLogsToUseKey(key, stack);
  return key;
}

export function buildQueues(c: GatewayContext): { queue: sqs.Queue; deadLetterQueue: sqs.Queue } {
  const deadLetterQueue = new sqs.Queue(c.scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: c.key,
    retentionPeriod: c.p.dlqRetention,
    enforceSSL: true,
  });
  const queue = new sqs.Queue(c.scope, 'Queue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: c.key,
    retentionPeriod: c.p.queueRetention,
    visibilityTimeout: c.p.visibilityTimeout,
    enforceSSL: true,
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: c.p.maxReceiveCount },
  });
  return { queue, deadLetterQueue };
}

export interface GatewayTables {
  readonly seriesTable: dynamodb.Table;
  readonly ledgerTable: dynamodb.Table;
  /** The tables' key when customer-managed (grants include its use). */
  readonly tableKey?: kms.IKey;
}

/** The series and ledger tables (key schemas = shared/store/dynamodb createTables()). */
export function buildTables(c: GatewayContext): GatewayTables {
  const tableKey = c.p.tableEncryption === 'customer-managed' ? c.key : undefined;
  const tableProps = {
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: c.p.deletionProtection,
    removalPolicy: c.p.tableRemovalPolicy,
    // 'aws-owned': DynamoDB's default encryption (no SSESpecification).
    ...(tableKey ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: tableKey } : {}),
  };
  const seriesTable = new dynamodb.Table(c.scope, 'SeriesTable', {
    ...tableProps,
    partitionKey: { name: SERIES_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: SERIES_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
    // DELETE tombstones expire through it.
    timeToLiveAttribute: SERIES_TTL_ATTRIBUTE,
  });
  const ledgerTable = new dynamodb.Table(c.scope, 'LedgerTable', {
    ...tableProps,
    partitionKey: { name: LEDGER_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
  });
  return { seriesTable, ledgerTable, ...(tableKey ? { tableKey } : {}) };
}

/** Configuration shared by every runtime (names: shared/env-names.ts). */
export function storeEnvironment(t: GatewayTables, p: ResolvedAccrueGatewayProps): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.STORE]: 'dynamodb',
    [ENV.SERIES_TABLE]: t.seriesTable.tableName,
    [ENV.LEDGER_TABLE]: t.ledgerTable.tableName,
    [ENV.GROUP_TTL_SECONDS]: String(p.groupTtl === undefined ? 0 : Math.ceil(secondsOf(p.groupTtl))),
  };
  for (const [k, v] of Object.entries(p.limits)) {
    const name = LIMIT_ENV[k as keyof StoreLimits];
    if (v !== undefined) env[name] = String(v);
  }
  return env;
}

/** A log group encrypted with the gateway's key, kept `logRetention`. */
export function newLogGroup(c: GatewayContext, id: string): logs.LogGroup {
  return new logs.LogGroup(c.scope, id, {
    retention: c.p.logRetention,
    encryptionKey: c.key,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/**
 * A function role without AWSLambdaBasicExecutionRole (log actions on every log group): the function may
 * write its own log group only.
 */
function functionRole(c: GatewayContext, id: string, group: logs.LogGroup): iam.Role {
  const role = new iam.Role(c.scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [group.logGroupArn],
    }),
  );
  return role;
}

export interface GatewayIngest {
  readonly ingestFunction: nodejs.NodejsFunction;
  readonly ingestLogGroup: logs.LogGroup;
  readonly eventSourceMapping: lambda.EventSourceMapping;
}

/** The ingest Lambda, its grants, and the event source mapping from the queue. */
export function buildIngest(
  c: GatewayContext,
  q: { queue: sqs.Queue; deadLetterQueue: sqs.Queue },
  t: GatewayTables,
  storeEnv: Record<string, string>,
): GatewayIngest {
  const { p } = c;
  const profile = ingestProfile(p.profile, p.projectRoot);
  const ingestLogGroup = newLogGroup(c, 'IngestLogGroup');
  const ingestFunction = newFunction(c, 'Ingest', ingestLogGroup, {
    description: 'Accrue: aggregates SQS batches into the store exactly once',
    entry: p.ingestEntry,
    memorySize: p.ingestMemorySize,
    timeout: p.ingestTimeout,
    ...(p.ingestReservedConcurrency > 0 ? { reservedConcurrentExecutions: p.ingestReservedConcurrency } : {}),
    bundling: { ...functionBundling(), define: { ...profile.define } },
    environment: {
      ...storeEnv,
      [ENV.LEDGER_TTL_SECONDS]: String(Math.ceil(secondsOf(p.ledgerTtl))),
      [ENV.DLQ_URL]: q.deadLetterQueue.queueUrl,
      [ENV.QUEUE_URL]: q.queue.queueUrl,
      [ENV.PROFILE]: profile.env,
      NODE_OPTIONS: '--enable-source-maps',
    },
  });
  q.queue.grantConsumeMessages(ingestFunction);
  q.deadLetterQueue.grantSendMessages(ingestFunction);
  grantTable(t.seriesTable, ingestFunction, SERIES_TABLE_ACTIONS, t.tableKey);
  grantTable(t.ledgerTable, ingestFunction, LEDGER_WRITER_ACTIONS, t.tableKey);
  const eventSourceMapping = new lambda.EventSourceMapping(c.scope, 'IngestEventSource', {
    target: ingestFunction,
    eventSourceArn: q.queue.queueArn,
    batchSize: p.batchSize,
    maxBatchingWindow: p.maxBatchingWindow.toSeconds() === 0 ? undefined : p.maxBatchingWindow,
    reportBatchItemFailures: true,
    maxConcurrency: p.maxConcurrency,
  });
  // The mapping polls with the function's role: the grant above must exist before the mapping is created.
  eventSourceMapping.node.addDependency(ingestFunction);
  return { ingestFunction, ingestLogGroup, eventSourceMapping };
}

/**
 * A Node.js 22 function `<name>Function` with its own role `<name>Role` (writing only `logGroup`), JSON
 * logs, bundled from the project by esbuild; `props` adds what differs between the functions.
 */
function newFunction(
  c: GatewayContext,
  name: string,
  logGroup: logs.LogGroup,
  props: Pick<
    nodejs.NodejsFunctionProps,
    | 'description'
    | 'entry'
    | 'memorySize'
    | 'timeout'
    | 'reservedConcurrentExecutions'
    | 'bundling'
    | 'environment'
  >,
): nodejs.NodejsFunction {
  const { bundlingRoot, lockFile } = lambdaBundlingRoot(c.p.projectRoot);
  return new nodejs.NodejsFunction(c.scope, `${name}Function`, {
    role: functionRole(c, `${name}Role`, logGroup),
    handler: 'handler',
    projectRoot: bundlingRoot,
    depsLockFilePath: lockFile,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: c.p.functionArchitecture,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    ...props,
  });
}

function functionBundling(): nodejs.BundlingOptions {
  return { ...lambdaBundlingOptions(), format: nodejs.OutputFormat.CJS };
}

export interface GatewayJanitor {
  readonly janitorFunction: nodejs.NodejsFunction;
  readonly janitorLogGroup: logs.LogGroup;
  readonly janitorRule: events.Rule;
}

/** The janitor Lambda on a schedule. */
export function buildJanitor(
  c: GatewayContext,
  t: GatewayTables,
  storeEnv: Record<string, string>,
): GatewayJanitor {
  const { p } = c;
  const janitorLogGroup = newLogGroup(c, 'JanitorLogGroup');
  const janitorFunction = newFunction(c, 'Janitor', janitorLogGroup, {
    description: 'Accrue: expires groups past their TTL',
    entry: p.janitorEntry,
    memorySize: 256,
    timeout: Duration.minutes(1),
    bundling: functionBundling(),
    environment: { ...storeEnv, NODE_OPTIONS: '--enable-source-maps' },
  });
  grantTable(t.seriesTable, janitorFunction, SERIES_TABLE_ACTIONS, t.tableKey);
  grantTable(t.ledgerTable, janitorFunction, LEDGER_READER_ACTIONS, t.tableKey);
  const janitorRule = new events.Rule(c.scope, 'JanitorSchedule', {
    description: 'Accrue: runs the janitor',
    schedule: events.Schedule.rate(p.janitorInterval),
    targets: [new eventsTargets.LambdaFunction(janitorFunction, { retryAttempts: 0 })],
  });
  return { janitorFunction, janitorLogGroup, janitorRule };
}

/** The VPC: the one given, or a new one with rejected-traffic flow logs and a DynamoDB gateway endpoint. */
export function buildVpc(c: GatewayContext): ec2.IVpc {
  if (c.props.existingVpc !== undefined) return c.props.existingVpc;
  const vpc = new ec2.Vpc(c.scope, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    flowLogs: {
      FlowLog: {
        trafficType: ec2.FlowLogTrafficType.REJECT,
        destination: ec2.FlowLogDestination.toCloudWatchLogs(newLogGroup(c, 'FlowLogGroup')),
      },
    },
    ...c.props.vpcProps,
  });
  vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
  return vpc;
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

export interface GatewayService {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly serviceLogGroup: logs.LogGroup;
  readonly service: ecs.FargateService;
}

/** The service on Fargate: cluster, task (read-only root, scratch volume, health check), grants, service. */
export function buildService(
  c: GatewayContext,
  vpc: ec2.IVpc,
  t: GatewayTables,
  storeEnv: Record<string, string>,
): GatewayService {
  const { p, props } = c;
  const cluster = new ecs.Cluster(c.scope, 'Cluster', {
    vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
  });
  const taskDefinition = new ecs.FargateTaskDefinition(c.scope, 'TaskDefinition', {
    cpu: p.serviceCpu,
    memoryLimitMiB: p.serviceMemoryMiB,
    runtimePlatform: {
      cpuArchitecture: p.serviceCpuArchitecture,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  const serviceLogGroup = newLogGroup(c, 'ServiceLogGroup');
  const secrets: Record<string, ecs.Secret> = {};
  if (props.pushAuthSecret) secrets[ENV.PUSH_AUTH] = ecs.Secret.fromSecretsManager(props.pushAuthSecret);
  if (props.scrapeAuthSecret)
    secrets[ENV.SCRAPE_AUTH] = ecs.Secret.fromSecretsManager(props.scrapeAuthSecret);
  const imageContext = stageServiceImage({
    projectRoot: p.projectRoot,
    dockerfile: p.dockerfile,
    outDir: path.join(
      Stage.of(c.scope)?.outdir ?? p.projectRoot,
      `.accrue-service-image-${c.scope.node.addr}`,
    ),
    bundle: c.stack.bundlingRequired,
  });
  const container = taskDefinition.addContainer('Service', {
    image: ecs.ContainerImage.fromAsset(imageContext, {
      platform:
        p.serviceCpuArchitecture === ecs.CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
    }),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'accrue', logGroup: serviceLogGroup }),
    environment: {
      ...storeEnv,
      [ENV.HOST]: '0.0.0.0',
      [ENV.PORT]: String(SERVICE_CONTAINER_PORT),
      [ENV.AWS_REGION]: c.stack.region,
      // Only when turned off, so the default template stays as it was.
      ...(props.openMetricsCreated === false ? { [ENV.OPENMETRICS_CREATED]: 'false' } : {}),
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
  taskDefinition.addVolume({ name: 'scratch' });
  container.addMountPoints({ containerPath: SERVICE_SCRATCH_PATH, sourceVolume: 'scratch', readOnly: false });
  grantTable(t.seriesTable, taskDefinition.taskRole, SERIES_TABLE_ACTIONS, t.tableKey);
  grantTable(t.ledgerTable, taskDefinition.taskRole, LEDGER_READER_ACTIONS, t.tableKey);
  const service = new ecs.FargateService(c.scope, 'Service', {
    cluster,
    taskDefinition,
    desiredCount: p.desiredCount,
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    circuitBreaker: { rollback: true },
    vpcSubnets: serviceSubnets(c),
    assignPublicIp: false,
  });
  return { cluster, taskDefinition, container, serviceLogGroup, service };
}

function serviceSubnets(c: GatewayContext): ec2.SubnetSelection {
  return c.props.serviceSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
}

export interface GatewayLoadBalancer {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly accessLogBucket?: s3.IBucket;
}

/** The load balancer in front of the service: access logs, listener (TLS when given), target group. */
export function buildLoadBalancer(
  c: GatewayContext,
  vpc: ec2.IVpc,
  service: ecs.FargateService,
): GatewayLoadBalancer {
  const { p, props } = c;
  const loadBalancer = new elbv2.ApplicationLoadBalancer(c.scope, 'LoadBalancer', {
    vpc,
    internetFacing: !p.internal,
    dropInvalidHeaderFields: true,
    deletionProtection: p.loadBalancerDeletionProtection,
    // Below the service's keep-alive timeout, so the ALB, not the task, closes idle connections: a task
    // closing one the ALB is about to reuse would turn a scrape or push into a 502.
    idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
    vpcSubnets:
      props.loadBalancerSubnets ?? (p.internal ? serviceSubnets(c) : { subnetType: ec2.SubnetType.PUBLIC }),
  });
  let accessLogBucket: s3.IBucket | undefined;
  // The bucket policy names the region's ELB log-delivery principal: a region-agnostic stack can't have one.
  if (Token.isUnresolved(c.stack.region)) {
    Annotations.of(c.scope).addWarningV2(
      'accrue:noAccessLogs',
      'no ALB access logs: the stack has no region (set env.region, or deploy through the CLI with a region configured)',
    );
  } else {
    accessLogBucket = props.accessLogBucket ?? newAccessLogBucket(c);
    loadBalancer.logAccessLogs(accessLogBucket, 'accrue');
  }
  const listener = loadBalancer.addListener('Listener', {
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
  for (const cidr of p.allowedCidrs ?? [vpc.vpcCidrBlock])
    listener.connections.allowDefaultPortFrom(ec2.Peer.ipv4(cidr), 'Prometheus and push clients');
  const targetGroup = listener.addTargets('Service', {
    port: SERVICE_CONTAINER_PORT,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targets: [service],
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
  return { loadBalancer, listener, targetGroup, ...(accessLogBucket ? { accessLogBucket } : {}) };
}

/** SSE-S3 (ALB access logs support no KMS), TLS only, no public access, objects expiring. */
function newAccessLogBucket(c: GatewayContext): s3.Bucket {
  return new s3.Bucket(c.scope, 'AccessLogBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ expiration: c.p.accessLogRetention }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** CPU-based autoscaling of the service, when asked for. */
export function buildAutoScaling(
  c: GatewayContext,
  service: ecs.FargateService,
): ecs.ScalableTaskCount | undefined {
  const as = c.props.autoScaling;
  if (!as) return undefined;
  const target = service.autoScaleTaskCount({
    minCapacity: as.minCapacity ?? c.p.desiredCount,
    maxCapacity: as.maxCapacity,
  });
  target.scaleOnCpuUtilization('CpuScaling', {
    targetUtilizationPercent:
      as.targetCpuUtilizationPercent ?? ACCRUE_GATEWAY_DEFAULTS.targetCpuUtilizationPercent,
  });
  return target;
}

/** The topic the alarms notify: the one given, or a new KMS-encrypted one CloudWatch may publish to. */
export function buildAlarmTopic(c: GatewayContext): sns.ITopic {
  const topic =
    c.props.alarmTopic ??
    new sns.Topic(c.scope, 'AlarmTopic', {
      displayName: 'Accrue alarms',
      masterKey: c.key,
      enforceSSL: true,
    });
  // CloudWatch publishes to the encrypted topic with the key: only for this account's alarms.
  if (c.props.alarmTopic === undefined && c.ownKey)
    c.key.grant(
      new iam.PrincipalWithConditions(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), {
        StringEquals: { 'aws:SourceAccount': c.stack.account },
        ArnLike: {
          'aws:SourceArn': c.stack.formatArn({
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
  if (c.props.alarmEmail) topic.addSubscription(new snsSubscriptions.EmailSubscription(c.props.alarmEmail));
  return topic;
}

/** An alarm over one period that notifies `topic` on alarm and on OK. */
export function newAlarm(
  scope: Construct,
  topic: sns.ITopic,
  name: string,
  metric: cloudwatch.IMetric,
  threshold: number,
  description: string,
  op = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  missing = cloudwatch.TreatMissingData.NOT_BREACHING,
): cloudwatch.Alarm {
  const a = new cloudwatch.Alarm(scope, name, {
    metric,
    threshold,
    evaluationPeriods: 1,
    comparisonOperator: op,
    treatMissingData: missing,
    alarmDescription: description,
  });
  a.addAlarmAction(new cwActions.SnsAction(topic));
  a.addOkAction(new cwActions.SnsAction(topic));
  return a;
}
