/**
 * Dead-letter claims in the memory store (`Store.claimDeadLetters` / `settleDeadLetters`). A live claim is
 * process state (a crash forgets it, as a lapsed lease would); a `sent` key is a ledger entry (the maps
 * `apply()` uses, journaled as an apply record without ops), so a redelivery after a restart still finds it.
 */
import type { DeadLetterClaim } from '../types';
import { encApplyRecord } from './codec';
import { type MemoryState, pruneLedger } from './state';

/** The plan-map value of a key whose dead letters are sent (an apply's plan hash and a push's have no `dead`). */
const SENT = 'dead-letters sent';

let tokens = 0;

export function claimDeadLetters(st: MemoryState, key: string, leaseMs: number): DeadLetterClaim {
  if (st.ledger.has(key) && st.plans.get(key) === SENT) return { state: 'sent' };
  const now = st.now();
  const live = st.deadLetterClaims.get(key);
  if (live && now - live.at < leaseMs) return { state: 'held' };
  const token = `t${++tokens}`;
  st.deadLetterClaims.set(key, { token, at: now });
  return { state: 'claimed', token };
}

/** Ends the caller's claim; returns whether a journal record was appended (to be committed). */
export function settleDeadLetters(st: MemoryState, key: string, token: string, sent: boolean): boolean {
  if (st.deadLetterClaims.get(key)?.token !== token) return false;
  st.deadLetterClaims.delete(key);
  if (!sent) return false;
  const now = st.now();
  st.ledger.set(key, now);
  st.plans.set(key, SENT);
  pruneLedger(st, now);
  st.journal?.append(`a${encApplyRecord(key, {}, now, undefined, [], SENT)}`);
  return true;
}
