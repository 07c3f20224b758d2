/**
 * The soak's verdict: every check (queue drained, producers lost nothing, every series exact, nothing lost
 * or doubled, dead letters exactly the malformed messages and invalid events, each fault kind injected,
 * enough messages faulted, RSS bounded).
 */
import type { ExpectedTotals, SoakCheck } from './expected';
import { FAULT_KINDS, type FaultLog } from './faults';
import type { DeadLetterMsg } from './queues';
import type { RssSummary } from './rss';

export interface ProducerTotals {
  eventsSent: number;
  eventsFailed: number;
  eventsDropped: number;
  messagesSent: number;
  messagesRetried: number;
}

export interface VerifyInput {
  readonly drained: boolean;
  readonly published: number;
  readonly producer: ProducerTotals;
  readonly publisherErrors: readonly string[];
  readonly compared: ReturnType<ExpectedTotals['compare']>;
  readonly dead: readonly DeadLetterMsg[];
  readonly raw: { readonly malformed: ReadonlySet<string>; readonly mixed: ReadonlySet<string> };
  readonly faults: FaultLog;
  readonly faultRate: number;
  /** Messages that met a fault, over all messages sent. */
  readonly faultedMessageShare: number;
  readonly totalMessages: number;
  readonly rss: RssSummary;
  readonly rssLimitMiB: number;
  /** Checks of the shapes that run apart from the compared series (killed pushes). */
  readonly extra: readonly SoakCheck[];
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
  a.size === b.size && [...a].every((x) => b.has(x));

export function deadLettersByReason(dead: readonly DeadLetterMsg[]): Record<string, number> {
  const byReason: Record<string, number> = {};
  for (const d of dead) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
  return byReason;
}

export function soakChecks(v: VerifyInput): SoakCheck[] {
  const checks: SoakCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const p = v.producer;
  check('queue drained', v.drained, v.drained ? 'depth 0' : 'messages left on the queue at the deadline');
  check(
    'producer sent every event',
    p.eventsSent === v.published && p.eventsFailed === 0 && p.eventsDropped === 0,
    `published ${v.published}, sent ${p.eventsSent}, failed ${p.eventsFailed}, dropped ${p.eventsDropped}${v.publisherErrors.length ? `; ${v.publisherErrors[0]}` : ''}`,
  );
  checks.push(...v.compared.checks);
  check('zero lost', v.compared.lost === 0, `${v.compared.lost} events lost`);
  check('zero double counted', v.compared.doubled === 0, `${v.compared.doubled} events counted twice`);
  checks.push(...v.extra);
  const byReason = deadLettersByReason(v.dead);
  const wholeSources = new Set(v.dead.filter((d) => d.stage === 'decode').map((d) => d.source));
  const eventSources = new Set(v.dead.filter((d) => d.stage !== 'decode').map((d) => d.source));
  check(
    'every malformed message dead-lettered whole',
    sameSet(wholeSources, v.raw.malformed),
    `${v.raw.malformed.size} sent, ${wholeSources.size} distinct in the DLQ`,
  );
  check(
    'every invalid event dead-lettered alone',
    sameSet(eventSources, v.raw.mixed),
    `${v.raw.mixed.size} mixed messages sent, ${eventSources.size} distinct sources in the DLQ`,
  );
  check(
    'nothing redriven by the queue',
    (byReason['(redriven by the queue)'] ?? 0) === 0,
    `${byReason['(redriven by the queue)'] ?? 0} messages without an Accrue reason`,
  );
  if (v.faultRate > 0)
    for (const k of FAULT_KINDS.filter((x) => v.faults.enabled.has(x)))
      check(`fault injected: ${k}`, v.faults.counts[k] > 0, `${v.faults.counts[k]} times`);
  if (v.faultRate >= 0.1 && v.faults.enabled.size >= FAULT_KINDS.length)
    check(
      'at least 10% of messages met a fault',
      v.faultedMessageShare >= 0.1,
      `${v.faults.faulted.size} of ${v.totalMessages} (${(v.faultedMessageShare * 100).toFixed(1)}%)`,
    );
  check('RSS bounded', v.rss.maxMiB <= v.rssLimitMiB, `max ${v.rss.maxMiB} MiB (limit ${v.rssLimitMiB})`);
  return checks;
}
