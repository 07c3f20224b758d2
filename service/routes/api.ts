/**
 * The JSON API:
 *
 *   GET /api/v1/status          version, build_information (as the Pushgateway's), start time, settings
 *   GET /api/v1/metrics         the groups in the Pushgateway's shape (./../api/pushgateway-json)
 *   GET /api/v1/accrue/metrics  Accrue's richer view of the groups (./../api/accrue-json)
 *
 * All read the served snapshot (service/scrape.ts) and need read credentials (./table.ts); the two views
 * are serialized once per store generation (./../per-snapshot).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StoreSnapshot } from '../../shared/store/types';
import { accrueGroupsData } from '../api/accrue-json';
import { pushgatewayMetricsData } from '../api/pushgateway-json';
import { buildInformation } from '../build-info';
import { PerSnapshot } from '../per-snapshot';
import type { RouteContext } from './context';

/** GET /api/v1/status. */
export function apiStatusHandler(ctx: RouteContext) {
  const { cache, config } = ctx;
  const build = buildInformation();
  return async () => ({
    status: 'success',
    data: {
      version: ctx.version,
      build_information: build,
      start_time: new Date(ctx.startedAtMs).toISOString(),
      snapshot_age_seconds: nullIfNaN(cache.snapshotAgeSeconds()),
      flags: {
        admin_api: config.adminApi,
        push_auth: ctx.pushAuth?.scheme ?? 'none',
        scrape_auth: ctx.scrapeAuth?.scheme ?? 'none',
        max_body_bytes: config.maxBodyBytes,
        snapshot_refresh_ms: config.snapshotRefreshMs,
        snapshot_max_age_ms: config.snapshotMaxAgeMs,
      },
    },
  });
}

/** GET /api/v1/metrics: the groups in the Pushgateway's JSON shape. */
export const pushgatewayMetricsHandler = (ctx: RouteContext) => jsonView(ctx, pushgatewayMetricsData);

/** GET /api/v1/accrue/metrics: Accrue's richer JSON view of the groups. */
export const accrueMetricsHandler = (ctx: RouteContext) => jsonView(ctx, accrueGroupsData);

/** A view serialized once per store generation and served as cached JSON text. */
function jsonView(ctx: RouteContext, data: (s: StoreSnapshot) => unknown) {
  const json = new PerSnapshot<string>();
  return async (_req: FastifyRequest, reply: FastifyReply) => {
    const snapshot = await ctx.cache.snapshot();
    if (!snapshot) return reply.code(503).send({ status: 'error', error: 'store unavailable' });
    const body = json.get(snapshot, (s) => JSON.stringify({ status: 'success', data: data(s) }));
    return reply.type('application/json; charset=utf-8').send(body);
  };
}

function nullIfNaN(n: number): number | null {
  return Number.isNaN(n) ? null : n;
}
