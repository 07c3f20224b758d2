import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccrueStack } from '../../../infra/accrue-stack';
import { CONTEXT_KEYS, propsFromContext } from '../../../infra/context';
import { cleanup, newApp, STUB_PROPS } from './helpers';

afterAll(cleanup);

const ctx = (values: Record<string, unknown>) => (key: string) => values[key];

describe('propsFromContext', () => {
  it('gives no props for an empty context (construct defaults apply)', () => {
    const props = propsFromContext(ctx({}));
    expect(Object.values(props).filter((v) => v !== undefined)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'numbers from -c strings',
      { [CONTEXT_KEYS.batchSize]: '50', [CONTEXT_KEYS.maxConcurrency]: '4' },
      { batchSize: 50, maxConcurrency: 4 },
    ],
    ['numbers from cdk.json', { [CONTEXT_KEYS.batchSize]: 50 }, { batchSize: 50 }],
    [
      'flags',
      { [CONTEXT_KEYS.internal]: 'false', [CONTEXT_KEYS.acknowledgeInternetFacing]: true },
      { internal: false, acknowledgeInternetFacing: true },
    ],
    [
      'CIDR list',
      { [CONTEXT_KEYS.allowedCidrs]: '10.0.0.0/8, 192.168.0.0/16' },
      { allowedCidrs: ['10.0.0.0/8', '192.168.0.0/16'] },
    ],
    ['max tasks', { [CONTEXT_KEYS.maxTasks]: '4' }, { autoScaling: { maxCapacity: 4 } }],
    [
      'profile and e-mail',
      { [CONTEXT_KEYS.profile]: 'aria', [CONTEXT_KEYS.alarmEmail]: 'ops@example.com' },
      { profile: 'aria', alarmEmail: 'ops@example.com' },
    ],
  ])('reads %s', (_name, values, expected) => {
    expect(propsFromContext(ctx(values))).toMatchObject(expected);
  });

  it('reads durations in seconds', () => {
    const props = propsFromContext(
      ctx({ [CONTEXT_KEYS.groupTtlSeconds]: '3600', [CONTEXT_KEYS.maxBatchingWindowSeconds]: 2 }),
    );
    expect(props.groupTtl?.toSeconds()).toBe(3600);
    expect(props.maxBatchingWindow?.toSeconds()).toBe(2);
  });

  it('reads a certificate ARN into an HTTPS listener certificate', () => {
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/0000-test';
    expect(propsFromContext(ctx({ [CONTEXT_KEYS.certificateArn]: arn })).certificate?.certificateArn).toBe(
      arn,
    );
  });

  it('turns destroyTables into DESTROY without deletion protection', () => {
    const props = propsFromContext(ctx({ [CONTEXT_KEYS.destroyTables]: 'true' }));
    expect(props.deletionProtection).toBe(false);
    expect(String(props.tableRemovalPolicy)).toBe('destroy');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a non-numeric batch size',
      { [CONTEXT_KEYS.batchSize]: 'ten' },
      /batchSize: must be an integer from 1 to 10000, got NaN/,
    ],
    [
      'Infinity',
      { [CONTEXT_KEYS.maxConcurrency]: 'Infinity' },
      /maxConcurrency: must be an integer from 2 to 1000, got Infinity/,
    ],
    [
      'a huge number',
      { [CONTEXT_KEYS.desiredCount]: '1e400' },
      /desiredCount: must be an integer from 1 to 1000, got Infinity/,
    ],
    [
      'a CIDR with quotes',
      { [CONTEXT_KEYS.allowedCidrs]: '10.0.0.0/8,"0.0.0.0/0"' },
      /allowedCidrs\[1\]: must be an IPv4 CIDR/,
    ],
    [
      'internet-facing without acknowledgement',
      { [CONTEXT_KEYS.internal]: 'false' },
      /internal: internal: false makes/,
    ],
    ['a __proto__ profile', { [CONTEXT_KEYS.profile]: '__proto__\n' }, /profile: must be a profile name/],
  ])('makes the stack reject %s', (_name, values, message) => {
    const app = newApp();
    expect(
      () => new AccrueStack(app, 'Accrue', { gateway: { ...STUB_PROPS, ...propsFromContext(ctx(values)) } }),
    ).toThrow(message);
  });
});

describe('AccrueStack', () => {
  it('wires context props into the template', () => {
    const app = newApp();
    const stack = new AccrueStack(app, 'Accrue', {
      gateway: {
        ...STUB_PROPS,
        ...propsFromContext(
          ctx({ [CONTEXT_KEYS.batchSize]: '25', [CONTEXT_KEYS.maxBatchingWindowSeconds]: '2' }),
        ),
      },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: Match.anyValue(),
    });
  });
});
