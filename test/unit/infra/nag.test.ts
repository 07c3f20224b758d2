/**
 * cdk-nag AwsSolutions: the app's stack synthesizes clean (every finding fixed or acknowledged with a
 * reason); without the acknowledgements the findings do show, so the check can fail.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, aws_elasticloadbalancingv2 as elbv2, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AccrueGateway, type AccrueGatewayProps } from '../../../infra/accrue-gateway';
import { AccrueStack } from '../../../infra/accrue-stack';
import { cleanup, STUB_PROPS, tempDir } from './helpers';

afterAll(cleanup);

function nagApp(): App {
  const app = new App({ outdir: tempDir(), context: { 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

interface Report {
  pluginReports: { summary?: { status?: string }; violations?: { ruleName: string }[] }[];
}

function synthReport(app: App): Report {
  const assembly = app.synth();
  return JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as Report;
}

describe('cdk-nag AwsSolutions', () => {
  it.each<[string, AccrueGatewayProps]>([
    ['default props', {}],
    [
      'internet-facing with literal CIDRs and autoscaling',
      {
        internal: false,
        acknowledgeInternetFacing: true,
        certificate: elbv2.ListenerCertificate.fromArn(
          'arn:aws:acm:eu-west-1:123456789012:certificate/0000-test',
        ),
        allowedCidrs: ['203.0.113.0/24'],
        autoScaling: { maxCapacity: 3 },
      },
    ],
  ])('passes on the stack with %s', (_name, gateway) => {
    const app = nagApp();
    new AccrueStack(app, 'Accrue', { gateway: { ...STUB_PROPS, ...gateway } });
    const report = synthReport(app);
    const violations = report.pluginReports.flatMap((r) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  it('flags a world-open listener (an acknowledgement only covers the VPC-CIDR default)', () => {
    const app = nagApp();
    new AccrueStack(app, 'Accrue', {
      gateway: {
        ...STUB_PROPS,
        internal: false,
        acknowledgeInternetFacing: true,
        certificate: elbv2.ListenerCertificate.fromArn(
          'arn:aws:acm:eu-west-1:123456789012:certificate/0000-test',
        ),
        allowedCidrs: ['0.0.0.0/0'],
      },
    });
    expect(() => app.synth()).toThrow(/AwsSolutions-EC23/);
  });

  it('reports the findings the stack acknowledges when the construct is used bare', () => {
    const app = nagApp();
    const stack = new Stack(app, 'Bare');
    new AccrueGateway(stack, 'Gateway', STUB_PROPS);
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    for (const id of [
      'AwsSolutions-L1',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-ECS2',
      'AwsSolutions-ELB2',
    ])
      expect(message).toContain(id);
  });

  it('gives every acknowledgement a specific reason', () => {
    const app = nagApp();
    const stack = new AccrueStack(app, 'Accrue', { gateway: STUB_PROPS });
    const acks = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason })),
      )
      .filter((a) => a.id.startsWith('AwsSolutions::'));
    expect(acks.length).toBeGreaterThanOrEqual(8);
    for (const a of acks) {
      expect(a.id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(a.reason.length).toBeGreaterThan(40);
    }
  });
});
