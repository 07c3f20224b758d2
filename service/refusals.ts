/**
 * The server's one error handler: a thrown error becomes a status (./errors.ts), a log line, a count under
 * its reason (push routes), the refusal reason of the audit line and, for a refused body, a record on the
 * group (push_failure_time_seconds).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ParseError, RejectReason } from '../shared/model/errors';
import { OverloadedError } from './body-budget';
import { httpError } from './errors';
import { IdempotencyKeyError } from './idempotency';
import { setOutcome, validGroupOf } from './push-facts';
import { AuthError } from './routes/access';
import type { RouteContext } from './routes/context';
import { TEXT } from './routes/context';

/**
 * Refusals of what was pushed, recorded on the group (push_failure_time_seconds). Not: credentials,
 * cross-site, overload, timeouts or aborted uploads — those say nothing about the group's data, and a
 * client that can't authenticate must not be able to write anything. Nor a body that isn't understood
 * (`decode`: a text or protobuf syntax error, invalid UTF-8, bad or unsupported Content-Encoding;
 * `too_large`): the Pushgateway answers 400 without touching the group, and a record would create groups
 * that never existed (alerts on `push_time_seconds == 0` would fire); malformed names in a text body are
 * syntax too (`ParseError.syntax`). Nor a malformed `Idempotency-Key` header (not the group's data). A well-formed body that breaks a rule (timestamps, duplicate series,
 * reserved names, conflicts, limits) is recorded, as there.
 */
const BODY_REFUSALS: ReadonlySet<string> = new Set([
  RejectReason.invalid,
  RejectReason.invalidName,
  RejectReason.timestamp,
  RejectReason.duplicateSeries,
  RejectReason.familyConflict,
  RejectReason.limit,
]);

export function refusalHandler(ctx: RouteContext) {
  return async (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const e = httpError(err);
    if (e.status >= 500)
      req.log.error({ err: { message: e.message, stack: err?.stack?.slice(0, 2048) } }, 'request failed');
    else req.log.info({ reason: e.reason, detail: e.message }, 'request refused');
    const { push, admin } = req.routeOptions.config;
    if (push || admin) setOutcome(req, 'refused', e.reason);
    if (push) {
      ctx.stats.countRejected(e.reason);
      if (
        BODY_REFUSALS.has(e.reason) &&
        !(err instanceof ParseError && err.syntax) &&
        !(err instanceof IdempotencyKeyError)
      )
        await recordFailure(ctx, req, e);
    }
    if (err instanceof AuthError) reply.header('www-authenticate', err.challenge);
    if (err instanceof OverloadedError)
      reply.header('retry-after', String(err.retryAfterSeconds)).header('connection', 'close');
    return reply.code(e.status).type(TEXT).send(`${e.message}\n`);
  };
}

/**
 * A refused push is recorded on its group (push_failure_time_seconds), but only for an authenticated,
 * same-site request with a valid grouping path, and never creates series.
 */
async function recordFailure(ctx: RouteContext, req: FastifyRequest, e: { reason: string; message: string }) {
  const group = validGroupOf(req);
  if (!group) return;
  await ctx.store.recordPushFailure(group, ctx.now(), `${e.reason}: ${e.message}`).catch((rerr: unknown) => {
    req.log.warn({ err: rerr }, 'could not record the push failure');
  });
  ctx.cache.invalidate();
}
