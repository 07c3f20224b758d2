/**
 * GET /-/healthy (liveness: the event loop answers) and GET /-/ready (readiness: the store answers a ping).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type RouteContext, TEXT } from './context';

export async function healthy(_req: FastifyRequest, reply: FastifyReply) {
  return reply.type(TEXT).send('OK\n');
}

export function readyHandler(ctx: RouteContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      await ctx.store.ping();
      return reply.type(TEXT).send('OK\n');
    } catch (err) {
      req.log.warn({ err }, 'store not ready');
      return reply
        .code(503)
        .type(TEXT)
        .send(`store not ready: ${(err as Error).message}\n`);
    }
  };
}
