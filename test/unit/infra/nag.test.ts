/**
 * cdk-nag AwsSolutions: the app's stack synthesizes with 0 findings in every documented configuration
 * (every finding fixed or acknowledged), and every acknowledgement is reviewed: it has a specific reason
 * and it still matches a finding of the construct used bare — an acknowledgement that matches nothing
 * (like the old `<table>/index/*` ones) fails the test.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type App,
  aws_elasticloadbalancingv2 as elbv2,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AccrueGateway, type AccrueGatewayProps } from '../../../infra/accrue-gateway';
import { AccrueStack } from '../../../infra/accrue-stack';
import { cleanup, newApp, STUB_PROPS, testSecrets } from './helpers';

afterAll(cleanup);

function nagApp(): App {
  const app = newApp();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

interface Violation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
}
interface Report {
  pluginReports: { violations?: Violation[] }[];
}

function nagViolations(app: App): Violation[] {
  const assembly = app.synth();
  const report = JSON.parse(
    readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as Report;
  // The report also lists synth annotations (warnings such as accrue:pushOpen): only cdk-nag's rules count.
  return report.pluginReports
    .flatMap((r) => r.violations ?? [])
    .filter((v) => v.ruleName.startsWith('AwsSolutions'));
}

const REGION: StackProps = { env: { account: '123456789012', region: 'eu-west-1' } };
const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/0000-test';
const secrets = () => testSecrets();

/** [name, stack props, gateway props of the stack] */
const CONFIGS: [string, StackProps, (stack: Stack) => AccrueGatewayProps][] = [
  ['default props, region-agnostic', {}, () => ({})],
  ['default props in a region (access logs on)', REGION, () => ({})],
  [
    'internet-facing with secrets, literal CIDRs and autoscaling',
    REGION,
    () => ({
      internal: false,
      acknowledgeInternetFacing: true,
      certificate: elbv2.ListenerCertificate.fromArn(CERT),
      allowedCidrs: ['203.0.113.0/24'],
      autoScaling: { maxCapacity: 3 },
      ...secrets(),
    }),
  ],
  [
    'customer-managed table encryption, no reserved concurrency',
    REGION,
    () => ({ tableEncryption: 'customer-managed', ingestReservedConcurrency: 0 }),
  ],
];

describe('cdk-nag AwsSolutions', () => {
  it.each(CONFIGS)('finds nothing on the stack with %s', (_name, stackProps, gateway) => {
    const app = nagApp();
    new AccrueStack(app, 'Accrue', { ...stackProps, gateway: (s) => ({ ...STUB_PROPS, ...gateway(s) }) });
    expect(nagViolations(app)).toEqual([]);
  });

  it('flags a world-open listener (an acknowledgement only covers the VPC-CIDR default)', () => {
    const app = nagApp();
    new AccrueStack(app, 'Accrue', {
      ...REGION,
      gateway: () => ({
        ...STUB_PROPS,
        internal: false,
        acknowledgeInternetFacing: true,
        certificate: elbv2.ListenerCertificate.fromArn(CERT),
        allowedCidrs: ['0.0.0.0/0'],
        ...secrets(),
      }),
    });
    expect(() => app.synth()).toThrow(/AwsSolutions-EC23/);
  });

  /** The stack's acknowledgements: construct path and rule id, with the reason. */
  function acknowledgements(stack: Stack): { path: string; id: string; reason: string }[] {
    return stack.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) =>
            Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
              path: c.node.path,
              id,
              reason,
            })),
          ),
      )
      .filter((a) => a.id.startsWith('AwsSolutions::'));
  }

  /** Findings of the same configuration without the stack's acknowledgements: [construct path, id]. */
  function bareFindings(
    stackProps: StackProps,
    gateway: (s: Stack) => AccrueGatewayProps,
  ): [string, string][] {
    const app = nagApp();
    const stack = new Stack(app, 'Accrue', stackProps);
    new AccrueGateway(stack, 'Gateway', { ...STUB_PROPS, ...gateway(stack) });
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    const found: [string, string][] = [];
    // Each finding: "   <construct path> <type>\n   Acknowledge with '<id>'".
    for (const m of message.matchAll(/^\s+(\S+) \S+\n\s+Acknowledge with '([^']+)'/gm))
      found.push([m[1]!, m[2]!]);
    return found;
  }

  it.each(CONFIGS)(
    'acknowledges only findings that exist, each with a specific reason (%s)',
    (_name, stackProps, gateway) => {
      const app = nagApp();
      const stack = new AccrueStack(app, 'Accrue', {
        ...stackProps,
        gateway: (s) => ({ ...STUB_PROPS, ...gateway(s) }),
      });
      const acks = acknowledgements(stack);
      expect(acks.length).toBeGreaterThanOrEqual(4);
      const findings = bareFindings(stackProps, gateway);
      expect(findings.length).toBeGreaterThan(0);
      for (const a of acks) {
        expect(a.id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
        expect(a.reason.length).toBeGreaterThan(40);
        const matches = findings.filter(
          ([p, id]) => id === a.id && (p === a.path || p.startsWith(`${a.path}/`)),
        );
        expect({ ack: `${a.path} ${a.id}`, matches: matches.length > 0 }).toEqual({
          ack: `${a.path} ${a.id}`,
          matches: true,
        });
      }
    },
  );

  it('has no finding about the Lambda basic execution policy or table indexes (both fixed, not acknowledged)', () => {
    const findings = bareFindings(REGION, () => ({}));
    const ids = findings.map(([, id]) => id);
    expect(ids.filter((id) => id.includes('AWSLambdaBasicExecutionRole') && !id.includes('IAM4'))).toEqual(
      [],
    );
    expect(
      findings.filter(
        ([p, id]) => id.includes('AWSLambdaBasicExecutionRole') && p.startsWith('Accrue/Gateway/'),
      ),
    ).toEqual([]);
    expect(ids.filter((id) => id.includes('/index/*'))).toEqual([]);
  });
});
