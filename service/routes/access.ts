/**
 * Who may call a route (the `access` column of ./table.ts): `read` needs the scrape (or push) credential,
 * `push` and `admin` need a push caller (ACCRUE_PUSH_AUTH or a producer) and a same-site request.
 */
import type { FastifyRequest } from 'fastify';
import { AccrueError, RejectReason } from '../../shared/model/errors';
import { refuseCrossSite } from '../cross-site';
import { header, type RouteContext } from './context';

export type Access = 'open' | 'read' | 'push' | 'admin';

export class AuthError extends AccrueError {
  readonly challenge: string;
  constructor(what: string, challenge: string) {
    super(RejectReason.unauthorized, `${what} requires valid credentials`);
    this.challenge = challenge;
  }
}

export type Guard = (req: FastifyRequest) => Promise<void>;

/** The onRequest checks for `read` and `push` routes. */
export function accessGuards(ctx: RouteContext): { read: Guard; push: Guard } {
  const { callers, pushAuth, scrapeAuth } = ctx;
  return {
    read: async (req) => {
      if (!scrapeAuth) return;
      const h = header(req, 'authorization');
      if (scrapeAuth.verify(h) || pushAuth?.verify(h)) return;
      throw new AuthError('reading', scrapeAuth.challenge);
    },
    push: async (req) => {
      refuseCrossSite(req.headers);
      const caller = callers.identify(header(req, 'authorization'));
      if (!caller) throw new AuthError('pushing', callers.challenge);
      callers.remember(req, caller);
    },
  };
}

/**
 * True when a delete button on this request's status page can succeed: push auth off, or basic push
 * credentials the browser re-sends for this origin. Bearer tokens are never put into a page.
 */
export function canDeleteFrom(ctx: RouteContext, req: FastifyRequest): boolean {
  const { pushAuth } = ctx;
  return !pushAuth || (pushAuth.scheme === 'basic' && pushAuth.verify(header(req, 'authorization')));
}
