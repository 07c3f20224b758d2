/**
 * Registers the route table on fastify, turning each route's `access` into its hooks and route config:
 * `push` routes are counted, audited and read their body within the body budget; `admin` routes are audited.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { NameValidation } from '../../shared/model/names';
import type { budgetHooks } from '../body-budget';
import type { Access, Guard } from './access';
import type { Route } from './table';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Push routes count their requests and rejections. */
    push?: boolean;
    /** Admin routes are audited. */
    admin?: boolean;
    /** Name rules of the route's grouping path (push routes; ACCRUE_UTF8_NAMES). */
    names?: NameValidation;
  }
}

export interface AccessHooks {
  readonly read: Guard;
  readonly push: Guard;
  readonly body: ReturnType<typeof budgetHooks>;
  /** Name rules of push routes (ACCRUE_UTF8_NAMES). */
  readonly names: NameValidation;
}

export function mountRoutes(app: FastifyInstance, routes: readonly Route[], hooks: AccessHooks): void {
  for (const { method, url, access, handler } of routes)
    app.route({ method, url, handler, ...accessOptions(access, hooks) });
}

function accessOptions(access: Access, h: AccessHooks): Partial<RouteOptions> {
  switch (access) {
    case 'open':
      return {};
    case 'read':
      return { onRequest: h.read };
    case 'push':
      return {
        onRequest: [h.push, h.body.onRequest],
        preParsing: h.body.preParsing,
        config: { push: true, names: h.names },
      };
    case 'admin':
      return { onRequest: h.push, config: { admin: true } };
  }
}
