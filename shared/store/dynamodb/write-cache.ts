/**
 * What a store instance remembers between writes to avoid reads and cancelled transactions. Every entry
 * is a guess that a transaction's condition checks: a wrong one cancels it and is corrected
 * (./apply-cancel.ts), so the caches make writes cheaper, never wrong.
 */
import { newerSet } from '../../model/gauge';
import type { SchemaEntry } from './assemble';

export class WriteCache {
  /** Family schemas seen; they change only when a family has no series left (or on wipe), and every
   *  write creating a series re-checks the schema item in its transaction, so a stale entry is caught. */
  readonly schemas = new Map<string, SchemaEntry>();
  /** Series known to exist (true) or not (false); a wrong guess fails a condition and is corrected. */
  readonly exists = new Map<string, boolean>();
  /** Series known to live in a pack (./packs.ts) rather than their own item. */
  readonly packed = new Set<string>();
  /** Packs (`<gpk>|<pack sk>`) known to have no room for another series: new series get their own item. */
  readonly packFull = new Set<string>();
  /** Newest lastEventMs known per group, so that older event times don't cancel transactions. */
  readonly eventFloor = new Map<string, number>();
  /** Series whose stored value DynamoDB can't add to (NaN, infinities, beyond its range): read-modify-write. */
  readonly bigValue = new Set<string>();
  /** Newest gauge set known per series (time, value): older sets are dropped before they cancel a transaction. */
  readonly setFloor = new Map<string, { readonly timeMs: number; readonly value: number }>();
  /** Groups whose meta item is known to exist (true) or not (false): a new one is counted (./group-count.ts). */
  readonly groupExists = new Map<string, boolean>();
  /** Groups whose meta item was a DELETE tombstone when read: the next apply revives it (writes the meta item). */
  readonly tombstoned = new Set<string>();
  /**
   * Native layout of series whose stored layout differed from an apply's (learnt from a cancelled
   * transaction): later applies are reduced into it, or rewrite the item (`pushed`: a pushed `nh` attribute).
   * Series not listed are assumed to have the layout of the ops written to them (a condition checks it).
   */
  readonly nativeLayout = new Map<string, { schema: number; zeroThreshold: number } | 'pushed'>();
  /** Series stored without native buckets (created before their histogram was declared native): observations
   *  with native buckets add their classic part only (`classicPartOf`). */
  readonly classicOnly = new Set<string>();
  /** Series whose next native ADD would pass the bucket cap (or whose item has no bound): rewritten next. */
  readonly nativeFull = new Set<string>();

  noteSet(key: string, timeMs: number, value: number): void {
    const cur = this.setFloor.get(key);
    if (!cur || newerSet({ timeMs, value }, cur)) this.setFloor.set(key, { timeMs, value });
  }

  /** Forgets what is known of one series (`<gpk>|<sk>`): it was replaced or removed. */
  forgetSeries(key: string): void {
    this.exists.delete(key);
    this.packed.delete(key);
    this.setFloor.delete(key);
    this.bigValue.delete(key);
    this.nativeLayout.delete(key);
    this.classicOnly.delete(key);
    this.nativeFull.delete(key);
  }

  clear(): void {
    this.schemas.clear();
    this.exists.clear();
    this.packed.clear();
    this.packFull.clear();
    this.setFloor.clear();
    this.bigValue.clear();
    this.eventFloor.clear();
    this.groupExists.clear();
    this.tombstoned.clear();
    this.nativeLayout.clear();
    this.classicOnly.clear();
    this.nativeFull.clear();
  }
}
