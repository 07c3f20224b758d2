/**
 * GET /metrics: the served snapshot in the format the scraper asked for (text 0.0.4, OpenMetrics or
 * protobuf), gzipped when it accepts gzip. Rendering and caching live in ../scrape.ts.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { header, type RouteContext, TEXT } from './context';

export function scrapeHandler(ctx: RouteContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { format, contentType, escaping } = ctx.codec.negotiate(header(req, 'accept'));
    const acceptGzip = acceptsGzip(header(req, 'accept-encoding'));
    const r = await ctx.cache.scrape(format, acceptGzip, escaping);
    if (!r.ok) return reply.code(503).type(TEXT).send(`${r.reason}\n`);
    reply.type(contentType).header('vary', 'Accept, Accept-Encoding');
    if (r.gzipped) reply.header('content-encoding', 'gzip');
    return reply.send(r.body);
  };
}

/** True when Accept-Encoding allows gzip (`gzip` or `*` with a non-zero q-value). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  let star = false;
  for (const part of acceptEncoding.split(',')) {
    const [coding, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    const ok = Number.isFinite(q) && q > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return ok;
    if (coding === '*') star = ok;
  }
  return star;
}
