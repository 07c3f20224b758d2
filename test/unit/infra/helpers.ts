/**
 * Builders for the infra tests: an App writing into a private temp folder (removed by `cleanup()`),
 * bundling skipped, and entry/Dockerfile stand-ins so the construct can be tested on its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
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

export function newApp(): App {
  return new App({ outdir: tempDir(), context: { 'aws:cdk:bundling-stacks': [] } });
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
