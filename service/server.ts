/**
 * The HTTP service: /metrics for Prometheus and the Pushgateway API for pushers, over one `Store`.
 * Stateless apart from caches: any number of instances may serve the same DynamoDB store.
 *
 * The whole API (STYLE.md §3):
 *
 *   GET    /metrics                         scrape (text 0.0.4 or OpenMetrics, gzip)      scrapeAuth
 *   PUT    /metrics/job/<JOB>{/<L>/<V>}     replace the group                    200       pushAuth
 *   POST   /metrics/job/<JOB>{/<L>/<V>}     replace the pushed families          200       pushAuth
 *   DELETE /metrics/job/<JOB>{/<L>/<V>}     delete the group                     202       pushAuth
 *   GET    /api/v1/status                   build, start time, settings                    scrapeAuth
 *   GET    /api/v1/metrics                  the groups in the Pushgateway's JSON shape     scrapeAuth
 *   GET    /api/v1/accrue/metrics           Accrue's richer JSON view of the groups        scrapeAuth
 *   PUT    /api/v1/admin/wipe               delete everything (adminApi only)    202       pushAuth
 *   GET    /-/healthy, /-/ready             liveness; readiness = store.ping()             open
 *   GET    /, /status                       HTML status page                               scrapeAuth
 *   GET    /api/v1/accrue/…                 status page JSON (groups, one group, overview) scrapeAuth
 *   GET    /static/status.{js,css}          the status page's script and style             open
 *
 * Handlers are thin: path parsing and push validation live in shared/push/, rendering in shared/expfmt
 * (through ./codec), status codes in ./errors.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { ServiceConfig, StoreConfig } from '../shared/config';
import { AccrueError, ParseError, RejectReason } from '../shared/model/errors';
import type { MetricFamily } from '../shared/model/types';
import { ForbiddenError, requireJob } from '../shared/producers';
import { decodePushBodyAsync } from '../shared/push/body';
import { preparePush } from '../shared/push/prepare';
import type { PushMethod, Store } from '../shared/store/types';
import { audit } from './audit';
import { type AuthCheck, parseAuthSpec } from './auth';
import { BodyBudget, budgetHooks, holdOf, OverloadedError } from './body-budget';
import { ACCRUE_VERSION } from './build-info';
import { type Codec, createCodec } from './codec';
import { refuseCrossSite } from './cross-site';
import { badUrlHandler, httpError } from './errors';
import { connectionOptions, resolveLimits } from './limits';
import { PushCallers } from './push-callers';
import { groupOf, setOutcome, setSeries, validGroupOf } from './push-facts';
import { registerApiRoutes } from './routes/api';
import { registerStatusRoutes } from './routes/status';
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

const VERSION = ACCRUE_VERSION;

/**
 * Refusals of what was pushed, recorded on the group (push_failure_time_seconds). Not: credentials,
 * cross-site, overload, timeouts or aborted uploads — those say nothing about the group's data, and a
 * client that can't authenticate must not be able to write anything. Nor a body that isn't understood
 * (`decode`: a text or protobuf syntax error, invalid UTF-8, bad or unsupported Content-Encoding;
 * `too_large`): the Pushgateway answers 400 without touching the group, and a record would create groups
 * that never existed (alerts on `push_time_seconds == 0` would fire); malformed names in a text body are
 * syntax too (`ParseError.syntax`). A well-formed body that breaks a rule (timestamps, duplicate series,
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

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Push routes count their requests and rejections. */
    push?: boolean;
    /** Admin routes are audited. */
    admin?: boolean;
  }
}

class AuthError extends AccrueError {
  readonly challenge: string;
  constructor(what: string, challenge: string) {
    super(RejectReason.unauthorized, `${what} requires valid credentials`);
    this.challenge = challenge;
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const codec = deps.codec ?? createCodec();
  const pushAuth: AuthCheck | undefined = config.pushAuth
    ? parseAuthSpec(config.pushAuth, 'ACCRUE_PUSH_AUTH')
    : undefined;
  const scrapeAuth: AuthCheck | undefined = config.scrapeAuth
    ? parseAuthSpec(config.scrapeAuth, 'ACCRUE_SCRAPE_AUTH')
    : undefined;
  const stats = new ServiceStats();
  const cache = new ScrapeCache(
    store,
    codec,
    { refreshMs: config.snapshotRefreshMs, maxAgeMs: config.snapshotMaxAgeMs },
    stats,
    now,
  );
  const startedAtMs = now();

  const limits = resolveLimits(config);
  const budget = new BodyBudget(limits.maxInflightBodyBytes);
  const bodyHooks = budgetHooks(budget, config.maxBodyBytes);
  const logger = deps.logger ?? false;
  const options = {
    bodyLimit: config.maxBodyBytes,
    ...connectionOptions(limits),
    frameworkErrors: badUrlHandler(stats),
  };
  const app = (typeof logger === 'boolean'
    ? Fastify({ logger, ...options })
    : Fastify({ loggerInstance: logger, ...options })) as unknown as FastifyInstance;
  // The scrape cache refreshes in the background until the server closes.
  app.addHook('onClose', async () => cache.close());

  // Every body is read as bytes; the push handler decides between text and protobuf (as the Pushgateway).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );

  const pushAuthorized = (req: FastifyRequest) => !pushAuth || pushAuth.verify(header(req, 'authorization'));
  const callers = new PushCallers(pushAuth, config.producers);
  const requirePush = async (req: FastifyRequest) => {
    refuseCrossSite(req.headers);
    const caller = callers.identify(header(req, 'authorization'));
    if (!caller) throw new AuthError('pushing', callers.challenge);
    callers.remember(req, caller);
  };
  const requireRead = async (req: FastifyRequest) => {
    if (!scrapeAuth) return;
    const h = header(req, 'authorization');
    if (scrapeAuth.verify(h) || pushAuth?.verify(h)) return;
    throw new AuthError('reading', scrapeAuth.challenge);
  };

  app.setErrorHandler(async (err, req, reply) => {
    const e = httpError(err);
    if (e.status >= 500)
      req.log.error(
        { err: { message: e.message, stack: (err as Error)?.stack?.slice(0, 2048) } },
        'request failed',
      );
    else req.log.info({ reason: e.reason, detail: e.message }, 'request refused');
    if (req.routeOptions.config.push || req.routeOptions.config.admin) setOutcome(req, 'refused', e.reason);
    if (req.routeOptions.config.push) {
      stats.countRejected(e.reason);
      // A refused push is recorded on its group (push_failure_time_seconds), but only for an
      // authenticated, same-site request with a valid grouping path, and never creates series.
      if (BODY_REFUSALS.has(e.reason) && !(err instanceof ParseError && err.syntax)) {
        const group = validGroupOf(req);
        if (group) {
          await store.recordPushFailure(group, now(), `${e.reason}: ${e.message}`).catch((rerr: unknown) => {
            req.log.warn({ err: rerr }, 'could not record the push failure');
          });
          cache.invalidate();
        }
      }
    }
    if (err instanceof AuthError) reply.header('www-authenticate', err.challenge);
    if (err instanceof OverloadedError)
      reply.header('retry-after', String(err.retryAfterSeconds)).header('connection', 'close');
    return reply.code(e.status).type('text/plain; charset=utf-8').send(`${e.message}\n`);
  });

  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.config.push) stats.countPush(req.method, reply.statusCode);
    if (req.routeOptions.config.push || req.routeOptions.config.admin) audit(req, reply, callerName(req));
  });
  const callerName = (req: FastifyRequest): string => callers.of(req)?.name ?? 'unauthenticated';

  // --- scrape ---------------------------------------------------------------------------------------
  app.get('/metrics', { onRequest: requireRead }, async (req, reply) => {
    const { format, contentType } = codec.negotiate(header(req, 'accept'));
    const acceptGzip = acceptsGzip(header(req, 'accept-encoding'));
    const r = await cache.scrape(format, acceptGzip);
    if (!r.ok) return reply.code(503).type('text/plain; charset=utf-8').send(`${r.reason}\n`);
    reply.type(contentType).header('vary', 'Accept, Accept-Encoding');
    if (r.gzipped) reply.header('content-encoding', 'gzip');
    return reply.send(r.body);
  });

  // --- Pushgateway push API ---------------------------------------------------------------------------
  const push = async (req: FastifyRequest, reply: FastifyReply) => {
    const method = req.method as PushMethod;
    const group = groupOf(req);
    const producer = callers.of(req)?.producer;
    if (producer) requireJob(producer, group['job'] ?? '');
    const pushTimeMs = now();
    let families: MetricFamily[] = [];
    if (method !== 'DELETE') {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      families = await budget.parse(raw.length, async () => {
        const contentEncoding = header(req, 'content-encoding');
        const body = await decodePushBodyAsync(raw, {
          contentType: header(req, 'content-type'),
          contentEncoding,
          maxBytes: config.maxBodyBytes,
        });
        if (contentEncoding) holdOf(req)?.add(body.kind === 'text' ? body.text.length : body.bytes.length);
        const parseLimits = { maxSeries: limits.maxSeriesPerPush };
        return body.kind === 'text'
          ? codec.parseTextYielding(body.text, parseLimits)
          : codec.parseProtobufDelimited(body.bytes, parseLimits);
      });
    }
    const prepared = preparePush(method, group, families, pushTimeMs);
    setSeries(req, countSeries(prepared.families));
    const result = await store.push(prepared);
    cache.invalidate();
    setOutcome(req, result.status);
    if (result.status === 'stale') {
      // Changed nothing: answered as a refusal the client can see (docs/security.md "Stale pushes").
      stats.countRejected(RejectReason.stale);
      return reply
        .code(409)
        .type('text/plain; charset=utf-8')
        .send('stale: this group already holds a newer push; nothing was changed\n');
    }
    return reply.code(method === 'DELETE' ? 202 : 200).send();
  };
  app.route({
    method: ['PUT', 'POST', 'DELETE'],
    url: '/metrics/*',
    config: { push: true },
    onRequest: [requirePush, bodyHooks.onRequest],
    preParsing: bodyHooks.preParsing,
    handler: push,
  });

  // --- API ------------------------------------------------------------------------------------------
  registerApiRoutes(app, {
    cache,
    config,
    version: VERSION,
    startedAtMs,
    pushAuthScheme: pushAuth?.scheme ?? 'none',
    scrapeAuthScheme: scrapeAuth?.scheme ?? 'none',
    requireRead,
  });

  app.put('/api/v1/admin/wipe', { onRequest: requirePush, config: { admin: true } }, async (req, reply) => {
    if (callers.of(req)?.producer)
      throw new ForbiddenError('the admin API is for the ACCRUE_PUSH_AUTH credential, not producers');
    if (!config.adminApi)
      return reply
        .code(404)
        .type('text/plain; charset=utf-8')
        .send('admin API is disabled (ACCRUE_ADMIN_API)\n');
    await store.wipe();
    cache.invalidate();
    return reply.code(202).send();
  });

  // --- health ---------------------------------------------------------------------------------------
  app.get('/-/healthy', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('OK\n'));
  app.get('/-/ready', async (req, reply) => {
    try {
      await store.ping();
      return reply.type('text/plain; charset=utf-8').send('OK\n');
    } catch (err) {
      req.log.warn({ err }, 'store not ready');
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(`store not ready: ${(err as Error).message}\n`);
    }
  });

  // --- status page and its JSON (service/routes/status.ts) ------------------------------------------
  registerStatusRoutes(app, {
    cache,
    stats,
    config,
    ...(deps.storeConfig ? { storeConfig: deps.storeConfig } : {}),
    version: VERSION,
    startedAtMs,
    now,
    pushAuthScheme: pushAuth?.scheme ?? 'none',
    scrapeAuthScheme: scrapeAuth?.scheme ?? 'none',
    requireRead,
    // Delete buttons only where a click can succeed: push auth off, or basic push credentials the
    // browser re-sends for this origin. Bearer tokens are never put into a page.
    canDelete: (req) => !pushAuth || (pushAuth.scheme === 'basic' && pushAuthorized(req)),
  });

  return app;
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

function countSeries(families: readonly MetricFamily[]): number {
  let n = 0;
  for (const f of families) n += f.series.length;
  return n;
}
