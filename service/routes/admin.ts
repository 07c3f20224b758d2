/**
 * PUT /api/v1/admin/wipe: deletes everything. Only with ACCRUE_ADMIN_API on, and only for the
 * ACCRUE_PUSH_AUTH credential (never a producer). Audited like pushes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError } from '../../shared/producers';
import { type RouteContext, TEXT } from './context';

export function wipeHandler(ctx: RouteContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (ctx.callers.of(req)?.producer)
      throw new ForbiddenError('the admin API is for the ACCRUE_PUSH_AUTH credential, not producers');
    if (!ctx.config.adminApi)
      return reply.code(404).type(TEXT).send('admin API is disabled (ACCRUE_ADMIN_API)\n');
    await ctx.store.wipe();
    ctx.cache.invalidate();
    return reply.code(202).send();
  };
}
