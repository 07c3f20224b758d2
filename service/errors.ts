/**
 * The one place where errors become HTTP status codes (STYLE.md §7). Handlers throw typed errors; the
 * server's error handler calls `httpError` and answers with the status and a one-line, readable reason.
 */
import { AccrueError } from '../shared/model/errors';

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
  unauthorized: 401,
  transient: 503,
  internal: 500,
};

/** Error codes fastify itself raises (body parsing), mapped to Accrue's reasons. */
const FASTIFY_CODES: Readonly<Record<string, { status: number; reason: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, reason: 'too_large' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, reason: 'decode' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, reason: 'decode' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, reason: 'decode' },
};

export function httpError(err: unknown): HttpError {
  if (err instanceof AccrueError) {
    return {
      status: Object.hasOwn(STATUS, err.reason) ? STATUS[err.reason]! : 500,
      reason: err.reason,
      message: err.message,
    };
  }
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && Object.hasOwn(FASTIFY_CODES, e.code)) {
    const m = FASTIFY_CODES[e.code]!;
    return { status: m.status, reason: m.reason, message: String(e.message) };
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, reason: 'invalid', message: String(e.message) };
  }
  return { status: 500, reason: 'internal', message: 'internal error' };
}
