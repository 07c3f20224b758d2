/** AccrueGateway prop checks: every conflict reported together, before anything is built. */
import {
  CfnParameter,
  Duration,
  aws_ec2 as ec2,
  aws_elasticloadbalancingv2 as elbv2,
  RemovalPolicy,
  type Stack,
} from 'aws-cdk-lib';
import {
  AccrueGateway,
  type AccrueGatewayProps,
  checkAccrueGatewayProps,
} from '../../../infra/accrue-gateway';
import { ValidationError } from '../../../shared/model/errors';
import { cleanup, newStack, STUB_PROPS, testSecrets } from './helpers';

afterAll(cleanup);

const build = (props: AccrueGatewayProps, stack: Stack = newStack()) =>
  new AccrueGateway(stack, 'Gateway', { ...STUB_PROPS, ...props });
const n = (v: unknown) => v as number;
const SECRETS = testSecrets();
const CERT = elbv2.ListenerCertificate.fromArn('arn:aws:acm:eu-west-1:123456789012:certificate/0000-test');

// [case, props, expected message pattern]
const invalid: [string, AccrueGatewayProps, RegExp][] = [
  [
    'visibility timeout below 6 x function timeout',
    { ingestTimeout: Duration.seconds(60), visibilityTimeout: Duration.seconds(300) },
    /visibilityTimeout: must be at least 6 x ingestTimeout \(360 s\).*got 300 s/,
  ],
  [
    'visibility below 6 x the default timeout',
    { visibilityTimeout: Duration.seconds(30) },
    /visibilityTimeout: must be at least 6 x ingestTimeout \(180 s\)/,
  ],
  [
    'batch size over 10 without a batching window',
    { batchSize: 100, maxBatchingWindow: Duration.seconds(0) },
    /maxBatchingWindow: must be at least 1 s when batchSize is more than 10 \(batchSize 100\), got 0 s/,
  ],
  [
    'batching window over 5 minutes',
    { maxBatchingWindow: Duration.minutes(6) },
    /maxBatchingWindow: must be from 0 to 300 s, got 360 s/,
  ],
  [
    'internet-facing without acknowledging',
    { internal: false },
    /internal: internal: false makes \/metrics and the push API reachable from the internet; set acknowledgeInternetFacing: true/,
  ],
  [
    'DESTROY with deletion protection',
    { tableRemovalPolicy: RemovalPolicy.DESTROY },
    /tableRemovalPolicy: RemovalPolicy.DESTROY needs deletionProtection: false/,
  ],
  [
    'ledger TTL not beyond retention + visibility',
    { ledgerTtl: Duration.days(4) },
    /ledgerTtl: must exceed queueRetention \+ visibilityTimeout \(345781 s\).*got 345600 s/,
  ],
  [
    'internet-facing without a certificate',
    { internal: false, acknowledgeInternetFacing: true },
    /certificate: internal: false needs a certificate: push and scrape credentials must not cross the internet in clear text/,
  ],
  [
    'internet-facing without a push secret',
    {
      internal: false,
      acknowledgeInternetFacing: true,
      certificate: CERT,
      scrapeAuthSecret: SECRETS.scrapeAuthSecret,
    },
    /pushAuthSecret: internal: false needs pushAuthSecret: without it anyone on the internet can push/,
  ],
  [
    'internet-facing without a scrape secret',
    {
      internal: false,
      acknowledgeInternetFacing: true,
      certificate: CERT,
      pushAuthSecret: SECRETS.pushAuthSecret,
    },
    /scrapeAuthSecret: internal: false needs scrapeAuthSecret: without it anyone on the internet can read every metric/,
  ],
  [
    'reserved concurrency below the event source maximum',
    { maxConcurrency: 20, ingestReservedConcurrency: 10 },
    /ingestReservedConcurrency: must be 0 \(none\) or at least maxConcurrency \(20\).*got 10/,
  ],
  [
    'reserved concurrency below the default maximum',
    { ingestReservedConcurrency: 5 },
    /ingestReservedConcurrency: must be 0 \(none\) or at least maxConcurrency \(10\)/,
  ],
  [
    'negative reserved concurrency',
    { ingestReservedConcurrency: -1 },
    /ingestReservedConcurrency: must be an integer from 0 to 1000, got -1/,
  ],
  [
    'unknown table encryption',
    { tableEncryption: 'kms' as never },
    /tableEncryption: must be 'aws-owned' or 'customer-managed', got "kms"/,
  ],
  [
    'access log retention under a day',
    { accessLogRetention: Duration.hours(1) },
    /accessLogRetention: must be from 86400 to 315360000 s, got 3600 s/,
  ],
  ['batch size zero', { batchSize: 0 }, /batchSize: must be an integer from 1 to 10000, got 0/],
  ['batch size NaN', { batchSize: Number.NaN }, /batchSize: must be an integer from 1 to 10000, got NaN/],
  ['batch size huge', { batchSize: 1e300 }, /batchSize: must be an integer from 1 to 10000, got 1e\+300/],
  ['batch size as a string', { batchSize: n('10') }, /batchSize: must be an integer from 1 to 10000, got 10/],
  [
    'fractional max concurrency',
    { maxConcurrency: 2.5 },
    /maxConcurrency: must be an integer from 2 to 1000, got 2.5/,
  ],
  ['max concurrency 1', { maxConcurrency: 1 }, /maxConcurrency: must be an integer from 2 to 1000, got 1/],
  [
    'infinite memory',
    { ingestMemorySize: Number.POSITIVE_INFINITY },
    /ingestMemorySize: must be an integer from 128 to 10240, got Infinity/,
  ],
  [
    'timeout over 15 minutes',
    { ingestTimeout: Duration.minutes(16), visibilityTimeout: Duration.hours(2) },
    /ingestTimeout: must be from 1 to 900 s, got 960 s/,
  ],
  [
    'retention over 14 days',
    { queueRetention: Duration.days(15) },
    /queueRetention: must be from 60 to 1209600 s, got 1296000 s/,
  ],
  [
    'NaN retention',
    { queueRetention: Duration.seconds(Number.NaN) },
    /queueRetention: must be from 60 to 1209600 s, got NaN s/,
  ],
  ['maxReceiveCount 0', { maxReceiveCount: 0 }, /maxReceiveCount: must be an integer from 1 to 1000, got 0/],
  [
    'desired count 0 (min 1 task)',
    { desiredCount: 0 },
    /desiredCount: must be an integer from 1 to 1000, got 0/,
  ],
  [
    'autoscaling max below min',
    { autoScaling: { minCapacity: 4, maxCapacity: 2 } },
    /autoScaling.maxCapacity: must be at least minCapacity \(4\), got 2/,
  ],
  [
    'autoscaling max below desired count',
    { desiredCount: 3, autoScaling: { maxCapacity: 2 } },
    /autoScaling.maxCapacity: must be at least minCapacity \(3\), got 2/,
  ],
  [
    'autoscaling min 0',
    { autoScaling: { minCapacity: 0, maxCapacity: 2 } },
    /autoScaling.minCapacity: must be an integer from 1 to 1000, got 0/,
  ],
  [
    'janitor every 30 s',
    { janitorInterval: Duration.seconds(30) },
    /janitorInterval: must be whole minutes, at least 1 \(EventBridge rate\), got 30 s/,
  ],
  ['janitor every 90 s', { janitorInterval: Duration.seconds(90) }, /janitorInterval: must be whole minutes/],
  [
    'group TTL of 0',
    { groupTtl: Duration.seconds(0) },
    /groupTtl: must be at least 1 s \(leave it unset for no expiry\), got 0 s/,
  ],
  [
    'CIDR with a newline',
    { allowedCidrs: ['10.0.0.0/8\n0.0.0.0/0'] },
    /allowedCidrs\[0\]: must be an IPv4 CIDR like 10.0.0.0\/16, got "10.0.0.0\/8\\n0.0.0.0\/0"/,
  ],
  [
    'CIDR out of range',
    { allowedCidrs: ['10.0.0.0/8', '300.1.1.1/33'] },
    /allowedCidrs\[1\]: must be an IPv4 CIDR/,
  ],
  ['empty CIDR list', { allowedCidrs: [] }, /allowedCidrs: must list at least one CIDR/],
  [
    'profile with quotes and newline',
    { profile: 'aria"\nrm -rf /' },
    /profile: must be a profile name or path of 1 to 200 characters/,
  ],
  [
    'oversize profile',
    { profile: 'p'.repeat(5000) },
    /profile: must be a profile name or path of 1 to 200 characters/,
  ],
  [
    '__proto__ as a limit',
    { limits: JSON.parse('{"__proto__": 5}') },
    /limits.__proto__: is not a store limit \(known: maxSeriesPerFamily/,
  ],
  [
    'constructor as a limit',
    { limits: JSON.parse('{"constructor": 5}') },
    /limits.constructor: is not a store limit/,
  ],
  [
    'negative limit',
    { limits: { maxSeriesTotal: -1 } },
    /limits.maxSeriesTotal: must be an integer from 1 to 9007199254740991, got -1/,
  ],
  [
    'limit as a string',
    { limits: { maxSeriesTotal: n('1000') } },
    /limits.maxSeriesTotal: must be an integer/,
  ],
  [
    'listener port 70000',
    { listenerPort: 70_000 },
    /listenerPort: must be an integer from 1 to 65535, got 70000/,
  ],
  [
    'alarm e-mail with a newline',
    { alarmEmail: 'ops@example.com\nBcc: x@y.z' },
    /alarmEmail: must be an e-mail address/,
  ],
];

describe('AccrueGateway prop checks', () => {
  it.each(invalid)('rejects %s', (_name, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it.each(invalid)('reports %s as a ValidationError naming the field', (_name, props) => {
    let caught: unknown;
    try {
      build(props);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const err = caught as ValidationError;
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) expect(p.path).toMatch(/^[a-zA-Z_.[\]0-9]+$/);
  });

  it('rejects an existing VPC together with vpcProps', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Mine');
    expect(() => build({ existingVpc: vpc, vpcProps: { maxAzs: 3 } }, stack)).toThrow(
      /existingVpc: give existingVpc or vpcProps, not both/,
    );
  });

  it('reports every conflict together in one error, and builds nothing', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Mine');
    const props: AccrueGatewayProps = {
      existingVpc: vpc,
      vpcProps: {},
      ingestTimeout: Duration.seconds(100),
      visibilityTimeout: Duration.seconds(100),
      batchSize: 50,
      maxBatchingWindow: Duration.seconds(0),
      internal: false,
      tableRemovalPolicy: RemovalPolicy.DESTROY,
      maxConcurrency: 0,
    };
    let caught: ValidationError | undefined;
    try {
      build(props, stack);
    } catch (e) {
      caught = e as ValidationError;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    // Every problem is in the message (ValidationError's `problems` keeps the first 8).
    const paths = [
      'certificate',
      'existingVpc',
      'internal',
      'maxBatchingWindow',
      'maxConcurrency',
      'pushAuthSecret',
      'scrapeAuthSecret',
      'tableRemovalPolicy',
      'visibilityTimeout',
    ];
    for (const p of paths) expect(caught!.message).toMatch(new RegExp(`(prop\\(s\\):|;) ${p}: `));
    for (const p of caught!.problems) expect(paths).toContain(p.path);
    expect(caught!.message).toMatch(/^AccrueGateway Test\/Gateway: 9 invalid prop\(s\): /);
    // Nothing was built under the construct.
    expect(stack.node.findChild('Gateway').node.children).toHaveLength(0);
  });

  it.each<[string, AccrueGatewayProps]>([
    ['defaults', {}],
    ['batch size 10 without a window', { batchSize: 10, maxBatchingWindow: Duration.seconds(0) }],
    ['large batches with a window', { batchSize: 10_000, maxBatchingWindow: Duration.seconds(300) }],
    [
      'visibility exactly 6 x timeout',
      { ingestTimeout: Duration.seconds(10), visibilityTimeout: Duration.seconds(60) },
    ],
    [
      'internet-facing, acknowledged, with TLS',
      { internal: false, acknowledgeInternetFacing: true, certificate: CERT, ...SECRETS },
    ],
    ['reserved concurrency off', { ingestReservedConcurrency: 0 }],
    ['reserved concurrency above the maximum', { maxConcurrency: 5, ingestReservedConcurrency: 8 }],
    ['customer-managed tables', { tableEncryption: 'customer-managed' }],
    ['DESTROY without protection', { tableRemovalPolicy: RemovalPolicy.DESTROY, deletionProtection: false }],
    ['janitor hourly', { janitorInterval: Duration.hours(1) }],
    [
      'all limits',
      {
        limits: {
          maxSeriesPerFamily: 1,
          maxSeriesPerGroup: 1,
          maxSeriesTotal: 1,
          maxLabelValueLength: 1,
          maxLabelsPerSeries: 1,
        },
      },
    ],
  ])('accepts %s', (_name, props) => {
    expect(checkAccrueGatewayProps(props)).toEqual([]);
  });

  it('skips checks on values only known at deploy time (tokens)', () => {
    const stack = newStack();
    const param = new CfnParameter(stack, 'Batch', { type: 'Number' });
    expect(
      checkAccrueGatewayProps({ batchSize: param.valueAsNumber, maxBatchingWindow: Duration.seconds(0) }),
    ).toEqual([]);
  });
});
