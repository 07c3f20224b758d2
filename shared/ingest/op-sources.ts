/**
 * Which events of a message an aggregated op came from. The decoder pre-aggregates a message into one op
 * per series (shared/ingest/aggregate.ts), so when the store refuses an op, the op's index says nothing to
 * the producer; the DLQ names the events instead (docs/ingest.md "Dead letters").
 *
 * Found only on that rare path, so the hot path keeps no per-event bookkeeping: each accepted non-push
 * event of the message is decoded alone (same group, same options, hence the same clock) and its ops are
 * matched to the refused op by kind, name and labels. An event accepted within its message is accepted
 * alone too (alone it has fewer neighbours to conflict with), and its ops are the same series.
 */
import { labelsKey } from '../model/identity';
import type { MetricOp } from '../store/types';
import type { DecodedMessage } from './decode';

/** At most this many event indexes are listed (the DLQ detail stays under 4 KiB). */
export const MAX_SOURCE_EVENTS = 64;

const opKey = (op: MetricOp): string => `${op.kind}\u0000${op.name}\u0000${labelsKey(op.labels)}`;

/**
 * Indexes (ascending, at most MAX_SOURCE_EVENTS) of the events of `body` whose ops include `op`.
 * `decodeAlone` decodes a one-event body as the message was decoded. Empty when the body is not an
 * envelope (a test decoder's format) or nothing matches.
 */
export function eventsOfOp(
  body: string,
  decoded: DecodedMessage,
  op: MetricOp,
  decodeAlone: (body: string) => DecodedMessage,
): number[] {
  const env = parseEnvelope(body);
  if (env === undefined) return [];
  const refused = new Set(decoded.rejected.map((r) => r.index));
  const want = opKey(op);
  const out: number[] = [];
  for (let i = 0; i < env.events.length && out.length < MAX_SOURCE_EVENTS; i++) {
    const ev = env.events[i] as { kind?: unknown } | null;
    if (refused.has(i) || ev === null || typeof ev !== 'object' || ev.kind === 'push') continue;
    try {
      const alone = decodeAlone(JSON.stringify({ v: env.v, group: env.group, events: [ev] }));
      if (alone.apply.ops.some((o) => opKey(o) === want)) out.push(i);
    } catch {
      // Not decodable alone (cannot happen for an accepted event): not a source.
    }
  }
  return out;
}

function parseEnvelope(body: string): { v: unknown; group: unknown; events: unknown[] } | undefined {
  try {
    const env = JSON.parse(body) as { v?: unknown; group?: unknown; events?: unknown };
    return env && Array.isArray(env.events) ? { v: env.v, group: env.group, events: env.events } : undefined;
  } catch {
    return undefined;
  }
}
