/**
 * The CDK app (`cdk.json`: `npx tsx infra/app.ts`): one `AccrueStack`, cdk-nag's AwsSolutions checks on
 * everything. Account and region come from the CLI's environment (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION);
 * synth works offline without either. Stack name: context `accrue:stackName`, default `Accrue`.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AccrueStack, propsFromContext } from './accrue-stack';

export function buildApp(app: App = new App()): { app: App; stack: AccrueStack } {
  const get = (key: string): unknown => app.node.tryGetContext(key);
  const stackName = (get('accrue:stackName') as string | undefined) ?? 'Accrue';
  const stack = new AccrueStack(app, stackName, {
    description:
      'Accrue: serverless push-based Prometheus metrics gateway (SQS -> Lambda -> DynamoDB, /metrics on Fargate)',
    env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
    gateway: propsFromContext(get),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (require.main === module) {
  buildApp().app.synth();
}
