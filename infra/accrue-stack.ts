/**
 * The deployable stack: one `AccrueGateway` (props from CDK context: infra/context.ts) and the cdk-nag
 * acknowledgements this design needs, each with its exact rule id and a reason that is true of the
 * template (test/unit/infra/nag.test.ts checks each one still matches a finding).
 */
import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AccrueGateway, type AccrueGatewayProps } from './accrue-gateway';

export interface AccrueStackProps extends StackProps {
  /** The gateway's props, or a function of the stack giving them (to import resources into the stack). */
  readonly gateway?: AccrueGatewayProps | ((stack: Stack) => AccrueGatewayProps);
}

export class AccrueStack extends Stack {
  public readonly gateway: AccrueGateway;

  constructor(scope: Construct, id: string, props: AccrueStackProps = {}) {
    super(scope, id, props);
    const gateway = typeof props.gateway === 'function' ? props.gateway(this) : (props.gateway ?? {});
    this.gateway = new AccrueGateway(this, 'Gateway', gateway);
    acknowledgeNagFindings(this.gateway);
  }
}

/**
 * cdk-nag (AwsSolutions) findings this design accepts, on the narrowest construct that has them.
 * Each id is the exact finding id cdk-nag prints.
 */
export function acknowledgeNagFindings(gw: AccrueGateway): void {
  for (const fn of [gw.ingestFunction, gw.janitorFunction])
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'nodejs22.x on purpose: the bundle targets node22 and the code is developed and tested on Node 20/22; nodejs24.x follows once the toolchain moves',
    });
  const keyActions = (reason: string) => [
    { id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason },
    { id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason },
  ];
  Validations.of(gw.ingestFunction.role!).acknowledge(
    ...keyActions(
      "Queue.grantSendMessages on the KMS-encrypted DLQ (and, with customer-managed tables, their key use): the resource is this construct's one key, not '*'",
    ),
  );
  if (gw.settings.tableEncryption === 'customer-managed')
    for (const role of [gw.janitorFunction.role!, gw.taskDefinition.taskRole])
      Validations.of(role).acknowledge(
        ...keyActions(
          "The key actions AWS documents for reading and writing a DynamoDB table encrypted with a customer managed key; the resource is this construct's one key, not '*'",
        ),
      );
  Validations.of(gw.taskDefinition).acknowledge({
    id: 'AwsSolutions::AwsSolutions-ECS2',
    reason:
      'The environment holds only non-secret settings (table names, limits, port); the auth values come from Secrets Manager as ECS secrets',
  });
  const executionRole = gw.taskDefinition.executionRole;
  if (executionRole)
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken, granted by CDK for pulling the image asset, only exists with resource "*" (AWS requires it)',
    });
  if (gw.settings.allowedCidrs === undefined)
    Validations.of(gw.loadBalancer).acknowledge({
      id: 'AwsSolutions::AwsSolutions-EC23',
      reason:
        "Ingress is limited to the VPC's own CIDR, a token cdk-nag can't evaluate; with allowedCidrs given the rule checks the literal CIDRs",
    });
  if (gw.accessLogBucket === undefined)
    Validations.of(gw.loadBalancer).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ELB2',
      reason:
        "Region-agnostic stack (no env.region): the access-log bucket policy needs the region's ELB principal; synth warns, and a stack with a region gets access logs",
    });
  const bucket = gw.node.tryFindChild('AccessLogBucket');
  if (bucket)
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'This bucket holds the load balancer access logs; logging its own accesses to another bucket would need one more bucket for little value',
    });
}
