/**
 * The plan of an apply request: what a message asks the store to do, as a function of its content only.
 *
 * Both stores keep the plan hash with the request's ledger entry. A redelivery (same idempotency key)
 * whose hash differs from the committed one is refused with `redelivery_mismatch` instead of being
 * applied again or answered `duplicate`: its content changed between deliveries (another decoder
 * version, profile or limits, or a producer that reused an id), so neither answer would be exact.
 *
 * The hash ignores op order and batch composition (ops are sorted by their canonical text), and is
 * computed over every op of the request, accepted or not, so it does not depend on what the store's
 * checks (limits, conflicts) accept this time. Large requests are cut into parts over the same sorted
 * texts (`planOrder`), so part keys don't depend on those checks either.
 */
import { createHash } from 'node:crypto';
import { AccrueError, RejectReason } from '../model/errors';
import { labelsKey } from '../model/identity';
import type { MetricFamily } from '../model/types';
import type { ApplyRequest, PushRequest } from './types';

/** Canonical text of one op (labels sorted by name); never throws, whatever the op holds. */
export function opText(op: unknown): string {
  if (typeof op !== 'object' || op === null) return `?${String(op)}`;
  const o = op as Record<string, unknown>;
  const labels = o.labels;
  let l = '';
  if (typeof labels === 'object' && labels !== null) {
    const names = Object.keys(labels).sort();
    l = safeJson(names.map((n) => [n, (labels as Record<string, unknown>)[n]]));
  } else l = safeJson(labels);
  const base = [o.kind, o.name, l, o.value, o.timeMs, o.bounds, o.counts, o.sum, o.count];
  // Native buckets only when present: the text (and so the hash) of every other op stays what it was, so a
  // message applied before an upgrade is still recognised when it is redelivered after it.
  return safeJson(o.native === undefined ? base : [...base, numbersAsText(o.native)]);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return String(v);
  }
}

export interface Plan {
  /** Indexes of the request's ops in canonical order (deterministic for the same content). */
  readonly order: readonly number[];
  /** Hash of the content: sorted op texts and the event time. */
  readonly hash: string;
}

/** The plan of a request; `ops` that isn't an array counts as no ops. */
export function planOf(request: ApplyRequest): Plan {
  const ops: readonly unknown[] = Array.isArray(request.ops) ? request.ops : [];
  const texts = ops.map(opText);
  const order = texts.map((_, i) => i).sort((a, b) => cmp(texts[a]!, texts[b]!) || a - b);
  const h = createHash('sha256');
  for (const i of order) h.update(texts[i]!).update('\n');
  h.update(`e${String(request.eventTimeMs)}`);
  const own = request.contentHash;
  return { order, hash: typeof own === 'string' && own !== '' ? own : h.digest('base64url').slice(0, 22) };
}

/** The error of a redelivery whose content differs from what was committed under its id. */
export function redeliveryMismatch(id: string): AccrueError {
  const shown = id.length > 200 ? `${id.slice(0, 200)}…` : id;
  return new AccrueError(
    RejectReason.redeliveryMismatch,
    `request ${shown}: a message with this idempotency key and other content was already applied; this delivery is not applied (dead-lettered)`,
  );
}

/**
 * The hash a push with an idempotency key (`PushRequest.id`) keeps in the ledger: its method, grouping key
 * and families (names, types, HELP, every series' labels, values and timestamps), independent of family
 * and series order, of the body's encoding (text, protobuf, gzip) and of when it was pushed.
 */
export function pushPlanHash(request: PushRequest): string {
  if (typeof request.contentHash === 'string' && request.contentHash !== '') return request.contentHash;
  const h = createHash('sha256');
  h.update(`push ${request.method}\n${labelsKey(request.group)}\n`);
  const fams = [...request.families].sort((a, b) => cmp(a.name, b.name));
  for (const f of fams) h.update(familyText(f)).update('\n');
  return `p:${h.digest('base64url').slice(0, 22)}`;
}

function familyText(f: MetricFamily): string {
  const series = (f.series as readonly { readonly labels: MetricFamily['series'][number]['labels'] }[]).map(
    (sr) => {
      const { labels: _l, ...values } = sr as Record<string, unknown>;
      return `${labelsKey(sr.labels)}\u0000${safeJson(numbersAsText(values))}`;
    },
  );
  series.sort(cmp);
  return safeJson([f.name, f.type, f.help, series]);
}

/** JSON turns NaN and the infinities into null: numbers are written as their text instead. */
function numbersAsText(v: unknown): unknown {
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(numbersAsText);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, numbersAsText(x)]));
  return v;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
