/** The status page's group list: filter syntax, hostile filters, order (failed, stale, rest), pages. */

import {
  listGroups,
  parseFilter,
  parseGroupQuery,
  QueryError,
  STALE_AFTER_MS,
} from '../../service/status/groups';
import { ingestTotals } from '../../service/status/ingest';
import { ownMetricsRequest } from '../../shared/ingest/pipeline';
import { labelsFrom } from '../../shared/model/identity';
import { MemoryStore } from '../../shared/store';
import type { GroupState, StoreSnapshot } from '../../shared/store/types';

const NOW = 1_800_000_000_000;

function group(labels: Record<string, string>, over: Partial<GroupState> = {}): GroupState {
  return {
    key: labelsFrom(Object.entries(labels)),
    lastPushMs: NOW - 1000,
    lastUpdateMs: NOW - 1000,
    families: [
      { name: 'up_total', help: '', type: 'counter', series: [{ labels: labelsFrom([]), value: 1 }] },
    ],
    ...over,
  };
}

const SNAP: StoreSnapshot = {
  generation: '1',
  takenAtMs: NOW,
  groups: [
    group({ job: 'aria-pro', instance: 'mt5-1' }),
    group(
      { job: 'aria-pro', instance: 'mt5-2' },
      { lastPushFailureMs: NOW - 10, lastFailureReason: 'timestamp: x' },
    ),
    group({ job: 'aria-pro', instance: 'mt5-10' }, { lastPushFailureMs: NOW - 500 }),
    group(
      { job: 'batch', instance: 'nightly' },
      { lastUpdateMs: NOW - STALE_AFTER_MS - 1, lastPushMs: NOW - STALE_AFTER_MS - 1 },
    ),
    group({ job: 'batch', instance: 'weekly' }, { lastUpdateMs: NOW - 2 * STALE_AFTER_MS, lastPushMs: 0 }),
    group({ job: 'web', instance: 'a"b\nc', env: 'prod' }),
    group({ job: 'constructor' }),
  ],
};

const q = (o: Record<string, string> = {}) => parseGroupQuery(o);
const names = (o: Record<string, string>) =>
  listGroups(SNAP, q(o), NOW).groups.map((g) => Object.values(g.labels).join('/'));

describe('status group list', () => {
  it('orders failed (newest first), stale (longest silent first), then by labels, job first', () => {
    expect(names({})).toEqual([
      'aria-pro/mt5-2',
      'aria-pro/mt5-10',
      'batch/weekly',
      'batch/nightly',
      'aria-pro/mt5-1',
      'constructor',
      'web/a"b\nc/prod',
    ]);
    const p = listGroups(SNAP, q(), NOW);
    expect([p.total, p.matched, p.failed, p.stale, p.series]).toEqual([7, 7, 2, 2, 7]);
    expect(p.groups[0]).toMatchObject({ state: 'failed', lastFailureReason: 'timestamp: x' });
  });

  it.each<[string, string[]]>([
    ['job="aria-pro"', ['aria-pro/mt5-2', 'aria-pro/mt5-10', 'aria-pro/mt5-1']],
    ['{job="aria-pro",instance="mt5-1"}', ['aria-pro/mt5-1']],
    ['job=aria-pro instance!="mt5-1"', ['aria-pro/mt5-2', 'aria-pro/mt5-10']],
    ['instance~"MT5-1"', ['aria-pro/mt5-10', 'aria-pro/mt5-1']],
    ['job=~"aria" instance!~"mt5-1"', ['aria-pro/mt5-2']],
    ['env="prod"', ['web/a"b\nc/prod']],
    ['env!="prod" job="web"', []],
    ['instance="a\\"b\\nc"', ['web/a"b\nc/prod']],
    ['nightly', ['batch/nightly']],
    ['up_total job=constructor', ['constructor']],
    ['__proto__="x"', []],
    ['constructor="x"', []],
    ['', names({})],
  ])('filter %j', (filter, expected) => {
    expect(names({ filter })).toEqual(expected);
  });

  it('state filter and pages', () => {
    expect(names({ state: 'failed' })).toEqual(['aria-pro/mt5-2', 'aria-pro/mt5-10']);
    expect(names({ state: 'stale' })).toEqual(['batch/weekly', 'batch/nightly']);
    const p2 = listGroups(SNAP, q({ limit: '3', page: '2' }), NOW);
    expect([p2.page, p2.pages, p2.groups.length]).toEqual([2, 3, 3]);
    expect(p2.groups[0]!.labels).toEqual({ job: 'batch', instance: 'nightly' });
    // A page past the end shows the last page.
    expect(listGroups(SNAP, q({ limit: '3', page: '99' }), NOW).page).toBe(3);
    expect(names({ order: 'recent' })[0]).toBe('aria-pro/mt5-1');
  });

  it.each<[Record<string, unknown>, RegExp]>([
    [{ page: '0' }, /page: must be a whole number from 1/],
    [{ page: '1e3' }, /page: must be a whole number/],
    [{ limit: '501' }, /limit: must be a whole number from 1 to 500/],
    [{ limit: '-1' }, /limit/],
    [{ state: 'broken' }, /state: must be all, failed, stale or ok/],
    [{ order: '__proto__' }, /order: must be attention or recent/],
    [{ filter: ['a', 'b'] }, /filter: give it once/],
    [{ filter: 'job="unterminated' }, /filter: the value of job has no closing quote/],
    [{ filter: 'x'.repeat(1001) }, /filter: longer than 1000 characters/],
  ])('refuses %j with a message naming the parameter', (query, pattern) => {
    expect(() => parseGroupQuery(query)).toThrow(QueryError);
    expect(() => parseGroupQuery(query)).toThrow(pattern);
  });

  it('parses terms with quotes, commas and braces', () => {
    expect(parseFilter('{a="x y", b!~"Z"} free')).toEqual([
      { name: 'a', op: '=', value: 'x y' },
      { name: 'b', op: '!~', value: 'z' },
      { op: 'any', value: 'free' },
    ]);
  });
});

describe('ingest totals', () => {
  it('sums the pipeline counters of every ingest instance from the store', async () => {
    const store = await MemoryStore.open({ now: () => NOW });
    const stats = (n: number) => ({
      messages: n,
      outcomes: { applied: n - 2, duplicate: 1, failed: 1, dead_lettered: 0 },
      eventsAccepted: 10 * n,
      rejected: { invalid: 2 },
      deadLetters: 0,
      applyDurationMs: 3,
    });
    await store.apply([
      ownMetricsRequest(stats(5), 'lambda-a', NOW),
      ownMetricsRequest(stats(7), 'lambda-b', NOW),
    ]);
    await store.apply([ownMetricsRequest(stats(3), 'lambda-a', NOW)]);
    const t = ingestTotals(await store.snapshot());
    expect(t).toEqual({
      instances: 2,
      eventsAccepted: 150,
      eventsRejected: { invalid: 6 },
      messages: { applied: 9, duplicate: 3, failed: 3, dead_lettered: 0 },
      duplicatesSkipped: 3,
      lastWriteMs: NOW,
    });
    expect(ingestTotals(undefined).instances).toBe(0);
    await store.close();
  });
});
