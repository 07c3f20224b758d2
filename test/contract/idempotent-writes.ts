/**
 * Contract cases (part of the one store suite, store-contract.ts): pushes with an idempotency key and
 * apply requests carrying their sender's content hash, through the ledger `apply()` uses.
 */
import { AccrueError, FamilyConflictError } from '../../shared/model/errors';
import type { PushRequest, Store } from '../../shared/store/types';
import { validApplies, validPush } from '../support/edge';
import { counterFamily, findGroup, gaugeFamily, inc, req, seriesValue, set, thrown } from './helpers';

const G = { job: 'idem', instance: 'a' } as const;

export interface IdempotentWriteCaseOptions {
  readonly c: (title: string, fn: () => Promise<void>) => void;
  readonly newStore: () => Promise<Store>;
  /**
   * Optional: makes the next push of ledger id `id` fail transiently after its content was written
   * (before its ledger entry is settled). Without it, that case is skipped.
   */
  readonly injectPushFault?: (store: Store, id: string) => void;
}

const put = (id: string | undefined, pushTimeMs: number, value: number, name = 'g'): PushRequest => ({
  method: 'PUT',
  group: G,
  pushTimeMs,
  families: [gaugeFamily(name, [[{}, value]])],
  ...(id === undefined ? {} : { id }),
});

export function idempotentWriteCases({ c, newStore, injectPushFault }: IdempotentWriteCaseOptions): void {
  describe('pushes with an idempotency key', () => {
    c('a repeated key with the same content is a duplicate and changes nothing', async () => {
      const s = await newStore();
      expect(await s.push(validPush(put('k1', 100, 1)))).toEqual({ status: 'applied' });
      // Same content, later time (an HTTP retry): not applied again, push time unchanged.
      expect(await s.push(validPush(put('k1', 200, 1)))).toEqual({ status: 'duplicate', first: 'applied' });
      const g = findGroup(await s.snapshot(), G)!;
      expect(g.lastPushMs).toBe(100);
      expect(seriesValue(await s.snapshot(), G, 'g')).toBe(1);
    });

    c('a duplicate does not undo a newer push made in between', async () => {
      const s = await newStore();
      await s.push(validPush(put('k1', 100, 1)));
      await s.push(validPush(put(undefined, 150, 2)));
      expect((await s.push(validPush(put('k1', 200, 1)))).status).toBe('duplicate');
      expect(seriesValue(await s.snapshot(), G, 'g')).toBe(2);
    });

    c('a repeated key with other content is refused (redelivery_mismatch) and changes nothing', async () => {
      const s = await newStore();
      await s.push(validPush(put('k1', 100, 1)));
      for (const other of [put('k1', 200, 9), { ...put('k1', 200, 1), method: 'POST' as const }]) {
        const e = await thrown(() => s.push(validPush(other)));
        expect(e).toBeInstanceOf(AccrueError);
        expect((e as AccrueError).reason).toBe('redelivery_mismatch');
      }
      const del = await thrown(() =>
        s.push(validPush({ method: 'DELETE', group: G, pushTimeMs: 300, families: [], id: 'k1' })),
      );
      expect((del as AccrueError).reason).toBe('redelivery_mismatch');
      const snap = await s.snapshot();
      expect(seriesValue(snap, G, 'g')).toBe(1);
      expect(findGroup(snap, G)!.lastPushMs).toBe(100);
    });

    c('the content hash ignores family and series order', async () => {
      const s = await newStore();
      const a = counterFamily('a_total', [
        [{ x: '1' }, 1],
        [{ x: '2' }, 2],
      ]);
      const b = gaugeFamily('b', [[{}, 3]]);
      await s.push(validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [a, b], id: 'k' }));
      const a2 = { ...a, series: [...a.series].reverse() };
      const r = await s.push(
        validPush({ method: 'PUT', group: G, pushTimeMs: 200, families: [b, a2], id: 'k' }),
      );
      expect(r.status).toBe('duplicate');
    });

    c('a refused push does not consume its key; the fixed retry applies', async () => {
      const s = await newStore();
      await s.apply(validApplies([req('m1', { job: 'other' }, [inc('conflict', {}, 1)])]));
      const bad: PushRequest = { ...put('k2', 100, 1, 'conflict') };
      expect(await thrown(() => s.push(validPush(bad)))).toBeInstanceOf(FamilyConflictError);
      expect(await thrown(() => s.push(validPush(bad)))).toBeInstanceOf(FamilyConflictError);
      // The same key may now carry the corrected push.
      expect((await s.push(validPush(put('k2', 200, 5)))).status).toBe('applied');
      expect(seriesValue(await s.snapshot(), G, 'g')).toBe(5);
    });

    c('a stale push consumes its key; its repeat answers as the first did', async () => {
      const s = await newStore();
      await s.push(validPush(put(undefined, 500, 1)));
      expect(await s.push(validPush(put('k3', 100, 2)))).toEqual({ status: 'stale' });
      expect(await s.push(validPush(put('k3', 900, 2)))).toEqual({ status: 'duplicate', first: 'stale' });
      expect(seriesValue(await s.snapshot(), G, 'g')).toBe(1);
    });

    c('DELETE with a key is applied once: a retry after a newer PUT keeps the new group', async () => {
      const s = await newStore();
      await s.push(validPush(put(undefined, 100, 1)));
      const del: PushRequest = { method: 'DELETE', group: G, pushTimeMs: 200, families: [], id: 'd1' };
      expect((await s.push(validPush(del))).status).toBe('applied');
      await s.push(validPush(put(undefined, 300, 7)));
      expect((await s.push(validPush({ ...del, pushTimeMs: 400 }))).status).toBe('duplicate');
      expect(seriesValue(await s.snapshot(), G, 'g')).toBe(7);
    });

    c('concurrent repeats of one key end as one push', async () => {
      const s = await newStore();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => s.push(validPush(put('k4', 100 + i, 3)))),
      );
      expect(results.every((r) => r.status === 'applied' || r.status === 'duplicate')).toBe(true);
      const g = findGroup(await s.snapshot(), G)!;
      expect(seriesValue(await s.snapshot(), G, 'g')).toBe(3);
      // Whoever wrote, the push keeps the time of the attempt that claimed the key.
      expect(g.lastPushMs).toBeGreaterThanOrEqual(100);
      expect(g.lastPushMs).toBeLessThan(108);
    });

    c('push keys and apply ids share one ledger: a key used by one is refused by the other', async () => {
      const s = await newStore();
      await s.push(validPush(put('shared', 100, 1)));
      const [r] = await s.apply(validApplies([req('shared', G, [inc('c_total', {}, 1)])]));
      expect(r!.status).toBe('failed');
      expect((r as { error: AccrueError }).error.reason).toBe('redelivery_mismatch');
      await s.apply(validApplies([req('shared2', G, [inc('c_total', {}, 1)])]));
      const e = await thrown(() => s.push(validPush(put('shared2', 200, 1))));
      expect((e as AccrueError).reason).toBe('redelivery_mismatch');
      expect(seriesValue(await s.snapshot(), G, 'c_total')).toBe(1);
    });

    c('a push interrupted after its write is completed by its retry, at its own push time', async () => {
      if (!injectPushFault) return;
      const s = await newStore();
      await s.push(validPush(put(undefined, 50, 0)));
      injectPushFault(s, 'k5');
      const e = await thrown(() => s.push(validPush(put('k5', 100, 1))));
      expect((e as AccrueError).permanent).toBe(false);
      // A newer push lands before the retry: the retry must not undo it.
      await s.push(validPush(put(undefined, 150, 2, 'h')));
      const r = await s.push(validPush(put('k5', 300, 1)));
      expect(r.status).toBe('stale');
      let snap = await s.snapshot();
      expect(seriesValue(snap, G, 'h')).toBe(2);
      expect(findGroup(snap, G)!.lastPushMs).toBe(150);
      // Settled now: a further repeat is a duplicate of that outcome.
      expect(await s.push(validPush(put('k5', 400, 1)))).toEqual({ status: 'duplicate', first: 'stale' });
      // Interrupted with nothing newer: the retry completes the push at its first time.
      injectPushFault(s, 'k6');
      await thrown(() => s.push(validPush(put('k6', 500, 6))));
      expect((await s.push(validPush(put('k6', 600, 6)))).status).toBe('applied');
      snap = await s.snapshot();
      expect(seriesValue(snap, G, 'g')).toBe(6);
      expect(findGroup(snap, G)!.lastPushMs).toBe(500);
    });
  });

  describe('apply requests with a content hash', () => {
    c(
      'a retry with other ops but the same content hash is a duplicate; another hash is refused',
      async () => {
        const s = await newStore();
        const first = {
          ...req('h1', G, [inc('n_total', {}, 2), set('t', {}, 5, 1000)]),
          contentHash: 'body-A',
        };
        const retry = {
          ...req('h1', G, [inc('n_total', {}, 2), set('t', {}, 5, 2000)]),
          contentHash: 'body-A',
        };
        const other = {
          ...req('h1', G, [inc('n_total', {}, 2), set('t', {}, 5, 1000)]),
          contentHash: 'body-B',
        };
        expect((await s.apply(validApplies([first])))[0]!.status).toBe('applied');
        expect((await s.apply(validApplies([retry])))[0]!.status).toBe('duplicate');
        const [r] = await s.apply(validApplies([other]));
        expect(r!.status).toBe('failed');
        expect((r as { error: AccrueError }).error.reason).toBe('redelivery_mismatch');
        expect(seriesValue(await s.snapshot(), G, 'n_total')).toBe(2);
      },
    );
  });
}
