/**
 * The whole HTTP API, one route a line. `access`: open; read = ACCRUE_SCRAPE_AUTH (or the push credential);
 * push = a push caller, same-site, body budget, counted and audited; admin = a push caller, audited.
 * Handlers are factories over the shared RouteContext (./context.ts); ./mount.ts turns `access` into hooks.
 * To add a route: write its handler in a module here and add its line below.
 */
import type { HTTPMethods, RouteHandlerMethod } from 'fastify';
import type { Access } from './access';
import { wipeHandler } from './admin';
import { aggregateHandler } from './aggregate';
import { accrueMetricsHandler, apiStatusHandler, pushgatewayMetricsHandler } from './api';
import type { RouteContext } from './context';
import { healthy, readyHandler } from './health';
import { pushHandler } from './push';
import { scrapeHandler } from './scrape';
import {
  groupHandler,
  groupsHandler,
  noFavicon,
  overviewHandler,
  staticAssetHandler,
  statusPageHandler,
} from './status';

export interface Route {
  readonly method: HTTPMethods | HTTPMethods[];
  readonly url: string;
  readonly access: Access;
  readonly handler: RouteHandlerMethod;
}

const PUSH: HTTPMethods[] = ['PUT', 'POST', 'DELETE'];

export function routeTable(ctx: RouteContext): Route[] {
  const page = statusPageHandler(ctx);
  // biome-ignore format: one route a line, aligned
  return [
    // method url                            access   handler                           answers
    r('GET', '/metrics',                     'read',  scrapeHandler(ctx)),             // text/OpenMetrics/protobuf, gzip
    r(PUSH,  '/metrics/*',                   'push',  pushHandler(ctx)),               // 200; DELETE 202; stale 409
    r('POST', '/api/v1/accrue/aggregate/*',  'push',  aggregateHandler(ctx)),          // deltas summed; 200
    r('GET', '/api/v1/status',               'read',  apiStatusHandler(ctx)),          // build, start time, settings
    r('GET', '/api/v1/metrics',              'read',  pushgatewayMetricsHandler(ctx)), // the Pushgateway's JSON shape
    r('GET', '/api/v1/accrue/metrics',       'read',  accrueMetricsHandler(ctx)),      // Accrue's richer JSON
    r('PUT', '/api/v1/admin/wipe',           'admin', wipeHandler(ctx)),               // 202; 404 unless adminApi
    r('GET', '/-/healthy',                   'open',  healthy),                        // liveness
    r('GET', '/-/ready',                     'open',  readyHandler(ctx)),              // readiness: store.ping()
    r('GET', '/',                            'read',  page),                           // HTML status page
    r('GET', '/status',                      'read',  page),                           // HTML status page
    r('GET', '/static/:name',                'open',  staticAssetHandler()),           // the page's js and css
    r('GET', '/favicon.ico',                 'open',  noFavicon),                      // 204
    r('GET', '/api/v1/accrue/groups',        'read',  groupsHandler(ctx)),             // status page JSON: groups
    r('GET', '/api/v1/accrue/group/*',       'read',  groupHandler(ctx)),              // one group; 404 if missing
    r('GET', '/api/v1/accrue/overview',      'read',  overviewHandler(ctx)),           // ingest totals, refusals
  ];
}

function r(
  method: HTTPMethods | HTTPMethods[],
  url: string,
  access: Access,
  handler: RouteHandlerMethod,
): Route {
  return { method, url, access, handler };
}
