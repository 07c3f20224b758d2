/**
 * The status page's HTML (`GET /`): one page of groups (collapsed, one summary line each), the ingest
 * and settings panels, and the empty-gateway hint. No inline script or style (the page's CSP allows
 * only /static/status.js and /static/status.css); everything from the store or the request is
 * HTML-escaped. Works without JavaScript except for loading values, copying and deleting.
 */
import { formatFloat } from '../../shared/expfmt';
import { ago } from '../../shared/format/ago';
import { type GroupPage, type GroupQuery, type GroupSummary, labelPairs, STALE_AFTER_MS } from './groups';
import type { IngestTotals } from './ingest';

export interface Settings {
  readonly version: string;
  readonly store: string;
  readonly node: string;
  readonly startedAtMs: number;
  readonly pushAuth: string;
  readonly scrapeAuth: string;
  readonly adminApi: boolean;
  readonly maxBodyBytes: number;
  readonly snapshotRefreshMs: number;
  readonly snapshotMaxAgeMs: number;
  /** Store limits and TTL when the server was told them. */
  readonly extra: readonly (readonly [string, string])[];
}

export interface PageInput {
  readonly page: GroupPage | undefined;
  readonly query: GroupQuery;
  readonly ingest: IngestTotals;
  /** Pushes refused by this instance since it started, by reason (in memory). */
  readonly pushRejected: ReadonlyMap<string, number>;
  readonly settings: Settings;
  readonly snapshotAgeSeconds: number;
  readonly canDelete: boolean;
  readonly nowMs: number;
  /** `http://host:port` as the browser addressed this instance, for copyable commands. */
  readonly origin: string;
  readonly error?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function time(ms: number | undefined, nowMs: number): string {
  if (ms === undefined || !Number.isFinite(ms)) return '<span class="muted">never</span>';
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}" title="${iso}" data-ms="${ms}">${ago(ms, nowMs)}</time>`;
}

function selector(labels: Readonly<Record<string, string>>): string {
  return `{${labelPairs(labels)
    .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

function queryString(q: GroupQuery, page: number): string {
  const p = new URLSearchParams();
  if (q.filter) p.set('filter', q.filter);
  if (q.state !== 'all') p.set('state', q.state);
  if (q.order !== 'attention') p.set('order', q.order);
  if (q.pageSize !== 50) p.set('limit', String(q.pageSize));
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `?${s}` : '/';
}

const BADGE: Record<string, string> = {
  failed: '<span class="badge failed">last push failed</span>',
  stale: '<span class="badge stale">stale</span>',
  ok: '',
};

function groupItem(g: GroupSummary, p: PageInput): string {
  const labels = labelPairs(g.labels)
    .map(([n, v]) => `<code class="label">${escapeHtml(n)}="${escapeHtml(v)}"</code>`)
    .join(' ');
  const last = g.lastPushMs ?? g.lastUpdateMs;
  const failure =
    g.state === 'failed'
      ? `<p class="reason">Last push refused ${time(g.lastPushFailureMs, p.nowMs)}: ${escapeHtml(g.lastFailureReason ?? 'no reason recorded')}</p>`
      : '';
  const del = p.canDelete
    ? `<button type="button" class="delete" data-path="${escapeHtml(g.path)}" data-group="${escapeHtml(selector(g.labels))}" data-families="${g.families}" data-series="${g.series}">Delete group…</button>`
    : '';
  return `<li><details class="group ${g.state}" data-path="${escapeHtml(g.path)}"><summary>${BADGE[g.state]}<span class="labels">${labels}</span> <span class="meta">${g.families} ${g.families === 1 ? 'family' : 'families'} · ${g.series} series · last push ${time(last, p.nowMs)}</span></summary>
<div class="body">${failure}<p class="times">last event ${time(g.lastEventMs, p.nowMs)} · last push ${time(g.lastPushMs, p.nowMs)} · last change ${time(g.lastUpdateMs, p.nowMs)} · <a href="/api/v1/accrue/group/${escapeHtml(g.path)}">JSON</a></p>
<div class="families" aria-live="polite"><p class="muted">Sample values load when the group is opened (needs JavaScript).</p></div>${del}</div></details></li>`;
}

function pager(p: GroupPage, q: GroupQuery): string {
  if (p.pages <= 1) return '';
  const prev =
    p.page > 1 ? `<a rel="prev" href="${escapeHtml(queryString(q, p.page - 1))}">← Previous</a>` : '';
  const next =
    p.page < p.pages ? `<a rel="next" href="${escapeHtml(queryString(q, p.page + 1))}">Next →</a>` : '';
  return `<nav class="pager" aria-label="Pages">${prev} <span>Page ${p.page} of ${p.pages}</span> ${next}</nav>`;
}

function filterForm(q: GroupQuery): string {
  const opt = (v: string, label: string) =>
    `<option value="${v}"${q.state === v ? ' selected' : ''}>${label}</option>`;
  return `<form class="filter" method="get" action="/" role="search">
<label for="filter">Filter by label</label>
<input id="filter" name="filter" type="search" value="${escapeHtml(q.filter)}" placeholder='job="aria-pro" instance~"mt5"' spellcheck="false" autocomplete="off">
<label for="state">Show</label>
<select id="state" name="state">${opt('all', 'all groups')}${opt('failed', 'failed only')}${opt('stale', 'stale only')}${opt('ok', 'healthy only')}</select>
<button type="submit">Apply</button> <a href="/">Clear</a>
</form>`;
}

function command(id: string, text: string): string {
  return `<div class="cmd"><pre id="${id}"><code>${escapeHtml(text)}</code></pre><button type="button" class="copy" data-copy="${id}">Copy</button></div>`;
}

function emptyHint(origin: string): string {
  return `<section class="empty" aria-labelledby="empty-h"><h2 id="empty-h">No data yet: send the first event or push</h2>
<p>Push a metric with any Pushgateway client, e.g. curl:</p>
${command('cmd-push', `echo 'demo_temperature_celsius 21.5' | curl --data-binary @- ${origin}/metrics/job/aria-pro/instance/local`)}
<p>Send an event through the queue (from the Accrue checkout, while <code>npm start</code> runs):</p>
${command('cmd-send', `echo '{"kind":"error","error_type":"timeout","symbol":"EURUSD"}' | npx accrue send --job aria-pro --instance local`)}
<p>Or run the simulated trading service for a minute:</p>
${command('cmd-demo', 'npm run demo')}
<p>This page shows each group as it arrives; reload to see it.</p></section>`;
}

function groupsSection(p: PageInput): string {
  const q = p.query;
  const page = p.page;
  if (!page) return '<section id="groups" aria-labelledby="groups-h"><h1 id="groups-h">Groups</h1></section>';
  const counts = `<p class="counts">${page.total} ${page.total === 1 ? 'group' : 'groups'} in the store${q.filter ? `, ${page.matched} matching` : ''} · ${page.series} series · <a href="${escapeHtml(queryString({ ...q, state: 'failed' }, 1))}">${page.failed} failed</a> · <a href="${escapeHtml(queryString({ ...q, state: 'stale' }, 1))}">${page.stale} stale</a> <span class="muted">(no write for ${STALE_AFTER_MS / 60_000} min)</span></p>`;
  let list: string;
  if (page.total === 0) list = emptyHint(p.origin);
  else if (page.matched === 0)
    list = `<p class="none">No group matches <code>${escapeHtml(q.filter || q.state)}</code>. <a href="/">Show all groups</a>.</p>`;
  else {
    const from = (page.page - 1) * page.pageSize + 1;
    list = `<p class="showing">Showing ${from}–${from + page.groups.length - 1} of ${page.matched}, failed and stale first. Open a group to see its values.</p>
<ol class="groups">${page.groups.map((g) => groupItem(g, p)).join('\n')}</ol>${pager(page, q)}`;
  }
  return `<section id="groups" aria-labelledby="groups-h"><h1 id="groups-h">Groups</h1>${counts}${filterForm(q)}${list}</section>`;
}

function rows(entries: Iterable<readonly [string, number]>, empty: string): string {
  const r = [...entries]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, n]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${formatFloat(n)}</td></tr>`)
    .join('');
  return r || `<tr><td colspan="2" class="muted">${empty}</td></tr>`;
}

function ingestSection(p: PageInput): string {
  const i = p.ingest;
  const m = (k: string) => formatFloat(i.messages[k] ?? 0);
  const rejected = Object.values(i.eventsRejected).reduce((a, b) => a + b, 0);
  const age = Number.isFinite(p.snapshotAgeSeconds)
    ? `${p.snapshotAgeSeconds.toFixed(1)} s`
    : 'no snapshot yet';
  const health = p.error
    ? `<span class="bad">${escapeHtml(p.error)}</span>`
    : '<span class="good">readable</span>';
  return `<section id="ingest" aria-labelledby="ingest-h"><h2 id="ingest-h">Ingest</h2>
<div class="panels">
<table><caption>Queue (SQS) — totals kept in the store, survive restarts${i.instances ? `; ${i.instances} ingest ${i.instances === 1 ? 'instance' : 'instances'}, last write ${time(i.lastWriteMs, p.nowMs)}` : '; nothing ingested yet'}</caption>
<tbody>
<tr><th scope="row">events accepted</th><td>${formatFloat(i.eventsAccepted)}</td></tr>
<tr><th scope="row">events rejected</th><td>${formatFloat(rejected)}</td></tr>
<tr><th scope="row">messages applied</th><td>${m('applied')}</td></tr>
<tr><th scope="row">messages dead-lettered</th><td>${m('dead_lettered')}</td></tr>
<tr><th scope="row">messages duplicated (skipped)</th><td>${formatFloat(i.duplicatesSkipped)}</td></tr>
<tr><th scope="row">batches retried (messages failed, redelivered by SQS)</th><td>${m('failed')}</td></tr>
</tbody></table>
<table><caption>Queue events rejected, by reason (each copied to the dead-letter queue)</caption><tbody>${rows(Object.entries(i.eventsRejected), 'none')}</tbody></table>
<table><caption>Pushes refused by this instance since it started ${time(p.settings.startedAtMs, p.nowMs)}, by reason</caption><tbody>${rows(p.pushRejected, 'none')}</tbody></table>
<table><caption>Store</caption><tbody>
<tr><th scope="row">store</th><td>${escapeHtml(p.settings.store)} — ${health}</td></tr>
<tr><th scope="row">snapshot age</th><td>${age}</td></tr>
</tbody></table>
</div></section>`;
}

function settingsSection(s: Settings): string {
  const row = (k: string, v: string) =>
    `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`;
  return `<section id="settings" aria-labelledby="settings-h"><h2 id="settings-h">Settings</h2>
<table><tbody>
${row('version', s.version)}${row('Node.js', s.node)}${row('started', new Date(s.startedAtMs).toISOString())}${row('store', s.store)}
${row('push auth (ACCRUE_PUSH_AUTH)', s.pushAuth === 'none' ? 'off' : `on (${s.pushAuth})`)}${row('read auth (ACCRUE_SCRAPE_AUTH)', s.scrapeAuth === 'none' ? 'off' : `on (${s.scrapeAuth})`)}
${row('admin API (ACCRUE_ADMIN_API)', s.adminApi ? 'on' : 'off')}${row('max body (ACCRUE_MAX_BODY_BYTES)', `${s.maxBodyBytes} bytes`)}
${row('snapshot refresh (ACCRUE_SNAPSHOT_REFRESH_MS)', `${s.snapshotRefreshMs} ms`)}${row('snapshot max age (ACCRUE_SNAPSHOT_MAX_AGE_MS)', `${s.snapshotMaxAgeMs} ms`)}
${s.extra.map(([k, v]) => row(k, v)).join('')}
</tbody></table></section>`;
}

const HELP_SECTION = `<section id="help" aria-labelledby="help-h"><h2 id="help-h">Help</h2>
<p>Filter terms (all must match; a PromQL selector such as <code>{job="aria-pro",instance="mt5-1"}</code> works too):
<code>name="value"</code> equals, <code>name!="value"</code> differs, <code>name~"text"</code> contains,
<code>name!~"text"</code> doesn't contain, and a bare word matches any label or family name. The filter is part
of the URL, so a filtered view can be bookmarked or shared. The same filter works in <code>npx accrue groups --filter</code>.</p>
<p>A group is <strong>failed</strong> when its last push was refused after its last good write, and
<strong>stale</strong> when nothing was written to it for ${STALE_AFTER_MS / 60_000} minutes. Deleting a group removes it
from the store and from /metrics, like <code>DELETE /metrics/job/…</code> on a Pushgateway.</p>
<p>JSON: <a href="/api/v1/accrue/groups">/api/v1/accrue/groups</a> (same query parameters as this page),
<a href="/api/v1/accrue/overview">/api/v1/accrue/overview</a>. The documentation is in the Accrue repository:
<code>docs/service.md</code> (this page and the HTTP API), <code>docs/local.md</code>, <code>docs/client.md</code>.</p>
</section>`;

export function renderStatusPage(p: PageInput): string {
  const title = p.page
    ? `Accrue · ${p.page.total} groups${p.page.failed ? ` · ${p.page.failed} failed` : ''}`
    : 'Accrue';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/status.css">
<script src="/static/status.js" defer></script>
</head>
<body data-now="${p.nowMs}">
<header><nav aria-label="Main"><a class="brand" href="/">Accrue</a>
<a href="#groups">Groups</a><a href="#ingest">Ingest</a><a href="#settings">Settings</a><a href="#help">Help</a>
<a href="/metrics">/metrics</a><a href="/api/v1/status">/api/v1/status</a><a href="/api/v1/metrics">/api/v1/metrics</a>
<span class="version">v${escapeHtml(p.settings.version)}</span></nav></header>
<main>
${p.error ? `<p class="error" role="alert">${escapeHtml(p.error)}</p>` : ''}
<p id="notice" role="status" aria-live="polite"></p>
${groupsSection(p)}
${ingestSection(p)}
${settingsSection(p.settings)}
${HELP_SECTION}
</main>
<dialog id="confirm-delete" aria-labelledby="confirm-title" aria-describedby="confirm-text"><form method="dialog">
<h2 id="confirm-title">Delete this group?</h2><p id="confirm-text"></p>
<div class="actions"><button value="cancel" autofocus>Cancel</button> <button value="delete" class="danger">Delete group</button></div>
</form></dialog>
</body></html>
`;
}
