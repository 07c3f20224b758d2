/**
 * Connection limits against slow and stalled clients (docs/security.md "Limits"): how long a request
 * head, a whole request and an idle keep-alive connection may take, as fastify / node:http options.
 * Node checks these deadlines on a timer (`connectionsCheckingInterval`); it runs often enough that a
 * connection is closed within about a second of its deadline.
 */
import type { ServerOptions } from 'node:http';
import { SERVICE_LIMIT_DEFAULTS, type ServiceConfig, type ServiceLimits } from '../shared/config';

/** The configured limits with the defaults filled in. */
export function resolveLimits(config: ServiceConfig): ServiceLimits {
  return { ...SERVICE_LIMIT_DEFAULTS, ...config.limits };
}

export interface ConnectionOptions {
  readonly connectionTimeout: number;
  readonly keepAliveTimeout: number;
  readonly requestTimeout: number;
  readonly http: ServerOptions;
}

/** fastify's server options for the limits. */
export function connectionOptions(limits: ServiceLimits): ConnectionOptions {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const checkEvery = Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4)));
  return {
    // Socket inactivity (no byte either way): a stalled upload or a reader that stopped reading.
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: checkEvery,
    },
  };
}
