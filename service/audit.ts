/**
 * The audit trail: one structured log line (`msg: "audit"`) for every push, delete and admin action,
 * whatever its outcome, naming the group, the outcome and status, the series count and the caller
 * (credential name, the load balancer's `X-Forwarded-For`, the peer address). Values that come from the
 * client are clipped, so a hostile header can't make a log line large.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { clip } from '../shared/model/names';
import { outcomeOf, seriesOf, validGroupOf } from './push-facts';

export interface AuditLine {
  readonly action: string;
  readonly group?: Record<string, string>;
  /** The path as sent, when it has no valid grouping key (an undecodable URL, a bad path). */
  readonly path?: string;
  readonly status: number;
  readonly outcome: string;
  readonly reason?: string;
  readonly series?: number;
  readonly caller: {
    readonly credential: string;
    readonly forwardedFor?: string;
    readonly remoteAddress?: string;
  };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function clippedGroup(req: FastifyRequest): Record<string, string> | undefined {
  const g = validGroupOf(req);
  if (g === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(g)) out[k] = clip(g[k]!, 256);
  return out;
}

/** The group, or (when the path can't be decoded) the raw path as sent, clipped. */
function groupOrPath(req: FastifyRequest): { group?: Record<string, string>; path?: string } {
  const group = clippedGroup(req);
  return group !== undefined ? { group } : { path: clip(req.url.split('?')[0] ?? '', 256) };
}

/** Builds the audit line of a finished request. `credential` names who authenticated. */
export function auditLine(req: FastifyRequest, reply: FastifyReply, credential: string): AuditLine {
  const { outcome, reason } = outcomeOf(req);
  const status = reply.statusCode;
  const action = req.url.startsWith('/api/v1/admin/') ? `admin ${req.url.split('?')[0]}` : req.method;
  const xff = first(req.headers['x-forwarded-for']);
  const series = seriesOf(req);
  return {
    action: clip(action, 64),
    ...(action.startsWith('admin') ? {} : groupOrPath(req)),
    status,
    outcome: outcome ?? (status < 400 ? 'ok' : 'refused'),
    ...(reason !== undefined ? { reason } : {}),
    ...(series !== undefined ? { series } : {}),
    caller: {
      credential,
      ...(xff !== undefined ? { forwardedFor: clip(xff, 256) } : {}),
      ...(req.socket?.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
    },
  };
}

export function audit(req: FastifyRequest, reply: FastifyReply, credential: string): void {
  // Built only when it is written: under attack, refused requests arrive by the thousand.
  if (infoEnabled(req.log)) req.log.info({ audit: auditLine(req, reply, credential) }, 'audit');
}

function infoEnabled(log: FastifyBaseLogger): boolean {
  const { isLevelEnabled } = log as { isLevelEnabled?: (level: string) => boolean };
  return typeof isLevelEnabled === 'function' ? isLevelEnabled.call(log, 'info') : log.level !== 'silent';
}
