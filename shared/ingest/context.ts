/**
 * The per-message state the event mappers share (map.ts for profile events, map-generic.ts for generic
 * ones), and the one rule for an event's time: validated by `timeProblem`, applied by `appliedTime`.
 */
import type { CompiledProfile } from '../profiles/types';
import type { GroupingKey } from '../store/types';
import type { Aggregator } from './aggregate';
import type { Failure } from './errors';
import type { KindCache } from './map';
import type { FamilyEntry } from './map-generic';

/** Per-message state shared by the event functions. */
export interface MessageContext {
  readonly agg: Aggregator;
  readonly profile: CompiledProfile;
  readonly group: GroupingKey;
  readonly groupLabelCount: number;
  readonly maxLabelValueLength: number;
  readonly maxLabelsPerSeries: number;
  /** Largest event time accepted: the end of the Date range. */
  readonly maxTimeMs: number;
  /**
   * Latest event time applied: the message's clock (SQS `SentTimestamp`) plus the allowed skew
   * (ACCRUE_MAX_EVENT_FUTURE_MS). Later times are clamped to it, not refused (docs/security.md).
   */
  readonly clampTimeMs: number;
  /** Accepted events whose time was clamped. */
  clamped: number;
  /** Scratch space for field values of the current event. */
  readonly scratch: unknown[];
  /** Enum value indexes of the current event's enum fields. */
  readonly enumIdx: number[];
  /** Label key parts of the current emit. */
  readonly parts: string[];
  /** Per compiled kind (by index): its series cache for this message. */
  readonly kindCaches: (KindCache | undefined)[];
  /** Generic families defined by this message, by name. */
  readonly generic: Map<string, FamilyEntry>;
  nextSlot: number;
  /** Per domain kind: a problem that rejects every event of the kind in this message (group collisions). */
  readonly kindProblems: (Failure | null | undefined)[];
  /** Newest accepted event time. */
  maxEventTime: number;
}

/** The one rule for an event's `time` (the decoder's, and the client's: shared/client/validate.ts). */
export function timeProblem(t: unknown, ctx: Pick<MessageContext, 'maxTimeMs'>): string | undefined {
  if (typeof t !== 'number')
    return t === undefined ? 'is required' : 'must be a number (milliseconds since the Unix epoch)';
  if (!Number.isInteger(t)) return 'must be an integer (milliseconds since the Unix epoch)';
  if (t < 0) return 'must be >= 0';
  if (t > ctx.maxTimeMs) return `must be <= ${ctx.maxTimeMs} (end of the Date range)`;
  return undefined;
}

/**
 * A valid event time as applied: at most the message's clock plus the allowed skew. A producer's clock
 * can't pin a gauge or a group ahead of everyone else's data (docs/security.md "The producer trust model").
 */
export function appliedTime(t: number, ctx: MessageContext): number {
  if (t <= ctx.clampTimeMs) return t;
  ctx.clamped++;
  return ctx.clampTimeMs;
}
