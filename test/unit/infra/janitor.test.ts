/** The janitor: expires groups past the TTL through the Store interface and logs what went (store faked). */
import { MAX_LOGGED_KEYS, runJanitor } from '../../../shared/store/janitor';
import type { GroupingKey, Store } from '../../../shared/store/types';
import { validApplies } from '../../support/edge';

function fakeStore(expired: GroupingKey[]) {
  const calls: [number, number][] = [];
  const store = {
    expire: async (nowMs: number, ttlMs: number) => {
      calls.push([nowMs, ttlMs]);
      return expired;
    },
  } as unknown as Store;
  return { store, calls };
}

function logSink() {
  const entries: { message: string; fields: Record<string, unknown> }[] = [];
  return {
    entries,
    log: { info: (message: string, fields: Record<string, unknown>) => entries.push({ message, fields }) },
  };
}

const NOW = 1_780_000_000_000;

describe('runJanitor', () => {
  it.each<[string, GroupingKey[]]>([
    ['no group', []],
    ['one group', [{ job: 'aria-engine', instance: 'a1' }]],
    ['keys with hostile label values', [{ job: 'x"\n\\', instance: '__proto__' }, { job: 'constructor' }]],
  ])('calls store.expire(now, ttl) and logs %s', async (_name, expired) => {
    const { store, calls } = fakeStore(expired);
    const { entries, log } = logSink();
    const result = await runJanitor({ store, ttlMs: 3_600_000, now: () => NOW, log });
    expect(calls).toEqual([[NOW, 3_600_000]]);
    expect(result).toEqual({ skipped: false, expired: expired.length, groups: expired });
    expect(entries).toEqual([
      {
        message: `expired ${expired.length} group(s)`,
        fields: {
          ttlMs: 3_600_000,
          cutoffMs: NOW - 3_600_000,
          expired: expired.length,
          groups: expired,
          truncated: false,
        },
      },
    ]);
  });

  it('does nothing when the group TTL is off (0)', async () => {
    const { store, calls } = fakeStore([{ job: 'x' }]);
    const { entries, log } = logSink();
    const result = await runJanitor({ store, ttlMs: 0, now: () => NOW, log });
    expect(calls).toEqual([]);
    expect(result).toEqual({ skipped: true, expired: 0, groups: [] });
    expect(entries[0]?.message).toMatch(/group TTL is off/);
  });

  it('caps the keys written to one log entry but counts all', async () => {
    const many = Array.from({ length: MAX_LOGGED_KEYS + 50 }, (_, i) => ({ job: `j${i}` }));
    const { store } = fakeStore(many);
    const { entries, log } = logSink();
    const result = await runJanitor({ store, ttlMs: 1000, now: () => NOW, log });
    expect(result.expired).toBe(MAX_LOGGED_KEYS + 50);
    expect(entries[0]?.fields['groups']).toHaveLength(MAX_LOGGED_KEYS);
    expect(entries[0]?.fields['truncated']).toBe(true);
  });

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY])('rejects a TTL of %s ms', async (ttlMs) => {
    const { store, calls } = fakeStore([]);
    await expect(runJanitor({ store, ttlMs, now: () => NOW, log: logSink().log })).rejects.toThrow(
      /ACCRUE_GROUP_TTL_SECONDS: must be a non-negative number of seconds/,
    );
    expect(calls).toEqual([]);
  });

  it('lets a store failure propagate (the Lambda fails, the errors alarm fires)', async () => {
    const store = {
      expire: async () => {
        throw new Error('throttled');
      },
    } as unknown as Store;
    await expect(runJanitor({ store, ttlMs: 1000, now: () => NOW, log: logSink().log })).rejects.toThrow(
      'throttled',
    );
  });
});

describe('runJanitor against the real memory store', () => {
  it('expires only the groups not updated within the TTL', async () => {
    const { MemoryStore } = await import('../../../shared/store/memory');
    let clock = NOW - 2 * 3_600_000;
    const store = await MemoryStore.open({ now: () => clock });
    try {
      const inc = (job: string, id: string) =>
        store.apply(
          validApplies([
            { id, group: { job }, ops: [{ kind: 'counter_inc', name: 'x_total', labels: {}, value: 1 }] },
          ]),
        );
      await inc('stale', 'm1');
      clock = NOW - 60_000;
      await inc('fresh', 'm2');
      const { entries, log } = logSink();
      const result = await runJanitor({ store, ttlMs: 3_600_000, now: () => NOW, log });
      expect(result.groups).toEqual([{ job: 'stale' }]);
      expect((await store.listGroups()).map((g) => g.key)).toEqual([{ job: 'fresh' }]);
      expect(entries[0]?.fields['expired']).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe('janitor handler (functions/janitor/index.ts)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('opens the configured store, expires with ACCRUE_GROUP_TTL_SECONDS and returns the result', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { MemoryStore } = await import('../../../shared/store/memory');
    const dir = mkdtempSync(path.join(tmpdir(), 'accrue-janitor-'));
    try {
      const old = await MemoryStore.open({ dir, now: () => Date.now() - 3_600_000 });
      await old.apply(
        validApplies([
          {
            id: 'm1',
            group: { job: 'gone', instance: 'a"\n' },
            ops: [{ kind: 'gauge_add', name: 'g', labels: {}, value: 2 }],
          },
        ]),
      );
      await old.close();
      Object.assign(process.env, {
        ACCRUE_STORE: 'memory',
        ACCRUE_DATA_DIR: dir,
        ACCRUE_GROUP_TTL_SECONDS: '60',
      });
      let handler: (() => Promise<{ expired: number; groups: readonly unknown[] }>) | undefined;
      jest.isolateModules(() => {
        handler = require('../../../functions/janitor/index').handler;
      });
      const result = await handler!();
      expect(result.expired).toBe(1);
      expect(result.groups).toEqual([{ job: 'gone', instance: 'a"\n' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
