/**
 * The status page and the JSON it shares with the CLI:
 *
 *   GET /, /status                          HTML: one page of groups, ingest and settings panels   read auth
 *   GET /static/status.js, /static/status.css   the page's script and style (CSP: no inline)      open
 *   GET /api/v1/accrue/groups               one page of group summaries (filter, state, order, page, limit)
 *   GET /api/v1/accrue/group/<grouping path>   one group's families with sample values; 404 if missing
 *   GET /api/v1/accrue/overview             ingest totals, push refusals since start, settings
 *
 * Filtering, ordering and paging happen here, on the server (service/status/groups.ts), so the page stays
 * small at any number of groups. Errors (a bad filter) go through the server's one error handler.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StoreConfig } from '../../shared/config';
import { labelsKey } from '../../shared/model/identity';
import { parseGroupingPath } from '../../shared/push/path';
import type { StoreSnapshot } from '../../shared/store/types';
import { pageHeaders } from '../page-policy';
import type { ScrapeCache } from '../scrape';
import { loadAssets } from '../status/assets';
import { groupDetail } from '../status/detail';
import { type GroupPage, listGroups, parseGroupQuery } from '../status/groups';
import { renderStatusPage, type Settings } from '../status/html';
import { ingestTotals } from '../status/ingest';
import { canDeleteFrom } from './access';
import { type RouteContext, TEXT } from './context';

const HOST_RE = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/;

function storeDescription(s: StoreConfig | undefined): string {
  if (!s) return 'unknown';
  return s.kind === 'memory'
    ? `memory, durable in ${s.dataDir}`
    : `dynamodb (tables ${s.seriesTable}, ${s.ledgerTable})`;
}

function settingsOf(d: RouteContext): Settings {
  const s = d.storeConfig;
  const extra: [string, string][] = s
    ? [
        ['group TTL (ACCRUE_GROUP_TTL_SECONDS)', s.groupTtlSeconds > 0 ? `${s.groupTtlSeconds} s` : 'off'],
        ['max series per family', String(s.limits.maxSeriesPerFamily)],
        ['max series per group', String(s.limits.maxSeriesPerGroup)],
        ['max series in the store', String(s.limits.maxSeriesTotal)],
        ['max label value length', String(s.limits.maxLabelValueLength)],
        ['max labels per series', String(s.limits.maxLabelsPerSeries)],
      ]
    : [];
  return {
    version: d.version,
    store: storeDescription(s),
    node: process.version,
    startedAtMs: d.startedAtMs,
    pushAuth: d.pushAuth?.scheme ?? 'none',
    scrapeAuth: d.scrapeAuth?.scheme ?? 'none',
    adminApi: d.config.adminApi,
    maxBodyBytes: d.config.maxBodyBytes,
    snapshotRefreshMs: d.config.snapshotRefreshMs,
    snapshotMaxAgeMs: d.config.snapshotMaxAgeMs,
    extra,
  };
}

async function readSnapshot(cache: ScrapeCache): Promise<{ snapshot?: StoreSnapshot; error?: string }> {
  try {
    const snapshot = await cache.snapshot();
    return snapshot ? { snapshot } : { error: 'store unavailable: no snapshot yet' };
  } catch (err) {
    return { error: `store unavailable: ${(err as Error).message}` };
  }
}

function pageJson(p: GroupPage) {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    total: p.total,
    matched: p.matched,
    failed: p.failed,
    stale: p.stale,
    series: p.series,
    page: p.page,
    pages: p.pages,
    limit: p.pageSize,
    groups: p.groups.map((g) => ({
      path: g.path,
      labels: g.labels,
      state: g.state,
      families: g.families,
      series: g.series,
      last_push_time: iso(g.lastPushMs),
      last_event_time: iso(g.lastEventMs),
      last_update_time: iso(g.lastUpdateMs),
      last_push_failure_time: iso(g.lastPushFailureMs),
      last_failure_reason: g.lastFailureReason ?? null,
    })),
  };
}

/** GET / and /status: the HTML status page, one page of groups (query: filter, state, order, page). */
export function statusPageHandler(d: RouteContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const query = parseGroupQuery(req.query as Record<string, unknown>);
    const { snapshot, error } = await readSnapshot(d.cache);
    const nowMs = d.now();
    const host = HOST_RE.test(req.host) ? req.host : `${d.config.host}:${d.config.port}`;
    const html = renderStatusPage({
      page: snapshot ? listGroups(snapshot, query, nowMs) : undefined,
      query,
      ingest: ingestTotals(snapshot),
      pushRejected: d.stats.rejectedByReason(),
      settings: settingsOf(d),
      snapshotAgeSeconds: d.cache.snapshotAgeSeconds(),
      canDelete: canDeleteFrom(d, req),
      nowMs,
      origin: `${req.protocol}://${host}`,
      ...(error ? { error } : {}),
    });
    return reply
      .type('text/html; charset=utf-8')
      .headers(pageHeaders(html))
      .header('cache-control', 'no-store')
      .send(html);
  };
}

/** GET /static/:name: the page's script and style (CSP: no inline script). */
export function staticAssetHandler() {
  const assets = loadAssets();
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const asset = assets.get((req.params as { name: string }).name);
    if (!asset) return reply.code(404).type(TEXT).send('not found\n');
    reply.type(asset.contentType).header('etag', asset.etag).header('cache-control', 'no-cache');
    reply.header('x-content-type-options', 'nosniff');
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.send(asset.body);
  };
}

/** GET /favicon.ico: browsers ask for it on every page; no icon, and no 404 in their console. */
export async function noFavicon(_req: FastifyRequest, reply: FastifyReply) {
  return reply.code(204).send();
}

/** GET /api/v1/accrue/groups: one page of group summaries. */
export function groupsHandler(d: RouteContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const query = parseGroupQuery(req.query as Record<string, unknown>);
    const { snapshot, error } = await readSnapshot(d.cache);
    if (!snapshot) return reply.code(503).send({ status: 'error', error });
    return { status: 'success', data: pageJson(listGroups(snapshot, query, d.now())) };
  };
}

/** GET /api/v1/accrue/group/<grouping path>: one group's families with sample values; 404 if missing. */
export function groupHandler(d: RouteContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const raw = req.url.slice('/api/v1/accrue/group/'.length).split('?')[0] ?? '';
    const key = parseGroupingPath(raw, d.config.utf8Names ? 'utf8' : 'legacy');
    const { snapshot, error } = await readSnapshot(d.cache);
    if (!snapshot) return reply.code(503).send({ status: 'error', error });
    const id = labelsKey(key);
    const g = snapshot.groups.find((x) => labelsKey(x.key) === id);
    if (!g) return reply.code(404).send({ status: 'error', error: `no group ${JSON.stringify({ ...key })}` });
    return { status: 'success', data: groupDetail(g, d.now()) };
  };
}

/** GET /api/v1/accrue/overview: ingest totals, push refusals since start, settings. */
export function overviewHandler(d: RouteContext) {
  return async (_req: FastifyRequest, reply: FastifyReply) => {
    const { snapshot, error } = await readSnapshot(d.cache);
    const nowMs = d.now();
    const all = snapshot
      ? listGroups(snapshot, { filter: '', state: 'all', order: 'attention', page: 1, pageSize: 1 }, nowMs)
      : undefined;
    const age = d.cache.snapshotAgeSeconds();
    return reply.code(snapshot ? 200 : 503).send({
      status: snapshot ? 'success' : 'error',
      ...(error ? { error } : {}),
      data: {
        time: new Date(nowMs).toISOString(),
        start_time: new Date(d.startedAtMs).toISOString(),
        snapshot_age_seconds: Number.isFinite(age) ? age : null,
        groups: all?.total ?? null,
        series: all?.series ?? null,
        failed: all?.failed ?? null,
        stale: all?.stale ?? null,
        ingest: ingestTotals(snapshot),
        push_rejected_since_start: Object.fromEntries(d.stats.rejectedByReason()),
        settings: settingsOf(d),
      },
    });
  };
}
