/**
 * Pushes with an idempotency key in the memory store: the ledger entry of a push (the same maps as
 * `apply()`'s: id → time, id → plan) keeps its content hash and what it did, so a repeat is answered
 * as the first attempt was. The memory store checks and records in one synchronous step, so a push
 * can't be interrupted between its write and its entry (the journal record carries both).
 */
import { redeliveryMismatch } from '../plan';
import type { PushResult } from '../types';
import { type MemoryState, pruneLedger } from './state';

export type SettledPush = 'applied' | 'stale';

/** The plan-map value of a settled push: `<content hash> <outcome>` (an apply's plan hash has no space). */
export function pushLedgerValue(hash: string, outcome: SettledPush): string {
  return `${hash} ${outcome}`;
}

/**
 * What the ledger knows of push `id`: undefined when nothing, a `duplicate` when the same content was
 * pushed; throws `redelivery_mismatch` when the id holds other content (another push, or an apply).
 */
export function knownPush(
  ledger: ReadonlyMap<string, number>,
  plans: ReadonlyMap<string, string>,
  id: string,
  hash: string,
): PushResult | undefined {
  if (!ledger.has(id)) return undefined;
  const [h, outcome] = (plans.get(id) ?? '').split(' ');
  if (h !== hash || (outcome !== 'applied' && outcome !== 'stale')) throw redeliveryMismatch(id);
  return { status: 'duplicate', first: outcome };
}

/** Records a settled push with a key in the ledger (the maps applies use). */
export function rememberPush(st: MemoryState, id: string, value: string, now: number): void {
  st.ledger.set(id, now);
  st.plans.set(id, value);
  pruneLedger(st, now);
}
