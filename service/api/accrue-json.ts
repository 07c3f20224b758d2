/**
 * `GET /api/v1/accrue/metrics`: Accrue's own JSON view of the groups, richer than the Pushgateway's
 * `/api/v1/metrics` (which keeps the Pushgateway's shape): push, failure, event and update times, the last
 * failure's reason, and per family its type, HELP and series count (not the samples).
 */
import type { GroupState, StoreSnapshot } from '../../shared/store/types';
import { lastPushSuccessful } from './pushgateway-json';

export interface AccrueGroupView {
  readonly labels: Record<string, string>;
  readonly last_push_time: string | null;
  readonly last_push_failure_time: string | null;
  readonly last_failure_reason: string | null;
  readonly last_event_time: string | null;
  readonly last_update_time: string | null;
  readonly last_push_successful: boolean;
  readonly families: readonly { name: string; type: string; help: string; series: number }[];
}

export function accrueGroupsData(snapshot: StoreSnapshot): AccrueGroupView[] {
  return snapshot.groups.map(groupView);
}

function groupView(g: GroupState): AccrueGroupView {
  return {
    labels: { ...g.key },
    last_push_time: iso(g.lastPushMs),
    last_push_failure_time: iso(g.lastPushFailureMs),
    last_failure_reason: g.lastFailureReason ?? null,
    last_event_time: iso(g.lastEventMs),
    last_update_time: iso(g.lastUpdateMs),
    last_push_successful: lastPushSuccessful(g),
    families: g.families.map((f) => ({ name: f.name, type: f.type, help: f.help, series: f.series.length })),
  };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}
