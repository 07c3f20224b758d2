/**
 * Builders for the infra tests: an App writing into a private temp folder (removed by `cleanup()`),
 * bundling skipped, and entry/Dockerfile stand-ins so the construct can be tested on its own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack, aws_secretsmanager as sm } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AccrueGateway, type AccrueGatewayProps } from '../../../infra/accrue-gateway';

export const FIXTURES = path.join(__dirname, 'fixtures');
/** Entries under the repository root (NodejsFunction requires that), independent of functions/ingest. */
export const STUB_PROPS: AccrueGatewayProps = {
  ingestEntry: path.join(FIXTURES, 'ingest-stub.ts'),
  dockerfile: path.join('test', 'unit', 'infra', 'fixtures', 'Dockerfile'),
};

const dirs: string[] = [];

export function tempDir(prefix = 'accrue-infra-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** cdk.json's context: the feature flags the app synthesizes with, so tests see the deployed template. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', '..', 'cdk.json'), 'utf8'),
).context;

/** An App with cdk.json's feature flags, bundling skipped, plus `context`. */
export function newApp(context: Record<string, unknown> = {}): App {
  return new App({
    outdir: tempDir(),
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
  });
}

export function newStack(app = newApp()): Stack {
  return new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
}

export function buildGateway(props: AccrueGatewayProps = {}): {
  stack: Stack;
  gateway: AccrueGateway;
  template: Template;
} {
  const stack = newStack();
  const gateway = new AccrueGateway(stack, 'Gateway', { ...STUB_PROPS, ...props });
  return { stack, gateway, template: Template.fromStack(stack) };
}

/** Every IAM policy statement in a template, with the policy's logical id. */
export function policyStatements(
  template: Template,
): { policy: string; statement: Record<string, unknown> }[] {
  const out: { policy: string; statement: Record<string, unknown> }[] = [];
  for (const [id, res] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    const stmts = (res as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } })
      .Properties.PolicyDocument.Statement;
    for (const statement of stmts) out.push({ policy: id, statement });
  }
  return out;
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Imported auth secrets (complete ARNs), defined in their own throwaway stack. */
export function testSecrets(): { pushAuthSecret: sm.ISecret; scrapeAuthSecret: sm.ISecret } {
  const scope = newStack();
  return {
    pushAuthSecret: sm.Secret.fromSecretCompleteArn(
      scope,
      'Push',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:accrue/push-AbCdEf',
    ),
    scrapeAuthSecret: sm.Secret.fromSecretCompleteArn(
      scope,
      'Scrape',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:accrue/scrape-GhIjKl',
    ),
  };
}
