/**
 * `accrue groups`: list the gateway's groups with the status page's filter (GET /api/v1/accrue/groups),
 * or delete exactly one (`accrue groups delete job=x instance=y`), saying so when it doesn't exist.
 */
import { requireServiceUrl, resolveTarget } from '../client/local';
import { loadConfig } from '../config';
import { ago } from '../format/ago';
import { labelNameProblem } from '../model/names';
import { groupingPath } from '../push/path';
import { authHeader, getJson, type Io, parse, request, UsageError } from './common';

export interface GroupJson {
  readonly labels: Record<string, string>;
  readonly state: 'failed' | 'stale' | 'ok';
  readonly families: number;
  readonly series: number;
  readonly last_push_time: string | null;
  readonly last_update_time: string | null;
  readonly last_failure_reason: string | null;
}

export interface GroupPageJson {
  readonly status: string;
  readonly data: {
    readonly total: number;
    readonly matched: number;
    readonly failed: number;
    readonly stale: number;
    readonly series: number;
    readonly page: number;
    readonly pages: number;
    readonly limit: number;
    readonly groups: readonly GroupJson[];
  };
}

/** Pushgateway grouping path: `/metrics/job/<job>/<label>/<value>…`; `/` or empty values as @base64. */
export function groupPath(labels: Record<string, string>): string {
  const seg = (name: string, value: string) =>
    value === '' || value.includes('/')
      ? `${name}@base64/${value === '' ? '=' : Buffer.from(value).toString('base64url')}`
      : `${name}/${encodeURIComponent(value)}`;
  let p = `/metrics/${seg('job', labels.job ?? '')}`;
  for (const [n, v] of Object.entries(labels)) if (n !== 'job') p += `/${seg(n, v)}`;
  return p;
}

export function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

/** "12 s ago" between two ISO times (the server's clock on both sides, so no skew). */
export function agoText(iso: string | null, nowIso: string): string {
  return iso ? ago(Date.parse(iso), Date.parse(nowIso)) : 'never';
}

function groupLine(g: GroupJson): string {
  const state =
    g.state === 'failed'
      ? `  LAST PUSH FAILED${g.last_failure_reason ? `: ${JSON.stringify(g.last_failure_reason)}` : ''}`
      : g.state === 'stale'
        ? '  STALE'
        : '';
  return `${labelText(g.labels)}  families=${g.families} series=${g.series} last_push=${g.last_push_time ?? '-'}${state}\n`;
}

function parseLabels(rest: string[]): Record<string, string> {
  if (rest.length === 0) throw new UsageError('groups delete: give the group as job=NAME [LABEL=VALUE ...]');
  const labels: Record<string, string> = {};
  for (const kv of rest) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`groups delete: ${JSON.stringify(kv)} is not LABEL=VALUE`);
    const name = kv.slice(0, i);
    const p = labelNameProblem(name);
    if (p) throw new UsageError(`groups delete: label name ${JSON.stringify(name)} ${p}`);
    if (Object.hasOwn(labels, name)) throw new UsageError(`groups delete: label ${name} given twice`);
    labels[name] = kv.slice(i + 1);
  }
  if (!labels.job) throw new UsageError('groups delete: job=NAME is required and must not be empty');
  return labels;
}

/** Whether the gateway holds the group; undefined when it can't tell (a plain Pushgateway). */
async function exists(base: string, labels: Record<string, string>, headers: Record<string, string>) {
  const res = await request(`${base}/api/v1/accrue/group/${groupingPath(labels)}`, { headers });
  const body = await res.text();
  if (res.ok) return true;
  if (res.status === 404 && body.includes('"no group')) return false;
  return undefined;
}

async function deleteGroup(base: string, rest: string[], headers: Record<string, string>, io: Io) {
  const labels = parseLabels(rest);
  if ((await exists(base, labels, headers)) === false) {
    io.err(`no group {${labelText(labels)}} on ${base}: nothing deleted (\`accrue groups\` lists them)\n`);
    return 1;
  }
  const url = base + groupPath(labels);
  const res = await request(url, { method: 'DELETE', headers });
  const text = await res.text();
  if (!res.ok) {
    io.err(`DELETE ${url} failed: HTTP ${res.status} ${text.trim()}\n`);
    return 1;
  }
  io.out(`deleted group ${JSON.stringify(labels)} (HTTP ${res.status})\n`);
  return 0;
}

function positiveInt(flag: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > max)
    throw new UsageError(`--${flag} ${JSON.stringify(v)}: must be a whole number from 1 to ${max}`);
  return Number(v);
}

export async function cmdGroups(args: string[], io: Io, help: (cmd: string) => number): Promise<number> {
  const { values, positionals } = parse(args, {
    url: { type: 'string' },
    auth: { type: 'string' },
    filter: { type: 'string' },
    state: { type: 'string' },
    limit: { type: 'string' },
    page: { type: 'string' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return help('groups');
  const [sub, ...rest] = positionals;
  if (sub !== undefined && sub !== 'delete')
    throw new UsageError(`groups: unknown subcommand ${JSON.stringify(sub)} (expected: delete)`);
  if (values.state !== undefined && !['all', 'failed', 'stale', 'ok'].includes(values.state))
    throw new UsageError(`--state ${JSON.stringify(values.state)}: must be all, failed, stale or ok`);
  const limit = positiveInt('limit', values.limit, 500);
  const page = positiveInt('page', values.page, 1_000_000);
  const config = loadConfig();
  const base = requireServiceUrl(resolveTarget({ url: values.url }, config), config.client.localFile);
  const headers = authHeader(values.auth ?? config.service.pushAuth);
  if (sub === 'delete') return deleteGroup(base, rest, headers, io);

  const query = (p: number, l: number) => {
    const q = new URLSearchParams({ page: String(p), limit: String(l) });
    if (values.filter) q.set('filter', values.filter);
    if (values.state) q.set('state', values.state);
    return `${base}/api/v1/accrue/groups?${q}`;
  };
  let doc = await getJson<GroupPageJson>(query(page ?? 1, values.all ? 500 : (limit ?? 50)), headers);
  const groups = [...doc.data.groups];
  while (values.all && doc.data.page < doc.data.pages) {
    doc = await getJson<GroupPageJson>(query(doc.data.page + 1, 500), headers);
    groups.push(...doc.data.groups);
  }
  const d = doc.data;
  if (values.json) {
    io.out(
      `${JSON.stringify({ ...d, page: values.all ? 1 : d.page, pages: values.all ? 1 : d.pages, groups }, null, 2)}\n`,
    );
    return 0;
  }
  if (d.total === 0) io.out('no groups: push one or send an event (`accrue send --help`)\n');
  else if (d.matched === 0) io.out(`no group matches (${d.total} groups on the gateway)\n`);
  for (const g of groups) io.out(groupLine(g));
  if (groups.length > 0) {
    const more =
      !values.all && d.page < d.pages ? `; --page ${d.page + 1} for more, --all for every one` : '';
    io.err(
      `${groups.length} of ${d.matched} matching group(s) (${d.total} in all, ${d.failed} failed, ${d.stale} stale), failed and stale first${more}\n`,
    );
  }
  return 0;
}
