/** A group's times and last failure reason, as GroupState and GroupInfo carry them (absent fields stay absent). */
import type { GroupState } from './types';

export type GroupTimes = Pick<
  GroupState,
  'lastPushMs' | 'lastPushFailureMs' | 'lastFailureReason' | 'lastEventMs' | 'lastUpdateMs'
>;

export function groupTimes(g: GroupTimes): GroupTimes {
  return {
    ...(g.lastPushMs !== undefined ? { lastPushMs: g.lastPushMs } : {}),
    ...(g.lastPushFailureMs !== undefined ? { lastPushFailureMs: g.lastPushFailureMs } : {}),
    ...(g.lastFailureReason !== undefined ? { lastFailureReason: g.lastFailureReason } : {}),
    ...(g.lastEventMs !== undefined ? { lastEventMs: g.lastEventMs } : {}),
    lastUpdateMs: g.lastUpdateMs,
  };
}
