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
import {
  Annotations,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  Duration,
  type aws_dynamodb as dynamodb,
  type aws_ec2 as ec2,
  type aws_ecs as ecs,
  type aws_elasticloadbalancingv2 as elbv2,
  type aws_events as events,
  type aws_iam as iam,
  type aws_kms as kms,
  type aws_lambda as lambda,
  type aws_logs as logs,
  type aws_lambda_nodejs as nodejs,
  Stack,
  type aws_s3 as s3,
  type aws_sns as sns,
  type aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ValidationError } from '../shared/model/errors';
import {
  buildAlarmTopic,
  buildAutoScaling,
  buildIngest,
  buildJanitor,
  buildKey,
  buildLoadBalancer,
  buildQueues,
  buildService,
  buildTables,
  buildVpc,
  type GatewayContext,
  newAlarm,
  storeEnvironment,
} from './gateway-parts';
import {
  type AccrueGatewayProps,
  checkAccrueGatewayProps,
  type ResolvedAccrueGatewayProps,
  resolveAccrueGatewayProps,
  secondsOf,
} from './gateway-props';

export { LEDGER_TTL_ATTRIBUTE, SERIES_TTL_ATTRIBUTE } from '../shared/store/dynamodb/tables';
export {
  ALB_IDLE_TIMEOUT_SECONDS,
  LEDGER_TABLE_KEYS,
  SERIES_TABLE_KEYS,
  SERVICE_SCRATCH_PATH,
} from './gateway-parts';
export {
  ACCRUE_GATEWAY_DEFAULTS,
  type AccrueAutoScalingProps,
  type AccrueGatewayProps,
  type AccrueTableEncryption,
  checkAccrueGatewayProps,
  type IngestProfile,
  ingestProfile,
  type ResolvedAccrueGatewayProps,
  resolveAccrueGatewayProps,
  SERVICE_CONTAINER_PORT,
} from './gateway-props';

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

  /** Checks the props (every problem at once), then builds the parts in dependency order. */
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
    this.encryptionKey = buildKey(this, props, stack);
    const c: GatewayContext = {
      scope: this,
      props,
      p,
      stack,
      key: this.encryptionKey,
      ownKey: props.encryptionKey === undefined,
    };

    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = buildQueues(c));
    const tables = buildTables(c);
    ({ seriesTable: this.seriesTable, ledgerTable: this.ledgerTable } = tables);
    const storeEnv = storeEnvironment(tables, p);
    ({
      ingestFunction: this.ingestFunction,
      ingestLogGroup: this.ingestLogGroup,
      eventSourceMapping: this.eventSourceMapping,
    } = buildIngest(c, this, tables, storeEnv));
    ({
      janitorFunction: this.janitorFunction,
      janitorLogGroup: this.janitorLogGroup,
      janitorRule: this.janitorRule,
    } = buildJanitor(c, tables, storeEnv));
    this.vpc = buildVpc(c);
    ({
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      container: this.container,
      serviceLogGroup: this.serviceLogGroup,
      service: this.service,
    } = buildService(c, this.vpc, tables, storeEnv));
    const lb = buildLoadBalancer(c, this.vpc, this.service);
    ({ loadBalancer: this.loadBalancer, listener: this.listener, targetGroup: this.targetGroup } = lb);
    this.accessLogBucket = lb.accessLogBucket;
    this.scalableTarget = buildAutoScaling(c, this.service);
    const scheme = props.certificate ? 'https' : 'http';
    this.serviceUrl = `${scheme}://${this.loadBalancer.loadBalancerDnsName}:${p.listenerPort}`;
    this.metricsUrl = `${this.serviceUrl}/metrics`;
    if (!p.pushAuth)
      Annotations.of(this).addWarningV2(
        'accrue:pushOpen',
        `push is open: without pushAuthSecret (context accrue:pushAuthSecretArn) anyone who reaches the load balancer (${p.allowedCidrs?.join(', ') ?? 'the VPC CIDR'}) can push, overwrite and delete metrics`,
      );
    this.alarmTopic = buildAlarmTopic(c);
    this.alarms = this.buildAlarms(p);
    this.addOutputs();
  }

  /** The alarms, each notifying the alarm topic. */
  private buildAlarms(p: ResolvedAccrueGatewayProps): AccrueGatewayAlarms {
    const minute = Duration.minutes(1);
    const alarm = (
      name: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      op?: cloudwatch.ComparisonOperator,
      missing?: cloudwatch.TreatMissingData,
    ) => newAlarm(this, this.alarmTopic, name, metric, threshold, description, op, missing);
    return {
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
  }

  /** The stack outputs: endpoints, queue and table names, the key producers need. */
  private addOutputs(): void {
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

  /** Lets a producer send to the queue (sqs:SendMessage & co. on this queue, and the key use it needs). */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }
}
