/**
 * The ingest panel's numbers, read from the store: the pipeline writes its own counters
 * (`accrue_ingest_*`) into the group `{job="accrue", instance=…}` of the same store (docs/ingest.md), so
 * they survive restarts of the service and of the pipeline wherever the store keeps data. Summed over
 * every ingest instance (each Lambda function or `npm start` runner writes its own instance).
 */
import { OWN_JOB } from '../../shared/ingest/pipeline';
import type { StoreSnapshot } from '../../shared/store/types';

export interface IngestTotals {
  /** Ingest instances that have written counters (0: nothing arrived through the queue yet). */
  readonly instances: number;
  readonly eventsAccepted: number;
  readonly eventsRejected: Readonly<Record<string, number>>;
  /** Queue messages by outcome: applied, duplicate, failed (retried by SQS), dead_lettered. */
  readonly messages: Readonly<Record<string, number>>;
  readonly duplicatesSkipped: number;
  /** Newest write of the counters (ms), if any. */
  readonly lastWriteMs?: number;
}

function add(into: Record<string, number>, key: string, n: number): void {
  into[key] = (into[key] ?? 0) + n;
}

export function ingestTotals(snapshot: StoreSnapshot | undefined): IngestTotals {
  const eventsRejected: Record<string, number> = Object.create(null);
  const messages: Record<string, number> = Object.create(null);
  let instances = 0;
  let eventsAccepted = 0;
  let duplicatesSkipped = 0;
  let lastWriteMs: number | undefined;
  for (const g of snapshot?.groups ?? []) {
    if (g.key.job !== OWN_JOB) continue;
    instances++;
    lastWriteMs = Math.max(lastWriteMs ?? 0, g.lastUpdateMs);
    for (const f of g.families) {
      if (f.type !== 'counter') continue;
      for (const s of f.series) {
        if (f.name === 'accrue_ingest_events_accepted_total') eventsAccepted += s.value;
        else if (f.name === 'accrue_ingest_duplicates_skipped_total') duplicatesSkipped += s.value;
        else if (f.name === 'accrue_ingest_events_rejected_total')
          add(eventsRejected, s.labels.reason ?? '', s.value);
        else if (f.name === 'accrue_ingest_messages_total') add(messages, s.labels.outcome ?? '', s.value);
      }
    }
  }
  return {
    instances,
    eventsAccepted,
    eventsRejected: { ...eventsRejected },
    messages: { ...messages },
    duplicatesSkipped,
    ...(lastWriteMs !== undefined ? { lastWriteMs } : {}),
  };
}
