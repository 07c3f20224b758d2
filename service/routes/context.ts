/**
 * What route handlers share: the store, the served snapshot, the counters, the callers and the settings.
 * Built once per server (../server.ts) and handed to every handler factory in ./table.ts.
 */
import type { FastifyRequest } from 'fastify';
import type { ServiceConfig, ServiceLimits, StoreConfig } from '../../shared/config';
import type { NameValidation } from '../../shared/model/names';
import type { Store } from '../../shared/store/types';
import type { AuthCheck } from '../auth';
import type { BodyBudget } from '../body-budget';
import type { Codec } from '../codec';
import type { PushCallers } from '../push-callers';
import type { ScrapeCache } from '../scrape';
import type { ServiceStats } from '../stats';

export interface RouteContext {
  readonly store: Store;
  readonly config: ServiceConfig;
  /** The store's settings, shown on the status page. */
  readonly storeConfig?: StoreConfig;
  readonly codec: Codec;
  readonly cache: ScrapeCache;
  readonly stats: ServiceStats;
  readonly limits: ServiceLimits;
  /** Bounds the push bodies held in memory at once. */
  readonly budget: BodyBudget;
  /** Who is pushing (admin credential, producers, anonymous). */
  readonly callers: PushCallers;
  readonly pushAuth?: AuthCheck;
  readonly scrapeAuth?: AuthCheck;
  readonly version: string;
  readonly startedAtMs: number;
  readonly now: () => number;
}

/** A request header's first value. */
export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Plain-text answers end with a newline, as the Pushgateway's. */
export const TEXT = 'text/plain; charset=utf-8';

/** The name rules of HTTP pushes: `utf8` with ACCRUE_UTF8_NAMES, else the data model's legacy rules. */
export function nameRules(config: ServiceConfig): NameValidation {
  return config.utf8Names ? 'utf8' : 'legacy';
}
