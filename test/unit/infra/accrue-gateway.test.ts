/** AccrueGateway: the resources it creates, with their specific properties (given default props / when synthesized / then). */
import {
  Duration,
  aws_ec2 as ec2,
  aws_elasticloadbalancingv2 as elbv2,
  aws_iam as iam,
  aws_kms as kms,
  RemovalPolicy,
  aws_secretsmanager as sm,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccrueGateway } from '../../../infra/accrue-gateway';
import {
  asArray,
  buildGateway,
  cleanup,
  newStack,
  policyStatements,
  STUB_PROPS,
  testSecrets,
} from './helpers';

afterAll(cleanup);

describe('AccrueGateway with default props', () => {
  let template: Template;
  let gateway: AccrueGateway;
  beforeAll(() => {
    ({ template, gateway } = buildGateway());
  });

  it('creates a customer managed KMS key with rotation', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('creates the queue: KMS, 4 days retention, visibility 6 x 30 s, redrive to the DLQ after 5 receives', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayKey'), 'Arn'] },
      MessageRetentionPeriod: 345_600,
      VisibilityTimeout: 181, // 6 x 30 s + the 1 s batching window
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayDeadLetterQueue'), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
  });

  it('creates the DLQ: KMS, 14 days retention, no redrive of its own', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: Match.absent(),
    });
  });

  it('enforces TLS on both queues', () => {
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('creates the ingest function: nodejs22.x, arm64, 512 MiB, 30 s, env from props', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('aggregates SQS batches'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 30,
      Handler: 'index.handler',
      Environment: {
        Variables: {
          ACCRUE_STORE: 'dynamodb',
          ACCRUE_SERIES_TABLE: { Ref: Match.stringLikeRegexp('^GatewaySeriesTable') },
          ACCRUE_LEDGER_TABLE: { Ref: Match.stringLikeRegexp('^GatewayLedgerTable') },
          ACCRUE_LEDGER_TTL_SECONDS: String(345_600 + 1_209_600 + 181 + 86_400),
          ACCRUE_DLQ_URL: { Ref: Match.stringLikeRegexp('^GatewayDeadLetterQueue') },
          ACCRUE_QUEUE_URL: { Ref: Match.stringLikeRegexp('^GatewayQueue') },
          ACCRUE_PROFILE: 'aria',
          ACCRUE_GROUP_TTL_SECONDS: '0',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it('maps the queue to the function with batching, partial batch responses and bounded concurrency', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayQueue'), 'Arn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^GatewayIngestFunction') },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('creates two on-demand tables with PITR, deletion protection, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    const tables = template.findResources('AWS::DynamoDB::Table');
    for (const t of Object.values(tables)) {
      expect(t['DeletionPolicy']).toBe('Retain');
      expect(t['UpdateReplacePolicy']).toBe('Retain');
    }
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('keys the series table by pk/sk with TTL on expiresAt (DELETE tombstones)', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('keys the ledger table by id with TTL on ttl', () => {
    const ledger = template.findResources('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      },
    });
    expect(Object.keys(ledger)).toEqual([expect.stringMatching(/^GatewayLedgerTable/)]);
  });

  it('creates a VPC with flow logs and a DynamoDB gateway endpoint', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'REJECT' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\.dynamodb$')])] },
      VpcEndpointType: 'Gateway',
    });
  });

  it('runs the service on Fargate from the Dockerfile asset, listening on 0.0.0.0:9091', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '512',
      Memory: '1024',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Image: { 'Fn::Sub': Match.stringLikeRegexp('container-assets') },
          PortMappings: [{ ContainerPort: 9091, Protocol: 'tcp' }],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          Environment: Match.arrayWith([
            { Name: 'ACCRUE_STORE', Value: 'dynamodb' },
            { Name: 'ACCRUE_SERIES_TABLE', Value: { Ref: Match.stringLikeRegexp('^GatewaySeriesTable') } },
            { Name: 'ACCRUE_LEDGER_TABLE', Value: { Ref: Match.stringLikeRegexp('^GatewayLedgerTable') } },
            { Name: 'ACCRUE_HOST', Value: '0.0.0.0' },
            { Name: 'ACCRUE_PORT', Value: '9091' },
          ]),
        }),
      ],
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      DeploymentConfiguration: Match.objectLike({
        MinimumHealthyPercent: 100,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it('puts an internal ALB in front, reachable from the VPC CIDR only, health check on /-/healthy', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 9091, Protocol: 'HTTP' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 9091,
      TargetType: 'ip',
      HealthCheckPath: '/-/healthy',
      Matcher: { HttpCode: '200' },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        {
          CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayVpc'), 'CidrBlock'] },
          FromPort: 9091,
          ToPort: 9091,
          IpProtocol: 'tcp',
          Description: Match.anyValue(),
        },
      ],
    });
    const open = JSON.stringify(template.findResources('AWS::EC2::SecurityGroup'));
    expect(open).not.toContain('0.0.0.0/0"'.concat(',"FromPort'));
  });

  it('runs the janitor every 5 minutes with the store settings', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayJanitorFunction'), 'Arn'] },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('expires groups'),
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({ ACCRUE_STORE: 'dynamodb', ACCRUE_GROUP_TTL_SECONDS: '0' }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayJanitorFunction'), 'Arn'] },
    });
  });

  it('keeps every log group for a month, encrypted with the key', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 4); // ingest, janitor, service, VPC flow log
    template.allResourcesProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 30,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      LogGroupName: { Ref: Match.stringLikeRegexp('^GatewayFlowLogGroup') },
    });
  });

  const alarmCases: [string, Record<string, unknown>][] = [
    [
      'DLQ not empty',
      {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayDeadLetterQueue'), 'QueueName'] },
          },
        ],
      },
    ],
    [
      'oldest message age',
      { MetricName: 'ApproximateAgeOfOldestMessage', Namespace: 'AWS/SQS', Threshold: 900 },
    ],
    [
      'ingest errors',
      {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Threshold: 1,
        Dimensions: [
          { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^GatewayIngestFunction') } },
        ],
      },
    ],
    ['ingest throttles', { MetricName: 'Throttles', Namespace: 'AWS/Lambda', Threshold: 1 }],
    [
      'janitor errors',
      {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [
          { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^GatewayJanitorFunction') } },
        ],
      },
    ],
    [
      'unhealthy hosts',
      {
        MetricName: 'UnHealthyHostCount',
        Namespace: 'AWS/ApplicationELB',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    ],
    [
      'no healthy host',
      {
        MetricName: 'HealthyHostCount',
        Namespace: 'AWS/ApplicationELB',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        Statistic: 'Minimum',
      },
    ],
  ];
  it.each(alarmCases)('alarms on %s and notifies the topic', (_name, props) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...props,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^GatewayAlarmTopic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^GatewayAlarmTopic') }],
    });
  });

  it('creates exactly the seven alarms, exposed as properties', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    expect(Object.keys(gateway.alarms).sort()).toEqual([
      'deadLetterQueueNotEmpty',
      'ingestErrors',
      'ingestThrottles',
      'janitorErrors',
      'noHealthyHosts',
      'oldestMessageAge',
      'unhealthyHosts',
    ]);
  });

  it('encrypts the alarm topic with the key and enforces TLS', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GatewayKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    // The key policy's CloudWatch statement (with its conditions): secure-defaults.test.ts.
  });

  it.each([
    'QueueUrl',
    'QueueArn',
    'DeadLetterQueueUrl',
    'MetricsUrl',
    'SeriesTableName',
    'LedgerTableName',
    'AlarmTopicArn',
  ])('outputs %s', (name) => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs).some((k) => k.startsWith(`Gateway${name}`))).toBe(true);
  });

  it('builds the metrics URL from the ALB DNS name and the listener port', () => {
    const outputs = template.findOutputs('*');
    const key = Object.keys(outputs).find((k) => k.startsWith('GatewayMetricsUrl'))!;
    expect(outputs[key]!['Value']).toEqual({
      'Fn::Join': [
        '',
        [
          'http://',
          { 'Fn::GetAtt': [expect.stringMatching(/^GatewayLoadBalancer/), 'DNSName'] },
          ':9091/metrics',
        ],
      ],
    });
  });
});

describe('AccrueGateway permissions', () => {
  let template: Template;
  beforeAll(() => {
    const stack = newStack();
    const gateway = new AccrueGateway(stack, 'Gateway', STUB_PROPS);
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
    gateway.grantSend(producer);
    template = Template.fromStack(stack);
  });

  it('grants no wildcard actions and uses Resource "*" only for ecr:GetAuthorizationToken', () => {
    const statements = policyStatements(template);
    expect(statements.length).toBeGreaterThan(5);
    for (const { policy, statement } of statements) {
      for (const action of asArray(statement['Action'] as string | string[])) {
        expect(`${policy}: ${action}`).not.toMatch(/(^|:)\*$/);
      }
      if (asArray(statement['Resource'] as unknown).includes('*'))
        expect({ policy, action: statement['Action'] }).toEqual({
          policy,
          action: 'ecr:GetAuthorizationToken',
        });
    }
  });

  it('lets the ingest role consume the queue, send to the DLQ and write both tables', () => {
    const ingest = policyStatements(template).filter((s) => s.policy.startsWith('GatewayIngestRole'));
    const text = JSON.stringify(ingest);
    expect(text).toMatch(/sqs:ReceiveMessage.*GatewayQueue/);
    expect(text).toMatch(/sqs:SendMessage.*GatewayDeadLetterQueue/);
    expect(text).toContain('dynamodb:BatchWriteItem');
    expect(text).toMatch(/GatewaySeriesTable/);
    expect(text).toMatch(/GatewayLedgerTable/);
    expect(text).not.toMatch(/sqs:DeleteQueue|dynamodb:DeleteTable/);
  });

  it('grantSend gives a producer SendMessage on the queue only, plus the key use SQS needs', () => {
    const producer = policyStatements(template).filter((s) => s.policy.startsWith('ProducerDefaultPolicy'));
    expect(producer).toHaveLength(2);
    const sqsStmt = producer.find((s) =>
      asArray(s.statement['Action'] as string[]).includes('sqs:SendMessage'),
    )!;
    expect(sqsStmt.statement['Resource']).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^GatewayQueue/), 'Arn'],
    });
    const kmsStmt = producer.find((s) =>
      asArray(s.statement['Action'] as string[]).includes('kms:GenerateDataKey*'),
    )!;
    expect(kmsStmt.statement['Resource']).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^GatewayKey/), 'Arn'],
    });
    expect(JSON.stringify(producer)).not.toMatch(/ReceiveMessage|DeleteMessage|DeadLetterQueue/);
  });
});

describe('AccrueGateway options', () => {
  it('uses an existing VPC instead of creating one', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Mine', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'pub', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'priv', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
    });
    const gw = new AccrueGateway(stack, 'Gateway', { ...STUB_PROPS, existingVpc: vpc });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(gw.vpc).toBe(vpc);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      VpcId: { Ref: Match.stringLikeRegexp('^Mine') },
    });
  });

  it('can be internet-facing when acknowledged, over HTTPS, with the given CIDRs', () => {
    const { template } = buildGateway({
      internal: false,
      acknowledgeInternetFacing: true,
      certificate: elbv2.ListenerCertificate.fromArn(
        'arn:aws:acm:eu-west-1:123456789012:certificate/0000-test',
      ),
      allowedCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
      ...testSecrets(),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 9091,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0000-test' }],
    });
    const outputs = template.findOutputs('*');
    const key = Object.keys(outputs).find((k) => k.startsWith('GatewayMetricsUrl'))!;
    expect(JSON.stringify(outputs[key])).toContain('"https://"');
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: '203.0.113.0/24', FromPort: 9091 }),
        Match.objectLike({ CidrIp: '198.51.100.7/32', FromPort: 9091 }),
      ],
    });
  });

  it('autoscales on CPU between the given bounds', () => {
    const { template, gateway } = buildGateway({
      desiredCount: 2,
      autoScaling: { maxCapacity: 6, targetCpuUtilizationPercent: 50 },
    });
    expect(gateway.scalableTarget).toBeDefined();
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 50,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
  });

  it('has no autoscaling by default', () => {
    const { template, gateway } = buildGateway();
    expect(gateway.scalableTarget).toBeUndefined();
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  it('passes store settings, group TTL, limits and profile to every runtime', () => {
    const { template } = buildGateway({
      groupTtl: Duration.hours(6),
      limits: { maxSeriesTotal: 5000, maxLabelValueLength: 256 },
      profile: 'test/unit/infra/fixtures/desk.profile.yaml',
    });
    for (const description of ['aggregates SQS batches', 'expires groups']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp(description),
        Environment: {
          Variables: Match.objectLike({
            ACCRUE_GROUP_TTL_SECONDS: '21600',
            ACCRUE_MAX_SERIES_TOTAL: '5000',
            ACCRUE_MAX_LABEL_VALUE_LENGTH: '256',
          }),
        },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      // A profile file is validated at synth and embedded in the bundle (test/unit/infra/profile.test.ts).
      Environment: { Variables: Match.objectLike({ ACCRUE_PROFILE: 'embedded:desk' }) },
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'ACCRUE_GROUP_TTL_SECONDS', Value: '21600' },
            { Name: 'ACCRUE_MAX_SERIES_TOTAL', Value: '5000' },
          ]),
        }),
      ],
    });
  });

  it('tunes the event source mapping', () => {
    const { template } = buildGateway({
      batchSize: 500,
      maxBatchingWindow: Duration.seconds(5),
      maxConcurrency: 3,
      ingestTimeout: Duration.seconds(60),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 365,
      RedrivePolicy: Match.anyValue(),
    });
  });

  it('can destroy the tables when deletion protection is off', () => {
    const { template } = buildGateway({
      tableRemovalPolicy: RemovalPolicy.DESTROY,
      deletionProtection: false,
    });
    for (const t of Object.values(template.findResources('AWS::DynamoDB::Table')))
      expect(t['DeletionPolicy']).toBe('Delete');
    template.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });

  it('uses a given key and topic, and subscribes an e-mail address', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'MyTopic');
    const gw = new AccrueGateway(stack, 'Gateway', {
      ...STUB_PROPS,
      encryptionKey: key,
      alarmTopic: topic,
      alarmEmail: 'ops@example.com',
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    expect(gw.alarmTopic).toBe(topic);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^MyTopic') },
    });
    t.allResourcesProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MyKey'), 'Arn'] },
    });
  });

  it('passes push and scrape auth as Secrets Manager secrets, never as plain environment', () => {
    const stack = newStack();
    const push = new sm.Secret(stack, 'PushAuth');
    const scrape = new sm.Secret(stack, 'ScrapeAuth');
    new AccrueGateway(stack, 'Gateway', { ...STUB_PROPS, pushAuthSecret: push, scrapeAuthSecret: scrape });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Secrets: [
            { Name: 'ACCRUE_PUSH_AUTH', ValueFrom: { Ref: Match.stringLikeRegexp('^PushAuth') } },
            { Name: 'ACCRUE_SCRAPE_AUTH', ValueFrom: { Ref: Match.stringLikeRegexp('^ScrapeAuth') } },
          ],
          Environment: Match.not(Match.arrayWith([Match.objectLike({ Name: 'ACCRUE_PUSH_AUTH' })])),
        }),
      ],
    });
    // The task's execution role may read exactly these secrets.
    expect(JSON.stringify(policyStatements(t).filter((s) => s.policy.includes('ExecutionRole')))).toMatch(
      /secretsmanager:GetSecretValue.*PushAuth.*ScrapeAuth|secretsmanager:GetSecretValue.*ScrapeAuth.*PushAuth/s,
    );
  });
});
