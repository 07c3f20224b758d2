/**
 * Contract cases (part of the one store suite, store-contract.ts): dead-letter claims, which make a
 * message's dead letters go to the DLQ once although SQS delivers it to two invocations at the same time
 * (docs/ingest.md "One DLQ copy per message"). First the store's claim itself, then the whole pipeline
 * (processBatch with this store) running two deliveries of one message at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { deadLetterKey } from '../../shared/ingest/dead-letter-claims';
import { type DeadLetterEntry, type IngestRecord, processBatch } from '../../shared/ingest/pipeline';
import { ARIA_PROFILE } from '../../shared/profiles';
import type { Store } from '../../shared/store/types';
import { validApplies } from '../support/edge';
import { FakeClock, inc, req, seriesValue } from './helpers';

export interface DeadLetterClaimCaseOptions {
  readonly c: (title: string, fn: () => Promise<void>) => void;
  readonly newStore: (o?: { readonly now?: () => number }) => Promise<Store>;
  readonly openPeer?: (store: Store, options?: { readonly now?: () => number }) => Promise<Store>;
}

const LEASE = 60_000;
const G = { job: 'dlq', instance: 'a' } as const;

/** A DLQ that answers after `ms`, so two deliveries' sends overlap. */
class SlowSink {
  readonly sent: DeadLetterEntry[] = [];
  constructor(private readonly ms: number) {}
  async send(entries: readonly DeadLetterEntry[]): Promise<{ failed: number[] }> {
    await sleep(this.ms);
    this.sent.push(...entries);
    return { failed: [] };
  }
}

export function deadLetterClaimCases({ c, newStore, openPeer }: DeadLetterClaimCaseOptions): void {
  describe('dead-letter claims: one DLQ copy per message', () => {
    c('of claims made at the same time, from this process and another, exactly one wins', async () => {
      const s = await newStore();
      const peer = openPeer ? await openPeer(s) : s;
      const key = deadLetterKey('m-1', 'body', 'sender/msg-1');
      const got = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? peer : s).claimDeadLetters(key, LEASE)),
      );
      expect(got.filter((g) => g.state === 'claimed')).toHaveLength(1);
      expect(got.filter((g) => g.state === 'held')).toHaveLength(5);
      if (peer !== s) await peer.close();
    });

    c('a key settled as sent answers `sent` to every later claim, lease or not', async () => {
      const clock = new FakeClock();
      const s = await newStore({ now: clock.now });
      const key = deadLetterKey('m-1', 'body', 'sender/msg-1');
      const first = await s.claimDeadLetters(key, LEASE);
      if (first.state !== 'claimed') throw new Error(`claim: ${first.state}`);
      await s.settleDeadLetters(key, first.token, true);
      clock.advance(10 * LEASE);
      expect(await s.claimDeadLetters(key, LEASE)).toEqual({ state: 'sent' });
      if (openPeer) {
        const peer = await openPeer(s, { now: clock.now });
        expect(await peer.claimDeadLetters(key, LEASE)).toEqual({ state: 'sent' });
        await peer.close();
      }
      // Another message under the same idempotency key (other bytes) has its own dead letters.
      expect((await s.claimDeadLetters(deadLetterKey('m-2', 'other', 'sender/msg-1'), LEASE)).state).toBe(
        'claimed',
      );
    });

    c('a released claim (the DLQ refused) is won by the next claim at once', async () => {
      const s = await newStore();
      const key = deadLetterKey('m-1', 'x', undefined);
      const first = await s.claimDeadLetters(key, LEASE);
      if (first.state !== 'claimed') throw new Error(`claim: ${first.state}`);
      await s.settleDeadLetters(key, first.token, false);
      expect((await s.claimDeadLetters(key, LEASE)).state).toBe('claimed');
    });

    c('a claim older than its lease is taken over, and its late settle changes nothing', async () => {
      const clock = new FakeClock();
      const s = await newStore({ now: clock.now });
      const key = deadLetterKey('m-1', 'x', 'k');
      const dead = await s.claimDeadLetters(key, LEASE);
      if (dead.state !== 'claimed') throw new Error(`claim: ${dead.state}`);
      clock.advance(LEASE - 1);
      expect(await s.claimDeadLetters(key, LEASE)).toEqual({ state: 'held' });
      clock.advance(2);
      const next = await s.claimDeadLetters(key, LEASE);
      if (next.state !== 'claimed') throw new Error(`takeover: ${next.state}`);
      expect(next.token).not.toBe(dead.token);
      // The first claimer wakes up: neither its release nor its `sent` touches the live claim.
      await s.settleDeadLetters(key, dead.token, false);
      await s.settleDeadLetters(key, dead.token, true);
      expect(await s.claimDeadLetters(key, LEASE)).toEqual({ state: 'held' });
      await s.settleDeadLetters(key, next.token, true);
      expect(await s.claimDeadLetters(key, LEASE)).toEqual({ state: 'sent' });
    });

    c('claims and the apply ledger are apart: neither makes the other a duplicate', async () => {
      const s = await newStore();
      const key = deadLetterKey('m-1', 'body', 'msg-1');
      const claim = await s.claimDeadLetters(key, LEASE);
      if (claim.state !== 'claimed') throw new Error(`claim: ${claim.state}`);
      await s.settleDeadLetters(key, claim.token, true);
      const [r] = await s.apply(validApplies([req('msg-1', G, [inc('c_total', {}, 2)])]));
      expect(r!.status).toBe('applied');
      expect(seriesValue(await s.snapshot(), G, 'c_total')).toBe(2);
      expect((await s.claimDeadLetters(deadLetterKey('m-9', 'b', 'msg-2'), LEASE)).state).toBe('claimed');
    });

    c(
      'two deliveries of a message with an invalid event at the same time: one DLQ copy, counted once',
      async () => {
        const s = await newStore();
        const sink = new SlowSink(50);
        const body = JSON.stringify({
          v: 1,
          id: 'twice-1',
          group: G,
          events: [
            { kind: 'counter', time: Date.now(), name: 'c_total', labels: {}, value: 3 },
            { kind: 'counter', time: Date.now(), name: 'c_total', labels: {}, value: -1 },
          ],
        });
        const delivery = (n: number): IngestRecord => ({
          messageId: 'sqs-twice-1',
          body,
          receiveCount: n,
          receiptHandle: `rh-${n}`,
          attributes: { SenderId: 'AIDATEST', SentTimestamp: String(Date.now()) },
        });
        const run = (n: number) =>
          processBatch([delivery(n)], {
            store: s,
            profile: ARIA_PROFILE,
            deadLetters: sink,
            logger: { debug() {}, info() {}, warn() {}, error() {} },
            now: Date.now,
            instance: 'contract',
            ownMetrics: false,
          });
        const both = await Promise.all([run(1), run(2)]);
        expect(sink.sent).toHaveLength(1);
        expect(sink.sent[0]).toMatchObject({ reason: 'invalid', detail: { stage: 'event', index: 1 } });
        // The delivery that found the other's claim live is retried; its retry finds the letters sent.
        const retried = both.filter((b) => b.batchItemFailures.length > 0);
        expect(retried.length).toBeLessThanOrEqual(1);
        const again = await run(3);
        expect(again.batchItemFailures).toEqual([]);
        expect(again.stats.outcomes.duplicate).toBe(1);
        expect(sink.sent).toHaveLength(1);
        const rejected = [...both, again].map((b) => b.stats.rejected.invalid ?? 0);
        expect(rejected.reduce((a, b) => a + b, 0)).toBe(1);
        expect(seriesValue(await s.snapshot(), G, 'c_total')).toBe(3);
      },
    );
  });
}
