/**
 * The app's `accrue:*` context keys, end to end through `buildApp` (what `npx cdk synth -c key=value`
 * runs): each documented key gives the expected template; an unknown key fails naming it and listing the
 * known ones; docs/deploy.md documents exactly the keys the app reads.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../../infra/app';
import { CONTEXT_KEYS, ContextError, propsFromContext, unknownContextKeys } from '../../../infra/context';
import { CDK_JSON_CONTEXT, cleanup, tempDir } from './helpers';

afterAll(cleanup);

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const VPC_ID = 'vpc-0123456789abcdef0';
/** What the CLI would cache in cdk.context.json for `Vpc.fromLookup({ vpcId })`. */
const VPC_LOOKUP = {
  [`vpc-provider:account=${ACCOUNT}:filter.vpc-id=${VPC_ID}:region=${REGION}:returnAsymmetricSubnets=true`]: {
    vpcId: VPC_ID,
    vpcCidrBlock: '10.20.0.0/16',
    ownerAccountId: ACCOUNT,
    availabilityZones: [],
    subnetGroups: [
      {
        name: 'Public',
        type: 'Public',
        subnets: [
          {
            subnetId: 'subnet-0000000000000000a',
            cidr: '10.20.0.0/24',
            availabilityZone: 'eu-west-1a',
            routeTableId: 'rtb-0000000000000000a',
          },
          {
            subnetId: 'subnet-0000000000000000b',
            cidr: '10.20.1.0/24',
            availabilityZone: 'eu-west-1b',
            routeTableId: 'rtb-0000000000000000b',
          },
        ],
      },
      {
        name: 'Private',
        type: 'Private',
        subnets: [
          {
            subnetId: 'subnet-0000000000000001a',
            cidr: '10.20.10.0/24',
            availabilityZone: 'eu-west-1a',
            routeTableId: 'rtb-0000000000000001a',
          },
          {
            subnetId: 'subnet-0000000000000001b',
            cidr: '10.20.11.0/24',
            availabilityZone: 'eu-west-1b',
            routeTableId: 'rtb-0000000000000001b',
          },
          {
            subnetId: 'subnet-0000000000000002a',
            cidr: '10.20.20.0/24',
            availabilityZone: 'eu-west-1a',
            routeTableId: 'rtb-0000000000000002a',
          },
          {
            subnetId: 'subnet-0000000000000002b',
            cidr: '10.20.21.0/24',
            availabilityZone: 'eu-west-1b',
            routeTableId: 'rtb-0000000000000002b',
          },
        ],
      },
    ],
  },
};
const PUSH_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:accrue/push-AbCdEf`;
const SCRAPE_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:accrue/scrape`;
const CERT_ARN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0000-test`;

/** The app as `cdk synth` builds it, with cdk.json's flags, bundling skipped and the given context. */
function synth(context: Record<string, unknown>): Template {
  const saved = { a: process.env['CDK_DEFAULT_ACCOUNT'], r: process.env['CDK_DEFAULT_REGION'] };
  process.env['CDK_DEFAULT_ACCOUNT'] = ACCOUNT;
  process.env['CDK_DEFAULT_REGION'] = REGION;
  try {
    const app = new App({
      outdir: tempDir(),
      context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
    });
    const { stack } = buildApp(app);
    return Template.fromStack(stack);
  } finally {
    if (saved.a === undefined) delete process.env['CDK_DEFAULT_ACCOUNT'];
    else process.env['CDK_DEFAULT_ACCOUNT'] = saved.a;
    if (saved.r === undefined) delete process.env['CDK_DEFAULT_REGION'];
    else process.env['CDK_DEFAULT_REGION'] = saved.r;
  }
}

describe('accrue:* context keys through buildApp', () => {
  it('accrue:vpcId uses the looked-up VPC (no VPC, NAT gateway or flow log created) and its private subnets', () => {
    const t = synth({ ...VPC_LOOKUP, [CONTEXT_KEYS.vpcId]: VPC_ID });
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          Subnets: Match.arrayWith(['subnet-0000000000000001a', 'subnet-0000000000000001b']),
        }),
      },
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { VpcId: VPC_ID });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.20.0.0/16', FromPort: 9091 })],
    });
    t.hasOutput('*', { Value: VPC_ID });
  });

  it('accrue:serviceSubnetIds and accrue:loadBalancerSubnetIds pick subnets of that VPC', () => {
    const t = synth({
      ...VPC_LOOKUP,
      [CONTEXT_KEYS.vpcId]: VPC_ID,
      [CONTEXT_KEYS.serviceSubnetIds]: 'subnet-0000000000000002a,subnet-0000000000000002b',
      [CONTEXT_KEYS.loadBalancerSubnetIds]: 'subnet-0000000000000001a, subnet-0000000000000001b',
    });
    t.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          Subnets: ['subnet-0000000000000002a', 'subnet-0000000000000002b'],
        }),
      },
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Subnets: ['subnet-0000000000000001a', 'subnet-0000000000000001b'],
    });
  });

  it('accrue:pushAuthSecretArn / accrue:scrapeAuthSecretArn become the container secrets (complete and partial ARN)', () => {
    const t = synth({
      [CONTEXT_KEYS.pushAuthSecretArn]: PUSH_ARN,
      [CONTEXT_KEYS.scrapeAuthSecretArn]: SCRAPE_ARN,
    });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Secrets: [
            { Name: 'ACCRUE_PUSH_AUTH', ValueFrom: PUSH_ARN },
            { Name: 'ACCRUE_SCRAPE_AUTH', ValueFrom: SCRAPE_ARN },
          ],
        }),
      ],
    });
    // The execution role may read exactly these secrets (the partial ARN with Secrets Manager's suffix).
    const text = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(text).toContain(PUSH_ARN);
    expect(text).toContain(`${SCRAPE_ARN}-??????`);
  });

  it('accrue:architecture=x86_64 moves the tasks and both functions to x86_64', () => {
    const t = synth({ [CONTEXT_KEYS.architecture]: 'x86_64' });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: Match.objectLike({ CpuArchitecture: 'X86_64' }),
    });
    for (const d of ['aggregates SQS batches', 'expires groups'])
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp(d),
        Architectures: ['x86_64'],
      });
  });

  it('accrue:taskCpu, accrue:taskMemoryMiB and accrue:desiredCount size the service', () => {
    const t = synth({
      [CONTEXT_KEYS.taskCpu]: '1024',
      [CONTEXT_KEYS.taskMemoryMiB]: 2048,
      [CONTEXT_KEYS.desiredCount]: '2',
    });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '2048' });
    t.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2 });
  });

  it('accrue:ingestMemoryMiB, accrue:maxConcurrency and accrue:reservedConcurrency size ingest', () => {
    const t = synth({
      [CONTEXT_KEYS.ingestMemoryMiB]: '1024',
      [CONTEXT_KEYS.maxConcurrency]: '4',
      [CONTEXT_KEYS.reservedConcurrency]: '6',
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('aggregates SQS batches'),
      MemorySize: 1024,
      ReservedConcurrentExecutions: 6,
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 4 } });
  });

  it('accrue:tableEncryption=customer-managed encrypts the tables with the key', () => {
    const t = synth({ [CONTEXT_KEYS.tableEncryption]: 'customer-managed' });
    t.allResourcesProperties('AWS::DynamoDB::Table', {
      SSESpecification: Match.objectLike({ SSEType: 'KMS' }),
    });
  });

  it('accrue:certificateArn gives an HTTPS listener; internet-facing with both secrets synthesizes', () => {
    const t = synth({
      [CONTEXT_KEYS.certificateArn]: CERT_ARN,
      [CONTEXT_KEYS.internal]: 'false',
      [CONTEXT_KEYS.acknowledgeInternetFacing]: 'true',
      [CONTEXT_KEYS.pushAuthSecretArn]: PUSH_ARN,
      [CONTEXT_KEYS.scrapeAuthSecretArn]: SCRAPE_ARN,
      [CONTEXT_KEYS.allowedCidrs]: '203.0.113.0/24',
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERT_ARN }],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
  });

  it('refuses internet-facing without auth, naming the missing props', () => {
    expect(() =>
      synth({
        [CONTEXT_KEYS.certificateArn]: CERT_ARN,
        [CONTEXT_KEYS.internal]: 'false',
        [CONTEXT_KEYS.acknowledgeInternetFacing]: 'true',
      }),
    ).toThrow(
      /pushAuthSecret: internal: false needs pushAuthSecret.*scrapeAuthSecret: internal: false needs scrapeAuthSecret/,
    );
  });

  it('accrue:destroyTables=true makes a disposable stack (tables destroyed, no deletion protection anywhere)', () => {
    const t = synth({ [CONTEXT_KEYS.destroyTables]: 'true' });
    t.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
  });

  it('accrue:accessLogBucketName sends access logs to that bucket (none created)', () => {
    const t = synth({ [CONTEXT_KEYS.accessLogBucketName]: 'my-alb-logs' });
    t.resourceCountIs('AWS::S3::Bucket', 0);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.bucket', Value: 'my-alb-logs' }]),
    });
  });

  it('fails on an unknown accrue:* key, naming it and listing the known ones', () => {
    let message = '';
    try {
      synth({ 'accrue:vpcID': VPC_ID, 'accrue:tasks': 3, 'other:key': 1 });
    } catch (e) {
      expect(e).toBeInstanceOf(ContextError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^unknown context keys accrue:tasks, accrue:vpcID; known keys: accrue:/);
    for (const k of Object.values(CONTEXT_KEYS)) expect(message).toContain(k);
    expect(message).not.toContain('other:key');
  });
});

describe('propsFromContext: hostile values', () => {
  const get = (values: Record<string, unknown>) => (key: string) => values[key];
  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a flag that is not a boolean',
      { [CONTEXT_KEYS.internal]: 'yes' },
      /accrue:internal: must be true or false, got "yes"/,
    ],
    [
      'an unknown architecture',
      { [CONTEXT_KEYS.architecture]: 'arm' },
      /accrue:architecture: must be one of arm64, x86_64, got "arm"/,
    ],
    [
      'a VPC id with a newline',
      { [CONTEXT_KEYS.vpcId]: 'vpc-0123456789abcdef0\n' },
      /accrue:vpcId: must be a VPC id/,
    ],
    [
      'subnets without a VPC',
      { [CONTEXT_KEYS.serviceSubnetIds]: 'subnet-0000000000000001a' },
      /accrue:serviceSubnetIds: subnets need accrue:vpcId/,
    ],
    [
      'a subnet list with junk',
      {
        [CONTEXT_KEYS.vpcId]: VPC_ID,
        [CONTEXT_KEYS.serviceSubnetIds]: 'subnet-0000000000000001a,"__proto__"',
      },
      /accrue:serviceSubnetIds: must be a comma-separated list of subnet ids/,
    ],
    [
      'a secret ARN of another service',
      { [CONTEXT_KEYS.pushAuthSecretArn]: 'arn:aws:ssm:eu-west-1:123456789012:parameter/x' },
      /accrue:pushAuthSecretArn: must be a Secrets Manager secret ARN/,
    ],
    [
      'a table encryption typo',
      { [CONTEXT_KEYS.tableEncryption]: 'CMK' },
      /accrue:tableEncryption: must be one of aws-owned, customer-managed/,
    ],
    [
      'a bucket name with a slash',
      { [CONTEXT_KEYS.accessLogBucketName]: 'a/b' },
      /accrue:accessLogBucketName: must be an S3 bucket name/,
    ],
  ])('rejects %s', (_name, values, message) => {
    expect(() => propsFromContext(get(values))).toThrow(message);
  });

  it('lists no unknown keys for the known ones or other namespaces', () => {
    expect(unknownContextKeys({ ...CDK_JSON_CONTEXT, [CONTEXT_KEYS.vpcId]: VPC_ID, 'accrue:x': 1 })).toEqual([
      'accrue:x',
    ]);
  });
});

describe('docs/deploy.md', () => {
  it('documents exactly the context keys the app reads', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'deploy.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(accrue:\w+)` \|/gm)].map((m) => m[1]!));
    expect([...documented].sort()).toEqual(Object.values(CONTEXT_KEYS).sort());
  });
});
