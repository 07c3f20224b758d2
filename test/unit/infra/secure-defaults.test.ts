/**
 * AccrueGateway's security findings (issue 16), each fixed and asserted on the template: least-privilege
 * IAM, encryption, reserved ingest concurrency, ALB deletion protection and access logs, the container's
 * health check and read-only root filesystem, the push-open warning, and the outputs operators need.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { aws_ec2 as ec2, aws_ecs as ecs, aws_lambda as lambda, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import {
  AccrueGateway,
  type AccrueGatewayProps,
  ALB_IDLE_TIMEOUT_SECONDS,
} from '../../../infra/accrue-gateway';
import {
  LEDGER_READER_ACTIONS,
  LEDGER_WRITER_ACTIONS,
  SERIES_TABLE_ACTIONS,
} from '../../../infra/permissions';
import { SERVICE_HEALTHCHECK_SCRIPT } from '../../../infra/service-image';
import { SERVICE_LIMIT_DEFAULTS } from '../../../shared/config';
import {
  asArray,
  buildGateway,
  cleanup,
  newApp,
  newStack,
  policyStatements,
  STUB_PROPS,
  testSecrets,
} from './helpers';

afterAll(cleanup);

const ROOT = path.join(__dirname, '..', '..', '..');

/** Statements of the policies whose logical id starts with `prefix`. */
function statementsOf(template: Template, prefix: string): Record<string, unknown>[] {
  return policyStatements(template)
    .filter((s) => s.policy.startsWith(prefix))
    .map((s) => s.statement);
}

/** Actions granted on resources whose JSON mentions `resource` (a logical id prefix). */
function actionsOn(statements: Record<string, unknown>[], resource: string): string[] {
  return statements
    .filter((s) => JSON.stringify(s['Resource']).includes(resource))
    .flatMap((s) => asArray(s['Action'] as string | string[]))
    .sort();
}

const ROLES = {
  ingest: 'GatewayIngestRole',
  janitor: 'GatewayJanitorRole',
  task: 'GatewayTaskDefinitionTaskRole',
} as const;

describe('IAM: least privilege', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = buildGateway());
  });

  it('gives the functions no AWS managed policy: each writes its own log group only', () => {
    const roles = template.findResources('AWS::IAM::Role');
    for (const [id, role] of Object.entries(roles).filter(([id]) => /^Gateway(Ingest|Janitor)Role/.test(id)))
      expect([id, (role as { Properties: Record<string, unknown> }).Properties['ManagedPolicyArns']]).toEqual(
        [id, undefined],
      );
    for (const [fn, group] of [
      [ROLES.ingest, 'GatewayIngestLogGroup'],
      [ROLES.janitor, 'GatewayJanitorLogGroup'],
    ] as const) {
      const logStatements = statementsOf(template, fn).filter((s) =>
        asArray(s['Action'] as string[]).some((a) => a.startsWith('logs:')),
      );
      expect(logStatements).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${group}`)), 'Arn'] },
        },
      ]);
    }
  });

  it.each([
    ['ingest', ROLES.ingest, LEDGER_WRITER_ACTIONS],
    ['janitor', ROLES.janitor, LEDGER_READER_ACTIONS],
    ['service task', ROLES.task, LEDGER_READER_ACTIONS],
  ])('gives the %s role exactly its table actions (ledger writes for ingest only)', (_name, role, ledger) => {
    const statements = statementsOf(template, role);
    expect(actionsOn(statements, 'GatewaySeriesTable')).toEqual([...SERIES_TABLE_ACTIONS].sort());
    expect(actionsOn(statements, 'GatewayLedgerTable')).toEqual([...ledger].sort());
  });

  it('grants no stream actions and no index ARNs anywhere (the tables have neither)', () => {
    const text = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(text).not.toMatch(/dynamodb:(GetRecords|GetShardIterator|DescribeStream|ListStreams)/);
    expect(text).not.toContain('/index/*');
  });

  it('grants every DynamoDB action the store sends (commands and transaction items in its modules)', () => {
    const dir = path.join(ROOT, 'shared', 'store', 'dynamodb');
    const source = readdirSync(dir)
      // tables.ts is the admin CLI's table creation, not a runtime's
      .filter((f) => f.endsWith('.ts') && f !== 'tables.ts')
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    const commands = [...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(3);
    const items = [...source.matchAll(/\b(Put|Update|Delete|ConditionCheck):\s*[{t]/g)].map((m) => m[1]!);
    const needed = new Set<string>();
    for (const c of commands) {
      if (c === 'TransactWriteItems') continue; // authorised per item, below
      needed.add(`dynamodb:${c}`);
    }
    for (const i of items)
      needed.add(`dynamodb:${i === 'ConditionCheck' ? 'ConditionCheckItem' : `${i}Item`}`);
    expect([...needed].filter((a) => !SERIES_TABLE_ACTIONS.includes(a))).toEqual([]);
  });
});

describe('encryption', () => {
  /** The key policy has a statement for `service` with exactly these conditions. */
  function keyAllows(service: string, condition: Record<string, unknown>): void {
    buildGateway().template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: service }, Condition: condition }),
        ]),
      },
    });
  }

  it('lets CloudWatch use the key only for this account’s alarms', () => {
    keyAllows('cloudwatch.amazonaws.com', {
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*' },
    });
  });

  it('lets CloudWatch Logs use the key for this account’s log groups in the region', () => {
    keyAllows('logs.eu-west-1.amazonaws.com', {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:*' },
    });
  });

  it('leaves the tables on DynamoDB’s own encryption by default', () => {
    const { template } = buildGateway();
    template.allResourcesProperties('AWS::DynamoDB::Table', { SSESpecification: Match.absent() });
  });

  it('encrypts both tables with the key when customer-managed, and grants its use', () => {
    const { template } = buildGateway({ tableEncryption: 'customer-managed' });
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayKey'), 'Arn'] },
      },
    });
    for (const role of [ROLES.janitor, ROLES.task])
      expect(actionsOn(statementsOf(template, role), 'GatewayKey')).toContain('kms:Decrypt');
  });
});

describe('ingest concurrency', () => {
  it('reserves the event source’s maximum concurrency by default', () => {
    const { template } = buildGateway({ maxConcurrency: 7 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('aggregates SQS batches'),
      ReservedConcurrentExecutions: 7,
    });
  });

  it('reserves the given concurrency, or none with 0', () => {
    const given = buildGateway({ ingestReservedConcurrency: 25 }).template;
    given.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 25 });
    const none = buildGateway({ ingestReservedConcurrency: 0 }).template;
    none.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('aggregates SQS batches'),
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('runs both functions on the given architecture', () => {
    const { template } = buildGateway({ functionArchitecture: lambda.Architecture.X86_64 });
    for (const description of ['aggregates SQS batches', 'expires groups'])
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp(description),
        Architectures: ['x86_64'],
      });
  });
});

describe('load balancer', () => {
  it('has deletion protection on by default, off when asked', () => {
    buildGateway().template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
    buildGateway({ loadBalancerDeletionProtection: false }).template.hasResourceProperties(
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      { LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]) },
    );
  });

  it("closes idle connections before the service does (idle timeout under the service's keep-alive)", () => {
    expect(ALB_IDLE_TIMEOUT_SECONDS * 1000).toBeLessThan(SERVICE_LIMIT_DEFAULTS.keepAliveTimeoutMs);
    buildGateway().template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'idle_timeout.timeout_seconds', Value: String(ALB_IDLE_TIMEOUT_SECONDS) },
      ]),
    });
  });

  it('writes access logs to a new TLS-only, private, expiring SSE-S3 bucket', () => {
    const { template, gateway } = buildGateway();
    expect(gateway.accessLogBucket).toBeDefined();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.bucket', Value: { Ref: Match.stringLikeRegexp('^GatewayAccessLogBucket') } },
      ]),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('warns instead of logging in a region-agnostic stack', () => {
    const stack = new Stack(newApp(), 'Agnostic');
    const gw = new AccrueGateway(stack, 'Gateway', STUB_PROPS);
    expect(gw.accessLogBucket).toBeUndefined();
    Annotations.fromStack(stack).hasWarning(
      '/Agnostic/Gateway',
      Match.stringLikeRegexp('no ALB access logs'),
    );
  });

  it('puts the load balancer and the tasks in the given subnets', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Mine', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'pub', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'edge', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
    });
    new AccrueGateway(stack, 'Gateway', {
      ...STUB_PROPS,
      existingVpc: vpc,
      serviceSubnets: { subnetGroupName: 'app' },
      loadBalancerSubnets: { subnetGroupName: 'edge' },
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          Subnets: [
            { Ref: Match.stringLikeRegexp('^MineappSubnet1') },
            { Ref: Match.stringLikeRegexp('^MineappSubnet2') },
          ],
        }),
      },
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Subnets: [
        { Ref: Match.stringLikeRegexp('^MineedgeSubnet1') },
        { Ref: Match.stringLikeRegexp('^MineedgeSubnet2') },
      ],
    });
  });
});

describe('service container', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = buildGateway());
  });

  it('has an ECS health check (the image’s HEALTHCHECK is ignored by ECS)', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          HealthCheck: {
            Command: ['CMD', 'node', '-e', SERVICE_HEALTHCHECK_SCRIPT],
            Interval: 10,
            Timeout: 3,
            StartPeriod: 10,
            Retries: 3,
          },
        }),
      ],
    });
  });

  it('runs with a read-only root filesystem and one writable scratch volume at /tmp', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          ReadonlyRootFilesystem: true,
          MountPoints: [{ ContainerPath: '/tmp', SourceVolume: 'scratch', ReadOnly: false }],
        }),
      ],
      Volumes: [{ Name: 'scratch' }],
    });
  });

  it('reads the auth values from Secrets Manager', () => {
    const { template: t } = buildGateway(testSecrets());
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Secrets: [
            {
              Name: 'ACCRUE_PUSH_AUTH',
              ValueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:accrue/push-AbCdEf',
            },
            {
              Name: 'ACCRUE_SCRAPE_AUTH',
              ValueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:accrue/scrape-GhIjKl',
            },
          ],
        }),
      ],
    });
  });

  it('builds for the given CPU architecture', () => {
    const { template: t } = buildGateway({ serviceCpuArchitecture: ecs.CpuArchitecture.X86_64 });
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
  });
});

describe('push auth warning', () => {
  it('warns at synth when pushes are open', () => {
    const { stack } = buildGateway();
    Annotations.fromStack(stack).hasWarning(
      '/Test/Gateway',
      Match.stringLikeRegexp('push is open: without pushAuthSecret'),
    );
  });

  it('does not warn with a push secret', () => {
    const { stack } = buildGateway(testSecrets());
    Annotations.fromStack(stack).hasNoWarning('/Test/Gateway', Match.stringLikeRegexp('push is open'));
  });
});

describe('outputs', () => {
  it.each<[string, AccrueGatewayProps]>([
    ['default props', {}],
    ['with secrets', testSecrets()],
  ])('has every output operators and producers need (%s)', (_name, props) => {
    const { template } = buildGateway(props);
    const names = Object.keys(template.findOutputs('*')).map((k) => k.replace(/^Gateway|[0-9A-F]{8}$/g, ''));
    expect(names.sort()).toEqual(
      [
        'AlarmTopicArn',
        'DeadLetterQueueArn',
        'DeadLetterQueueUrl',
        'KmsKeyArn',
        'LedgerTableArn',
        'LedgerTableName',
        'LoadBalancerSecurityGroupId',
        'MetricsUrl',
        'QueueArn',
        'QueueUrl',
        'SeriesTableArn',
        'SeriesTableName',
        'ServiceUrl',
        'VpcId',
      ].sort(),
    );
    const out = template.findOutputs('*');
    const value = (name: string) =>
      JSON.stringify(Object.entries(out).find(([k]) => k.startsWith(`Gateway${name}`))![1]);
    expect(value('KmsKeyArn')).toMatch(/GatewayKey.*Arn/);
    expect(value('VpcId')).toMatch(/GatewayVpc/);
    expect(value('LoadBalancerSecurityGroupId')).toMatch(/GatewayLoadBalancerSecurityGroup.*GroupId/);
    expect(value('ServiceUrl')).toMatch(/http:\/\/.*GatewayLoadBalancer.*DNSName.*:9091/);
  });
});
