/**
 * The deployable stack: one `AccrueGateway`, props taken from CDK context (`cdk.json` or `-c key=value`),
 * and the cdk-nag acknowledgements this design needs, each with its exact rule id and a reason.
 */
import {
  type CfnElement,
  Duration,
  aws_elasticloadbalancingv2 as elbv2,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AccrueGateway, type AccrueGatewayProps } from './accrue-gateway';

/** Context keys the app reads (all optional). */
export const CONTEXT_KEYS = {
  groupTtlSeconds: 'accrue:groupTtlSeconds',
  alarmEmail: 'accrue:alarmEmail',
  batchSize: 'accrue:batchSize',
  maxBatchingWindowSeconds: 'accrue:maxBatchingWindowSeconds',
  maxConcurrency: 'accrue:maxConcurrency',
  internal: 'accrue:internal',
  acknowledgeInternetFacing: 'accrue:acknowledgeInternetFacing',
  allowedCidrs: 'accrue:allowedCidrs',
  profile: 'accrue:profile',
  desiredCount: 'accrue:desiredCount',
  maxTasks: 'accrue:maxTasks',
  destroyTables: 'accrue:destroyTables',
  certificateArn: 'accrue:certificateArn',
} as const;

type ContextReader = (key: string) => unknown;

function num(get: ContextReader, key: string): number | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  // Context from `-c` arrives as strings; a non-numeric value becomes NaN and the construct reports it.
  return typeof v === 'number' ? v : Number(v);
}

function flag(get: ContextReader, key: string): boolean | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  return v === true || v === 'true';
}

function text(get: ContextReader, key: string): string | undefined {
  const v = get(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

/** Construct props from context values. */
export function propsFromContext(get: ContextReader): AccrueGatewayProps {
  const certificateArn = text(get, CONTEXT_KEYS.certificateArn);
  const groupTtl = num(get, CONTEXT_KEYS.groupTtlSeconds);
  const window = num(get, CONTEXT_KEYS.maxBatchingWindowSeconds);
  const maxTasks = num(get, CONTEXT_KEYS.maxTasks);
  const cidrs = text(get, CONTEXT_KEYS.allowedCidrs);
  const destroy = flag(get, CONTEXT_KEYS.destroyTables) === true;
  return {
    groupTtl: groupTtl === undefined || groupTtl === 0 ? undefined : Duration.seconds(groupTtl),
    alarmEmail: text(get, CONTEXT_KEYS.alarmEmail),
    batchSize: num(get, CONTEXT_KEYS.batchSize),
    maxBatchingWindow: window === undefined ? undefined : Duration.seconds(window),
    maxConcurrency: num(get, CONTEXT_KEYS.maxConcurrency),
    internal: flag(get, CONTEXT_KEYS.internal),
    acknowledgeInternetFacing: flag(get, CONTEXT_KEYS.acknowledgeInternetFacing),
    allowedCidrs: cidrs === undefined ? undefined : cidrs.split(',').map((c) => c.trim()),
    profile: text(get, CONTEXT_KEYS.profile),
    desiredCount: num(get, CONTEXT_KEYS.desiredCount),
    autoScaling: maxTasks === undefined ? undefined : { maxCapacity: maxTasks },
    certificate: certificateArn === undefined ? undefined : elbv2.ListenerCertificate.fromArn(certificateArn),
    ...(destroy ? { tableRemovalPolicy: RemovalPolicy.DESTROY, deletionProtection: false } : {}),
  };
}

export interface AccrueStackProps extends StackProps {
  readonly gateway?: AccrueGatewayProps;
}

export class AccrueStack extends Stack {
  public readonly gateway: AccrueGateway;

  constructor(scope: Construct, id: string, props: AccrueStackProps = {}) {
    super(scope, id, props);
    this.gateway = new AccrueGateway(this, 'Gateway', props.gateway ?? {});
    acknowledgeNagFindings(this.gateway);
  }
}

/**
 * cdk-nag (AwsSolutions) findings this design accepts, on the narrowest construct that has them.
 * Each id is the exact finding id cdk-nag prints.
 */
export function acknowledgeNagFindings(gw: AccrueGateway): void {
  const stack = Stack.of(gw);
  const arnOf = (c: { node: { defaultChild?: unknown } }) =>
    `<${stack.getLogicalId(c.node.defaultChild as CfnElement)}.Arn>`;
  const indexReason =
    "Added by Table.grantReadWriteData for the table's indexes; the tables have no index, so it grants nothing more";
  const indexAcks = [gw.seriesTable, gw.ledgerTable].map((t) => ({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arnOf(t)}/index/*]`,
    reason: indexReason,
  }));
  const basicExecution =
    'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
  for (const fn of [gw.ingestFunction, gw.janitorFunction]) {
    Validations.of(fn).acknowledge(
      {
        id: basicExecution,
        reason:
          'AWS managed policy that only allows writing the function its own CloudWatch Logs; nothing else',
      },
      {
        id: 'AwsSolutions::AwsSolutions-L1',
        reason:
          'nodejs22.x on purpose: the bundle targets node22 and the code is developed and tested on Node 20/22; nodejs24.x follows once the toolchain moves',
      },
      ...indexAcks,
    );
  }
  Validations.of(gw.ingestFunction).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Queue.grantSendMessages on the KMS-encrypted DLQ; scoped to the one key of this construct',
    },
    {
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      reason: 'Queue.grantSendMessages on the KMS-encrypted DLQ; scoped to the one key of this construct',
    },
  );
  Validations.of(gw.taskDefinition).acknowledge(...indexAcks, {
    id: 'AwsSolutions::AwsSolutions-ECS2',
    reason:
      'The environment holds only non-secret settings (table names, limits, port); secrets come from Secrets Manager',
  });
  const executionRole = gw.taskDefinition.executionRole;
  if (executionRole)
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken, granted by CDK for pulling the image asset, only exists with resource "*" (AWS requires it)',
    });
  if (gw.settings.allowedCidrs === undefined)
    Validations.of(gw.loadBalancer).acknowledge({
      id: 'AwsSolutions::AwsSolutions-EC23',
      reason:
        "Ingress is limited to the VPC's own CIDR, a token cdk-nag can't evaluate; with allowedCidrs given the rule checks the literal CIDRs",
    });
  if (!gw.settings.accessLogs)
    Validations.of(gw.loadBalancer).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ELB2',
      reason: "Access logs need a bucket of the operator's choosing: pass accessLogBucket to enable them",
    });
}
