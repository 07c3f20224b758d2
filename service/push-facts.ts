/**
 * What the service learns about one push request, kept beside the request so that each fact is computed
 * once: the grouping key (the path is parsed once per request, whether the push succeeds or is refused),
 * the series count, the refusal reason. The handler, the error handler and the audit line read it.
 */
import type { FastifyRequest } from 'fastify';
import type { NameValidation } from '../shared/model/names';
import { parseGroupingPath } from '../shared/push/path';
import type { ValidGroupingKey } from '../shared/store/types';

export const PUSH_PREFIX = '/metrics/';

interface Facts {
  group?:
    | { readonly ok: true; readonly key: ValidGroupingKey }
    | { readonly ok: false; readonly error: unknown };
  series?: number;
  reason?: string;
  outcome?: string;
}

const facts = new WeakMap<FastifyRequest, Facts>();

function of(req: FastifyRequest): Facts {
  let f = facts.get(req);
  if (f === undefined) {
    f = {};
    facts.set(req, f);
  }
  return f;
}

/** Prefix of the aggregating push endpoint (./routes/aggregate.ts); the grouping path follows it. */
export const AGGREGATE_PREFIX = '/api/v1/accrue/aggregate/';

/** The raw (percent-encoded) part of the URL after `/metrics/` (or the aggregate prefix), without the query. */
export function rawGroupingPath(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  for (const prefix of [PUSH_PREFIX, AGGREGATE_PREFIX])
    if (path.startsWith(prefix)) return path.slice(prefix.length);
  return '';
}

/** The name rules of the request's route (`config.names` of the push route; legacy elsewhere). */
function nameRulesOf(req: FastifyRequest): NameValidation {
  return req.routeOptions?.config?.names ?? 'legacy';
}

/** The request's grouping key, parsed on first use; throws the parse error (the same one every time). */
export function groupOf(req: FastifyRequest): ValidGroupingKey {
  const f = of(req);
  if (f.group === undefined) {
    try {
      f.group = { ok: true, key: parseGroupingPath(rawGroupingPath(req.url), nameRulesOf(req)) };
    } catch (error) {
      f.group = { ok: false, error };
    }
  }
  if (!f.group.ok) throw f.group.error;
  return f.group.key;
}

/** The grouping key when the path is valid, else undefined (never throws). */
export function validGroupOf(req: FastifyRequest): ValidGroupingKey | undefined {
  try {
    return groupOf(req);
  } catch {
    return undefined;
  }
}

export function setSeries(req: FastifyRequest, n: number): void {
  of(req).series = n;
}

export function seriesOf(req: FastifyRequest): number | undefined {
  return facts.get(req)?.series;
}

/** Records how the request ended: a refusal reason, or an outcome such as `stale`. */
export function setOutcome(req: FastifyRequest, outcome: string, reason?: string): void {
  const f = of(req);
  f.outcome = outcome;
  if (reason !== undefined) f.reason = reason;
}

export function outcomeOf(req: FastifyRequest): { outcome?: string; reason?: string } {
  const f = facts.get(req);
  return { outcome: f?.outcome, reason: f?.reason };
}
