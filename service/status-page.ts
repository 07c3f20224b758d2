/**
 * The status page (`GET /`): server-rendered HTML, no build step, no external assets. Every piece of
 * stored data (label names and values, family names, failure reasons) is HTML-escaped, and the group's
 * path for the delete button travels in a `data-` attribute, base64-encoded per label, never as script.
 */
import { groupingPath } from '../shared/push/path';
import type { StoreSnapshot } from '../shared/store/types';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface StatusPageInput {
  readonly snapshot: StoreSnapshot | undefined;
  readonly snapshotAgeSeconds: number;
  readonly rejected: ReadonlyMap<string, number>;
  /** Show delete buttons (push auth off, or the request carried valid push credentials). */
  readonly canDelete: boolean;
  readonly startedAtMs: number;
  readonly nowMs: number;
  /** Set when the store could not be read. */
  readonly error?: string;
}

function time(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '—' : new Date(ms).toISOString();
}

export function renderStatusPage(p: StatusPageInput): string {
  const groups = p.snapshot?.groups ?? [];
  const rows: string[] = [];
  for (const g of groups) {
    const labels = Object.keys(g.key)
      .sort((a, b) => (a === 'job' ? -1 : b === 'job' ? 1 : a < b ? -1 : 1))
      .map((n) => `<span class="label">${escapeHtml(n)}="${escapeHtml(g.key[n] ?? '')}"</span>`)
      .join(' ');
    const failed =
      g.lastPushFailureMs !== undefined && g.lastPushFailureMs > (g.lastPushMs ?? Number.NEGATIVE_INFINITY);
    const families = g.families
      .map(
        (f) =>
          `<li><code>${escapeHtml(f.name)}</code> <span class="type">${escapeHtml(f.type)}</span> — ${f.series.length} series</li>`,
      )
      .join('');
    const del = p.canDelete
      ? `<button type="button" class="delete" data-path="/metrics/${escapeHtml(groupingPath(g.key))}">Delete group</button>`
      : '';
    rows.push(`<section class="group${failed ? ' failed' : ''}">
<h2>${labels}</h2>
<table>
<tr><th>last push</th><td>${time(g.lastPushMs)}</td></tr>
<tr><th>last event</th><td>${time(g.lastEventMs)}</td></tr>
<tr><th>last update</th><td>${time(g.lastUpdateMs)}</td></tr>
<tr><th>last push failure</th><td>${time(g.lastPushFailureMs)}${g.lastFailureReason ? ` — <span class="reason">${escapeHtml(g.lastFailureReason)}</span>` : ''}</td></tr>
</table>
<ul class="families">${families}</ul>
${del}
</section>`);
  }
  const rejected = [...p.rejected.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([r, n]) => `<tr><td>${escapeHtml(r)}</td><td>${n}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Accrue</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
.group{border:1px solid #ccc;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.group.failed{border-color:#c33}
.label{font-family:monospace;background:#eef;padding:0 .3rem;border-radius:3px;white-space:pre-wrap;word-break:break-all}
th{text-align:left;padding-right:1rem;font-weight:normal;color:#666}
.reason{color:#c33}
.error{color:#c33;font-weight:bold}
</style></head>
<body>
<h1>Accrue</h1>
<p>Started ${time(p.startedAtMs)}; snapshot age ${Number.isFinite(p.snapshotAgeSeconds) ? p.snapshotAgeSeconds.toFixed(1) : '—'} s; ${groups.length} group(s).</p>
${p.error ? `<p class="error">${escapeHtml(p.error)}</p>` : ''}
<h2>Rejected pushes by reason</h2>
<table class="rejected"><tr><th>reason</th><th>count</th></tr>${rejected}</table>
<div id="groups">${rows.join('\n')}</div>
<script>
for (const b of document.querySelectorAll('button.delete')) {
  b.addEventListener('click', async () => {
    b.disabled = true;
    const r = await fetch(b.dataset.path, { method: 'DELETE', credentials: 'same-origin' });
    if (r.ok) location.reload(); else { b.disabled = false; alert('Delete failed: ' + r.status + ' ' + (await r.text())); }
  });
}
</script>
</body></html>
`;
}
