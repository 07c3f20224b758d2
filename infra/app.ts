/**
 * The CDK app (`cdk.json`: `npx tsx infra/app.ts`): one `AccrueStack`, props from `accrue:*` context keys
 * (infra/context.ts; an unknown `accrue:*` key fails synth listing the known ones), cdk-nag's AwsSolutions
 * checks on everything. Account and region come from the CLI's environment (CDK_DEFAULT_ACCOUNT /
 * CDK_DEFAULT_REGION); synth works offline without either (except `accrue:vpcId`, a lookup).
 * Stack name: context `accrue:stackName`, default `Accrue`.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AccrueStack } from './accrue-stack';
import { assertKnownContextKeys, CONTEXT_KEYS, propsFromContext } from './context';

export function buildApp(app: App = new App()): { app: App; stack: AccrueStack } {
  assertKnownContextKeys(app.node.getAllContext());
  const get = (key: string): unknown => app.node.tryGetContext(key);
  const stackName = (get(CONTEXT_KEYS.stackName) as string | undefined) ?? 'Accrue';
  const stack = new AccrueStack(app, stackName, {
    description:
      'Accrue: serverless push-based Prometheus metrics gateway (SQS -> Lambda -> DynamoDB, /metrics on Fargate)',
    env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
    gateway: (scope) => propsFromContext(get, scope),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (require.main === module) {
  buildApp().app.synth();
}
