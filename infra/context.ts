/**
 * CDK context (`cdk.json` → `context`, or `-c accrue:key=value`) → `AccrueGateway` props for the app.
 * Every key Accrue reads is in `CONTEXT_KEYS`; an `accrue:*` key that is not there is an error listing the
 * known ones (a typo such as `accrue:vpcID` must not silently deploy a new VPC). Values from `-c` arrive as
 * strings, values from cdk.json as JSON; both are accepted. Range checks are the construct's
 * (`checkAccrueGatewayProps`), so a bad value fails with the prop's name and rule.
 */
import {
  Duration,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2,
  aws_lambda as lambda,
  RemovalPolicy,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AccrueGatewayProps, AccrueTableEncryption } from './accrue-gateway';

/** Context keys the app reads (all optional); docs/deploy.md has the table. */
export const CONTEXT_KEYS = {
  stackName: 'accrue:stackName',
  groupTtlSeconds: 'accrue:groupTtlSeconds',
  alarmEmail: 'accrue:alarmEmail',
  batchSize: 'accrue:batchSize',
  maxBatchingWindowSeconds: 'accrue:maxBatchingWindowSeconds',
  maxConcurrency: 'accrue:maxConcurrency',
  reservedConcurrency: 'accrue:reservedConcurrency',
  ingestMemoryMiB: 'accrue:ingestMemoryMiB',
  internal: 'accrue:internal',
  acknowledgeInternetFacing: 'accrue:acknowledgeInternetFacing',
  allowedCidrs: 'accrue:allowedCidrs',
  profile: 'accrue:profile',
  desiredCount: 'accrue:desiredCount',
  maxTasks: 'accrue:maxTasks',
  taskCpu: 'accrue:taskCpu',
  taskMemoryMiB: 'accrue:taskMemoryMiB',
  architecture: 'accrue:architecture',
  destroyTables: 'accrue:destroyTables',
  certificateArn: 'accrue:certificateArn',
  vpcId: 'accrue:vpcId',
  serviceSubnetIds: 'accrue:serviceSubnetIds',
  loadBalancerSubnetIds: 'accrue:loadBalancerSubnetIds',
  pushAuthSecretArn: 'accrue:pushAuthSecretArn',
  scrapeAuthSecretArn: 'accrue:scrapeAuthSecretArn',
  tableEncryption: 'accrue:tableEncryption',
  accessLogBucketName: 'accrue:accessLogBucketName',
} as const;

const KNOWN = new Set<string>(Object.values(CONTEXT_KEYS));

/** Thrown for a context key or value the app can't use; the message names the key. */
export class ContextError extends Error {
  override readonly name = 'ContextError';
}

/** `accrue:*` keys that Accrue doesn't know, sorted. */
export function unknownContextKeys(context: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(context)
    .filter((k) => k.startsWith('accrue:') && !KNOWN.has(k))
    .sort();
}

/** Throws `ContextError` naming every unknown `accrue:*` key and listing the known ones. */
export function assertKnownContextKeys(context: Readonly<Record<string, unknown>>): void {
  const unknown = unknownContextKeys(context);
  if (unknown.length === 0) return;
  throw new ContextError(
    `unknown context key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known keys: ${[...KNOWN].sort().join(', ')}`,
  );
}

type ContextReader = (key: string) => unknown;

function num(get: ContextReader, key: string): number | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  // A non-numeric string becomes NaN and the construct reports it with the prop's rule.
  return typeof v === 'number' ? v : Number(v);
}

function flag(get: ContextReader, key: string): boolean | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new ContextError(`${key}: must be true or false, got ${JSON.stringify(v)}`);
}

function text(get: ContextReader, key: string): string | undefined {
  const v = get(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function list(get: ContextReader, key: string): string[] | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

function oneOf<T extends string>(get: ContextReader, key: string, allowed: readonly T[]): T | undefined {
  const v = text(get, key);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new ContextError(`${key}: must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

const SECRET_ARN = /^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * A secret from its ARN. Secrets Manager appends 6 random characters to a secret's name in its ARN
 * ("complete" ARN); without them, the ARN is "partial" and IAM policies need a `-??????` wildcard.
 */
function secretFromArn(key: string, arn: string, scope: () => Construct, id: string): secretsmanager.ISecret {
  if (!SECRET_ARN.test(arn))
    throw new ContextError(`${key}: must be a Secrets Manager secret ARN, got ${JSON.stringify(arn)}`);
  return /-[A-Za-z0-9]{6}$/.test(arn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope(), id, arn)
    : secretsmanager.Secret.fromSecretPartialArn(scope(), id, arn);
}

function subnets(key: string, ids: string[] | undefined): ec2.SubnetSelection | undefined {
  if (ids === undefined) return undefined;
  const bad = ids.filter((s) => !SUBNET_ID.test(s));
  if (bad.length > 0 || ids.length === 0)
    throw new ContextError(
      `${key}: must be a comma-separated list of subnet ids (subnet-…), got ${JSON.stringify(bad.join(',') || ids.join(','))}`,
    );
  return { subnetFilters: [ec2.SubnetFilter.byIds(ids)] };
}

/**
 * Construct props from context values. `scope` is where imported resources (the VPC lookup, secrets,
 * certificate, bucket) are defined: the stack. `accrue:vpcId` uses `Vpc.fromLookup`, which needs the
 * stack's account and region (credentials, or CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION) and caches the
 * answer in cdk.context.json.
 */
export function propsFromContext(get: ContextReader, scope?: Construct): AccrueGatewayProps {
  const need = (key: string): Construct => {
    if (scope === undefined) throw new ContextError(`${key}: needs a scope to import the resource into`);
    return scope;
  };
  const groupTtl = num(get, CONTEXT_KEYS.groupTtlSeconds);
  const window = num(get, CONTEXT_KEYS.maxBatchingWindowSeconds);
  const maxTasks = num(get, CONTEXT_KEYS.maxTasks);
  const cidrs = list(get, CONTEXT_KEYS.allowedCidrs);
  const destroy = flag(get, CONTEXT_KEYS.destroyTables) === true;
  const certificateArn = text(get, CONTEXT_KEYS.certificateArn);
  const vpcId = text(get, CONTEXT_KEYS.vpcId);
  if (vpcId !== undefined && !VPC_ID.test(vpcId))
    throw new ContextError(`${CONTEXT_KEYS.vpcId}: must be a VPC id (vpc-…), got ${JSON.stringify(vpcId)}`);
  const serviceSubnets = subnets(CONTEXT_KEYS.serviceSubnetIds, list(get, CONTEXT_KEYS.serviceSubnetIds));
  const lbSubnets = subnets(
    CONTEXT_KEYS.loadBalancerSubnetIds,
    list(get, CONTEXT_KEYS.loadBalancerSubnetIds),
  );
  if ((serviceSubnets || lbSubnets) && vpcId === undefined)
    throw new ContextError(
      `${serviceSubnets ? CONTEXT_KEYS.serviceSubnetIds : CONTEXT_KEYS.loadBalancerSubnetIds}: subnets need ${CONTEXT_KEYS.vpcId} (the VPC they belong to)`,
    );
  const pushArn = text(get, CONTEXT_KEYS.pushAuthSecretArn);
  const scrapeArn = text(get, CONTEXT_KEYS.scrapeAuthSecretArn);
  const arch = oneOf(get, CONTEXT_KEYS.architecture, ['arm64', 'x86_64'] as const);
  const tableEncryption = oneOf<AccrueTableEncryption>(get, CONTEXT_KEYS.tableEncryption, [
    'aws-owned',
    'customer-managed',
  ]);
  const bucketName = text(get, CONTEXT_KEYS.accessLogBucketName);
  if (bucketName !== undefined && !BUCKET_NAME.test(bucketName))
    throw new ContextError(
      `${CONTEXT_KEYS.accessLogBucketName}: must be an S3 bucket name, got ${JSON.stringify(bucketName)}`,
    );

  return {
    groupTtl: groupTtl === undefined || groupTtl === 0 ? undefined : Duration.seconds(groupTtl),
    alarmEmail: text(get, CONTEXT_KEYS.alarmEmail),
    batchSize: num(get, CONTEXT_KEYS.batchSize),
    maxBatchingWindow: window === undefined ? undefined : Duration.seconds(window),
    maxConcurrency: num(get, CONTEXT_KEYS.maxConcurrency),
    ingestReservedConcurrency: num(get, CONTEXT_KEYS.reservedConcurrency),
    ingestMemorySize: num(get, CONTEXT_KEYS.ingestMemoryMiB),
    internal: flag(get, CONTEXT_KEYS.internal),
    acknowledgeInternetFacing: flag(get, CONTEXT_KEYS.acknowledgeInternetFacing),
    allowedCidrs: cidrs,
    profile: text(get, CONTEXT_KEYS.profile),
    desiredCount: num(get, CONTEXT_KEYS.desiredCount),
    autoScaling: maxTasks === undefined ? undefined : { maxCapacity: maxTasks },
    serviceCpu: num(get, CONTEXT_KEYS.taskCpu),
    serviceMemoryMiB: num(get, CONTEXT_KEYS.taskMemoryMiB),
    serviceCpuArchitecture:
      arch === undefined
        ? undefined
        : arch === 'arm64'
          ? ecs.CpuArchitecture.ARM64
          : ecs.CpuArchitecture.X86_64,
    functionArchitecture:
      arch === undefined
        ? undefined
        : arch === 'arm64'
          ? lambda.Architecture.ARM_64
          : lambda.Architecture.X86_64,
    certificate: certificateArn === undefined ? undefined : elbv2.ListenerCertificate.fromArn(certificateArn),
    existingVpc:
      vpcId === undefined ? undefined : ec2.Vpc.fromLookup(need(CONTEXT_KEYS.vpcId), 'AccrueVpc', { vpcId }),
    serviceSubnets,
    loadBalancerSubnets: lbSubnets,
    pushAuthSecret:
      pushArn === undefined
        ? undefined
        : secretFromArn(
            CONTEXT_KEYS.pushAuthSecretArn,
            pushArn,
            () => need(CONTEXT_KEYS.pushAuthSecretArn),
            'AccruePushAuth',
          ),
    scrapeAuthSecret:
      scrapeArn === undefined
        ? undefined
        : secretFromArn(
            CONTEXT_KEYS.scrapeAuthSecretArn,
            scrapeArn,
            () => need(CONTEXT_KEYS.scrapeAuthSecretArn),
            'AccrueScrapeAuth',
          ),
    tableEncryption,
    accessLogBucket:
      bucketName === undefined
        ? undefined
        : s3.Bucket.fromBucketName(need(CONTEXT_KEYS.accessLogBucketName), 'AccrueAccessLogs', bucketName),
    ...(destroy
      ? {
          tableRemovalPolicy: RemovalPolicy.DESTROY,
          deletionProtection: false,
          loadBalancerDeletionProtection: false,
        }
      : {}),
  };
}
