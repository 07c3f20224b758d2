/**
 * The package's CDK entry point (`accrue/cdk`): the construct, the deployable stack, the context-key
 * reader and the cdk-nag acknowledgements. aws-cdk-lib and constructs are peer dependencies.
 */
export {
  type AccrueAutoScalingProps,
  AccrueGateway,
  type AccrueGatewayAlarms,
  type AccrueGatewayProps,
  type AccrueTableEncryption,
  checkAccrueGatewayProps,
  type ResolvedAccrueGatewayProps,
  resolveAccrueGatewayProps,
  SERVICE_CONTAINER_PORT,
} from './accrue-gateway';
export { AccrueStack, type AccrueStackProps, acknowledgeNagFindings } from './accrue-stack';
export { assertKnownContextKeys, CONTEXT_KEYS, ContextError, propsFromContext } from './context';
