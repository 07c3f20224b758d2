/**
 * The HTTP service: /metrics for Prometheus and the Pushgateway API for pushers, over one `Store`.
 * Stateless apart from caches: any number of instances may serve the same DynamoDB store.
 *
 * The whole API is one table: ./routes/table.ts. This file builds what the handlers share (the context),
 * the fastify instance with its limits, the one error handler (./refusals.ts) and the audit hook.
 * Path parsing and push validation live in shared/push/, rendering in shared/expfmt (through ./codec),
 * status codes in ./errors.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServiceConfig, StoreConfig } from '../shared/config';
import type { Store } from '../shared/store/types';
import { audit } from './audit';
import { parseAuthSpec } from './auth';
import { BodyBudget, budgetHooks } from './body-budget';
import { ACCRUE_VERSION } from './build-info';
import { type Codec, createCodec } from './codec';
import { badUrlHandler } from './errors';
import { connectionOptions, resolveLimits } from './limits';
import { PushCallers } from './push-callers';
import { refusalHandler } from './refusals';
import { RESPONSE_DEADLINE_REASON, responseDeadlineHook } from './response-deadline';
import { accessGuards } from './routes/access';
import { header, nameRules, type RouteContext } from './routes/context';
import { mountRoutes } from './routes/mount';
import { routeTable } from './routes/table';
import { ScrapeCache } from './scrape';
import { ServiceStats } from './stats';

export interface ServerDeps {
  readonly store: Store;
  readonly config: ServiceConfig;
  /** A pino-compatible logger, or true for fastify's JSON logger on stdout. @default false */
  readonly logger?: FastifyBaseLogger | boolean;
  /** Clock in ms, for tests. @default Date.now */
  readonly now?: () => number;
  /** Exposition codec, for tests. @default shared/expfmt */
  readonly codec?: Codec;
  /** The store's settings, shown on the status page (kind, limits, TTL). */
  readonly storeConfig?: StoreConfig;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const ctx = routeContext(deps);
  const { config } = deps;
  const logger = deps.logger ?? false;
  const options = {
    bodyLimit: config.maxBodyBytes,
    ...connectionOptions(ctx.limits),
    frameworkErrors: badUrlHandler(
      ctx.stats,
      (req) => ctx.callers.identify(header(req, 'authorization'))?.name ?? 'unauthenticated',
    ),
  };
  const app = (typeof logger === 'boolean'
    ? Fastify({ logger, ...options })
    : Fastify({ loggerInstance: logger, ...options })) as unknown as FastifyInstance;
  // The scrape cache refreshes in the background until the server closes.
  app.addHook('onClose', async () => {
    ctx.cache.close();
    ctx.budget.close();
  });

  // Every body is read as bytes; the push handler decides between text and protobuf (as the Pushgateway).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler(refusalHandler(ctx));
  app.addHook(
    'onSend',
    responseDeadlineHook(ctx.limits.responseDeadlineMs, () =>
      ctx.stats.countResponseCut(RESPONSE_DEADLINE_REASON),
    ),
  );
  app.addHook('onResponse', async (req, reply) => {
    const { push, admin } = req.routeOptions.config;
    if (push) ctx.stats.countPush(req.method, reply.statusCode);
    if (push || admin) audit(req, reply, ctx.callers.of(req)?.name ?? 'unauthenticated');
  });

  const body = budgetHooks(ctx.budget, config.maxBodyBytes);
  mountRoutes(app, routeTable(ctx), { ...accessGuards(ctx), body, names: nameRules(config) });
  return app;
}

/** What the handlers share, built once per server. */
function routeContext(deps: ServerDeps): RouteContext {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const codec =
    deps.codec ??
    createCodec({ names: nameRules(config), openMetricsCreated: config.openMetricsCreated ?? true });
  const pushAuth = config.pushAuth ? parseAuthSpec(config.pushAuth, 'ACCRUE_PUSH_AUTH') : undefined;
  const scrapeAuth = config.scrapeAuth ? parseAuthSpec(config.scrapeAuth, 'ACCRUE_SCRAPE_AUTH') : undefined;
  const stats = new ServiceStats();
  const cacheTiming = { refreshMs: config.snapshotRefreshMs, maxAgeMs: config.snapshotMaxAgeMs };
  const limits = resolveLimits(config);
  return {
    store,
    config,
    ...(deps.storeConfig ? { storeConfig: deps.storeConfig } : {}),
    codec,
    cache: new ScrapeCache(store, codec, cacheTiming, stats, now),
    stats,
    limits,
    budget: new BodyBudget(limits.maxInflightBodyBytes),
    callers: new PushCallers(pushAuth, config.producers),
    ...(pushAuth ? { pushAuth } : {}),
    ...(scrapeAuth ? { scrapeAuth } : {}),
    version: ACCRUE_VERSION,
    startedAtMs: now(),
    now,
  };
}
