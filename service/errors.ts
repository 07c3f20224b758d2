/**
 * The one place where errors become HTTP status codes (STYLE.md §7). Handlers throw typed errors; the
 * server's error handler calls `httpError` and answers with the status and a one-line, readable reason.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccrueError, RejectReason } from '../shared/model/errors';
import { clip } from '../shared/model/names';
import { audit } from './audit';
import { PUSH_PREFIX, setOutcome } from './push-facts';
import type { ServiceStats } from './stats';

export interface HttpError {
  readonly status: number;
  /** Label of `accrue_push_rejected_total{reason}`. */
  readonly reason: string;
  readonly message: string;
}

/** Status per `AccrueError.reason`. Everything the Pushgateway refuses is a 400, as there. */
const STATUS: Readonly<Record<string, number>> = {
  decode: 400,
  invalid: 400,
  invalid_name: 400,
  timestamp: 400,
  duplicate_series: 400,
  family_conflict: 400,
  limit: 400,
  too_large: 413,
  unknown_event: 400,
  // A push older than what the group already holds changes nothing; the store reports it, not an error.
  stale: 409,
  // An Idempotency-Key (or SQS id) already used for another request: nothing was applied.
  redelivery_mismatch: 409,
  unauthorized: 401,
  cross_site: 403,
  forbidden: 403,
  overloaded: 503,
  transient: 503,
  internal: 500,
};

/** Error codes fastify itself raises (body parsing), mapped to Accrue's reasons. */
const FASTIFY_CODES: Readonly<Record<string, { status: number; reason: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, reason: 'too_large' },
  // The body ended before Content-Length: an aborted or timed-out upload.
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, reason: 'incomplete' },
  ECONNRESET: { status: 400, reason: 'incomplete' },
  ERR_STREAM_PREMATURE_CLOSE: { status: 400, reason: 'incomplete' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, reason: 'decode' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, reason: 'decode' },
};

/** Longest message an error answer (and its log line) carries; what is cut is said. */
export const MAX_ERROR_MESSAGE_CHARS = 2048;

export function httpError(err: unknown): HttpError {
  if (err instanceof AccrueError) {
    return {
      status: Object.hasOwn(STATUS, err.reason) ? STATUS[err.reason]! : 500,
      reason: err.reason,
      message: clip(err.message, MAX_ERROR_MESSAGE_CHARS),
    };
  }
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && Object.hasOwn(FASTIFY_CODES, e.code)) {
    const m = FASTIFY_CODES[e.code]!;
    return { status: m.status, reason: m.reason, message: clip(String(e.message), MAX_ERROR_MESSAGE_CHARS) };
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      reason: RejectReason.invalid,
      message: clip(String(e.message), MAX_ERROR_MESSAGE_CHARS),
    };
  }
  return { status: 500, reason: 'internal', message: 'internal error' };
}

const PUSH_METHODS: ReadonlySet<string> = new Set(['PUT', 'POST', 'DELETE']);

/**
 * fastify's `frameworkErrors`: a URL the router can't percent-decode (`%zz`, `%ED%A0%80`, an encoded lone
 * surrogate) never reaches a route or the error handler. It is answered here like any other refusal: a
 * 400 with one readable line, and for pushes counted under reason `invalid` (docs/service.md) and audited
 * (`credentialOf` names the caller from its Authorization header).
 */
export function badUrlHandler(stats: ServiceStats, credentialOf: (req: FastifyRequest) => string) {
  return (err: Error, req: FastifyRequest, reply: FastifyReply): void => {
    const url = req.raw.url ?? '';
    const isPush = url.startsWith(PUSH_PREFIX) && PUSH_METHODS.has(req.method);
    const code = (err as { code?: string }).code;
    const message =
      code === 'FST_ERR_BAD_URL'
        ? `path: invalid percent-encoding in ${JSON.stringify(clip(url, 128))} (must be UTF-8, RFC 3986)`
        : `request refused: ${clip(err.message, 256)}`;
    if (isPush) {
      stats.countRejected(RejectReason.invalid);
      stats.countPush(req.method, 400);
    }
    req.log.info({ reason: RejectReason.invalid, detail: message }, 'request refused');
    reply.code(400);
    if (isPush) {
      // No route ran, so no audit hook either: the refused push is audited here (docs/security.md).
      setOutcome(req, 'refused', RejectReason.invalid);
      audit(req, reply, credentialOf(req));
    }
    void reply.type('text/plain; charset=utf-8').send(`${message}\n`);
  };
}
