/**
 * The group list behind the status page, `GET /api/v1/accrue/groups` and `accrue groups`: one summary
 * per group, a label filter, failed and stale groups first, and pages. Pure functions over a snapshot.
 *
 * Filter syntax (docs/service.md "Status page"): terms separated by spaces or commas, all must match;
 * `{…}` and quotes around values are allowed, so a PromQL selector pastes in as is.
 *   name="value"   label equals          name!="value"  label differs (or is absent)
 *   name~"text"    label contains text   name!~"text"   label doesn't contain text (case-insensitive)
 *   text           any label name, label value or family name contains text (case-insensitive)
 * No regular expressions: a page anyone with read access may call must not run a pattern that
 * backtracks for minutes over 5,000 groups.
 */
import { AccrueError } from '../../shared/model/errors';
import { groupingPath } from '../../shared/push/path';
import type { GroupState, StoreSnapshot } from '../../shared/store/types';

/** A group is stale when nothing was written to it for this long. */
export const STALE_AFTER_MS = 5 * 60_000;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
const MAX_FILTER_CHARS = 1000;

export type Health = 'failed' | 'stale' | 'ok';
export type StateFilter = 'all' | Health;
export type Order = 'attention' | 'recent';

export interface GroupSummary {
  /** Grouping path after `/metrics/`, every value base64: the group's id in URLs. */
  readonly path: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly families: number;
  readonly series: number;
  readonly lastPushMs?: number;
  readonly lastEventMs?: number;
  readonly lastUpdateMs: number;
  readonly lastPushFailureMs?: number;
  readonly lastFailureReason?: string;
  readonly state: Health;
}

export interface GroupQuery {
  readonly filter: string;
  readonly state: StateFilter;
  readonly order: Order;
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
}

export interface GroupPage {
  readonly total: number;
  readonly matched: number;
  readonly failed: number;
  readonly stale: number;
  readonly series: number;
  readonly page: number;
  readonly pages: number;
  readonly pageSize: number;
  readonly groups: readonly GroupSummary[];
}

/** A bad query parameter, named with its rule (400, through service/errors.ts). */
export class QueryError extends AccrueError {
  constructor(message: string) {
    super('invalid', message);
  }
}

interface Term {
  readonly name?: string;
  readonly op: '=' | '!=' | '~' | '!~' | 'any';
  readonly value: string;
}

/** Parses the filter; throws QueryError naming the part that is wrong. */
export function parseFilter(text: string): Term[] {
  if (text.length > MAX_FILTER_CHARS)
    throw new QueryError(`filter: longer than ${MAX_FILTER_CHARS} characters`);
  const terms: Term[] = [];
  let i = 0;
  const sep = (c: string | undefined) => c === ' ' || c === ',' || c === '\t' || c === '{' || c === '}';
  while (i < text.length) {
    if (sep(text[i])) {
      i++;
      continue;
    }
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)(!=|!~|=~|=|~)/.exec(text.slice(i));
    if (!m) {
      let j = i;
      while (j < text.length && !sep(text[j])) j++;
      terms.push({ op: 'any', value: unquote(text.slice(i, j)).toLowerCase() });
      i = j;
      continue;
    }
    const op = m[2] === '=~' ? '~' : (m[2] as Term['op']);
    i += m[0].length;
    const [value, next] = readValue(text, i, m[1]!);
    terms.push({ name: m[1]!, op, value: op === '~' || op === '!~' ? value.toLowerCase() : value });
    i = next;
  }
  return terms;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** A quoted ("…" with \" \\ \n escapes) or bare value starting at `i`; returns it and the next index. */
function readValue(text: string, i: number, name: string): [string, number] {
  if (text[i] !== '"') {
    let j = i;
    while (j < text.length && !/[\s,{}]/.test(text[j]!)) j++;
    return [text.slice(i, j), j];
  }
  let out = '';
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j]!;
    if (c === '"') return [out, j + 1];
    if (c === '\\' && j + 1 < text.length) {
      const n = text[++j]!;
      out += n === 'n' ? '\n' : n;
    } else out += c;
  }
  throw new QueryError(`filter: the value of ${name} has no closing quote`);
}

function matches(g: GroupState, terms: readonly Term[]): boolean {
  for (const t of terms) {
    if (t.op === 'any') {
      if (!anyContains(g, t.value)) return false;
      continue;
    }
    const has = Object.hasOwn(g.key, t.name!);
    const v = has ? g.key[t.name!]! : '';
    const ok =
      t.op === '='
        ? has && v === t.value
        : t.op === '!='
          ? v !== t.value
          : t.op === '~'
            ? has && v.toLowerCase().includes(t.value)
            : !v.toLowerCase().includes(t.value);
    if (!ok) return false;
  }
  return true;
}

function anyContains(g: GroupState, needle: string): boolean {
  for (const [n, v] of Object.entries(g.key))
    if (n.includes(needle) || v.toLowerCase().includes(needle) || `${n}=${v}`.toLowerCase().includes(needle))
      return true;
  return g.families.some((f) => f.name.includes(needle));
}

export function groupState(g: GroupState, nowMs: number): Health {
  if (g.lastPushFailureMs !== undefined && g.lastPushFailureMs > (g.lastPushMs ?? Number.NEGATIVE_INFINITY))
    return 'failed';
  return nowMs - g.lastUpdateMs > STALE_AFTER_MS ? 'stale' : 'ok';
}

export function summarize(g: GroupState, nowMs: number): GroupSummary {
  let series = 0;
  for (const f of g.families) series += f.series.length;
  return {
    path: groupingPath(g.key),
    labels: { ...g.key },
    families: g.families.length,
    series,
    ...(g.lastPushMs !== undefined ? { lastPushMs: g.lastPushMs } : {}),
    ...(g.lastEventMs !== undefined ? { lastEventMs: g.lastEventMs } : {}),
    lastUpdateMs: g.lastUpdateMs,
    ...(g.lastPushFailureMs !== undefined ? { lastPushFailureMs: g.lastPushFailureMs } : {}),
    ...(g.lastFailureReason !== undefined ? { lastFailureReason: g.lastFailureReason } : {}),
    state: groupState(g, nowMs),
  };
}

/** `job` first, then the other labels by name: how a group reads and sorts. */
export function labelPairs(labels: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => (a === 'job' ? -1 : b === 'job' ? 1 : a < b ? -1 : 1));
}

const RANK: Record<Health, number> = { failed: 0, stale: 1, ok: 2 };

/** What sorting needs, computed once per group (a sort compares 60k pairs at 5,000 groups). */
interface Hit {
  readonly g: GroupState;
  readonly state: Health;
  readonly labelKey: string;
}

// Snapshots reuse the objects of unchanged groups, so a key computed once serves every later request.
const labelKeys = new WeakMap<GroupState, string>();

function labelKeyOf(g: GroupState): string {
  let k = labelKeys.get(g);
  if (k === undefined) {
    k = labelPairs(g.key).flat().join('\u0000');
    labelKeys.set(g, k);
  }
  return k;
}

function byLabels(a: Hit, b: Hit): number {
  return a.labelKey < b.labelKey ? -1 : a.labelKey > b.labelKey ? 1 : 0;
}

function compare(order: Order): (a: Hit, b: Hit) => number {
  if (order === 'recent') return (a, b) => b.g.lastUpdateMs - a.g.lastUpdateMs || byLabels(a, b);
  return (a, b) => {
    const r = RANK[a.state] - RANK[b.state];
    if (r !== 0) return r;
    // Newest failure first; among stale groups the longest silent first.
    if (a.state === 'failed')
      return (b.g.lastPushFailureMs ?? 0) - (a.g.lastPushFailureMs ?? 0) || byLabels(a, b);
    if (a.state === 'stale') return a.g.lastUpdateMs - b.g.lastUpdateMs || byLabels(a, b);
    return byLabels(a, b);
  };
}

/** Reads and checks the query parameters of the list (status page and JSON API alike). */
export function parseGroupQuery(q: Readonly<Record<string, unknown>>): GroupQuery {
  const str = (name: string): string | undefined => {
    const v = q[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new QueryError(`${name}: give it once`);
    return v;
  };
  const int = (name: string, dflt: number, max: number): number => {
    const s = str(name);
    if (s === undefined || s === '') return dflt;
    if (!/^[0-9]{1,9}$/.test(s) || Number(s) < 1 || Number(s) > max)
      throw new QueryError(
        `${name}: must be a whole number from 1 to ${max}, got ${JSON.stringify(s.slice(0, 40))}`,
      );
    return Number(s);
  };
  const state = str('state') || 'all';
  if (!['all', 'failed', 'stale', 'ok'].includes(state))
    throw new QueryError(
      `state: must be all, failed, stale or ok, got ${JSON.stringify(state.slice(0, 40))}`,
    );
  const order = str('order') || 'attention';
  if (order !== 'attention' && order !== 'recent')
    throw new QueryError(`order: must be attention or recent, got ${JSON.stringify(order.slice(0, 40))}`);
  const filter = str('filter') ?? '';
  parseFilter(filter);
  return {
    filter,
    state: state as StateFilter,
    order,
    page: int('page', 1, 1_000_000),
    pageSize: int('limit', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
  };
}

/** One page of matching groups, failed and stale first (or most recently updated first). */
export function listGroups(snapshot: StoreSnapshot, query: GroupQuery, nowMs: number): GroupPage {
  const terms = parseFilter(query.filter);
  let failed = 0;
  let stale = 0;
  let series = 0;
  const hits: Hit[] = [];
  for (const g of snapshot.groups) {
    if (!matches(g, terms)) continue;
    const state = groupState(g, nowMs);
    if (state === 'failed') failed++;
    else if (state === 'stale') stale++;
    for (const f of g.families) series += f.series.length;
    if (query.state === 'all' || query.state === state) hits.push({ g, state, labelKey: labelKeyOf(g) });
  }
  hits.sort(compare(query.order));
  const pages = Math.max(1, Math.ceil(hits.length / query.pageSize));
  const page = Math.min(query.page, pages);
  return {
    total: snapshot.groups.length,
    matched: hits.length,
    failed,
    stale,
    series,
    page,
    pages,
    pageSize: query.pageSize,
    groups: hits.slice((page - 1) * query.pageSize, page * query.pageSize).map((h) => summarize(h.g, nowMs)),
  };
}
