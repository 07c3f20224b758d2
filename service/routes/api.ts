/**
 * The JSON API:
 *
 *   GET /api/v1/status          version, build_information (as the Pushgateway's), start time, settings
 *   GET /api/v1/metrics         the groups in the Pushgateway's shape (./../api/pushgateway-json)
 *   GET /api/v1/accrue/metrics  Accrue's richer view of the groups (./../api/accrue-json)
 *
 * All read the served snapshot (service/scrape.ts) and need read credentials; the two views are
 * serialized once per store generation (./../per-snapshot).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceConfig } from '../../shared/config';
import type { StoreSnapshot } from '../../shared/store/types';
import { accrueGroupsData } from '../api/accrue-json';
import { pushgatewayMetricsData } from '../api/pushgateway-json';
import { buildInformation } from '../build-info';
import { PerSnapshot } from '../per-snapshot';
import type { ScrapeCache } from '../scrape';

export interface ApiRouteDeps {
  readonly cache: ScrapeCache;
  readonly config: ServiceConfig;
  readonly version: string;
  readonly startedAtMs: number;
  readonly pushAuthScheme: string;
  readonly scrapeAuthScheme: string;
  readonly requireRead: (req: FastifyRequest) => Promise<void>;
}

export function registerApiRoutes(app: FastifyInstance, deps: ApiRouteDeps): void {
  const { cache, config } = deps;
  const read = { onRequest: deps.requireRead };
  const build = buildInformation();

  app.get('/api/v1/status', read, async () => ({
    status: 'success',
    data: {
      version: deps.version,
      build_information: build,
      start_time: new Date(deps.startedAtMs).toISOString(),
      snapshot_age_seconds: nullIfNaN(cache.snapshotAgeSeconds()),
      flags: {
        admin_api: config.adminApi,
        push_auth: deps.pushAuthScheme,
        scrape_auth: deps.scrapeAuthScheme,
        max_body_bytes: config.maxBodyBytes,
        snapshot_refresh_ms: config.snapshotRefreshMs,
        snapshot_max_age_ms: config.snapshotMaxAgeMs,
      },
    },
  }));

  // Each view is serialized once per store generation and served as cached JSON text.
  const view = (data: (s: StoreSnapshot) => unknown) => {
    const json = new PerSnapshot<string>();
    return async (_req: FastifyRequest, reply: FastifyReply) => {
      const snapshot = await cache.snapshot();
      if (!snapshot) return reply.code(503).send({ status: 'error', error: 'store unavailable' });
      const body = json.get(snapshot, (s) => JSON.stringify({ status: 'success', data: data(s) }));
      return reply.type('application/json; charset=utf-8').send(body);
    };
  };
  app.get('/api/v1/metrics', read, view(pushgatewayMetricsData));
  app.get('/api/v1/accrue/metrics', read, view(accrueGroupsData));
}

function nullIfNaN(n: number): number | null {
  return Number.isNaN(n) ? null : n;
}
