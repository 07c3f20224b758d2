/**
 * Series packs on DynamoDB Local (shared/store/dynamodb/packs.ts): scalar series of a (group, family) written
 * by apply() share a few items. Checked here: a batch writes one item per pack, not per series; tables
 * written by the per-series layout keep working (those series stay in their items); full packs send new
 * series to items of their own, each series in exactly one home; pushes, DELETE and expiry remove packed
 * series with exact counters; hostile label values go through packs unchanged.
 */
import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { labelsKey } from '../../shared/model/identity';
import { DynamoStore } from '../../shared/store/dynamodb';
import { groupPk, labelsAttr, seriesSk } from '../../shared/store/dynamodb/codec';
import { packSk } from '../../shared/store/dynamodb/packs';
import type { MetricOp } from '../../shared/store/types';
import { counterFamily, inc, req, seriesCount, set } from '../contract/helpers';
import { testDynamoClient } from '../support/aws';
import { validApplies, validGroup, validPush } from '../support/edge';
import {
  countersAgainstItems,
  expectExactCounters,
  type OpenedStore,
  storesClosedAfterEach,
  valueIn,
} from './dynamo-store-support';

const G = { job: 'aria', instance: 'eu-1' } as const;

type Opened = OpenedStore;
const open = storesClosedAfterEach();

async function scan(x: Opened): Promise<Record<string, { S?: string; N?: string; M?: unknown }>[]> {
  const c = testDynamoClient();
  try {
    const out = await c.send(new ScanCommand({ TableName: x.tables.seriesTable, ConsistentRead: true }));
    return (out.Items ?? []) as never[];
  } finally {
    c.destroy();
  }
}
const sks = async (x: Opened, prefix: string) =>
  (await scan(x)).map((it) => it.sk!.S!).filter((sk) => sk.startsWith(prefix));

const errors = (n: number, value = 1): MetricOp[] =>
  Array.from({ length: n }, (_, i) =>
    inc('aria_errors_total', { error_type: `e${i}`, symbol: 'EURUSD' }, value),
  );

describe('DynamoStore: series packs', () => {
  it('a batch writes one item per pack, not one per series, and values stay exact', async () => {
    const x = await open();
    await x.store.apply(validApplies([req('a', G, errors(40))]));
    const before = x.store.stats.transactions;
    await x.store.apply(
      validApplies([req('b', G, errors(40, 2)), req('c', G, [set('aria_pnl', {}, 5, 10)])]),
    );
    expect(x.store.stats.transactions - before).toBe(1);
    expect(await sks(x, 's#')).toEqual([]);
    // 40 series of one family in at most 4 packs, the gauge in one.
    expect((await sks(x, 'v#aria_errors_total#')).length).toBeLessThanOrEqual(4);
    expect(await sks(x, 'v#aria_pnl#')).toHaveLength(1);
    const snap = await x.store.snapshot();
    expect(seriesCount(snap)).toBe(41);
    for (let i = 0; i < 40; i++)
      expect(valueIn(snap, G, 'aria_errors_total', { error_type: `e${i}`, symbol: 'EURUSD' })).toBe(3);
    expect(valueIn(snap, G, 'aria_pnl')).toBe(5);
    expectExactCounters(await countersAgainstItems(x));
  });

  it('series of the per-series layout (older tables) stay in their items; new ones go to packs', async () => {
    const x = await open();
    // A series item as the per-series layout wrote it, and its counters.
    await x.store.apply(validApplies([req('new-0', G, [inc('aria_other_total', {}, 1)])]));
    const c = testDynamoClient();
    const labels = { error_type: 'e0', symbol: 'EURUSD' };
    try {
      const item = {
        pk: { S: groupPk(G) },
        sk: { S: seriesSk('aria_errors_total', labels) },
        f: { S: 'aria_errors_total' },
        t: { S: 'counter' },
        l: labelsAttr(labels),
        v: { N: '100' },
      };
      await c.send(new PutItemCommand({ TableName: x.tables.seriesTable, Item: item }));
    } finally {
      c.destroy();
    }
    // A fresh process (no caches), as after an upgrade.
    const fresh = await DynamoStore.open({
      client: testDynamoClient(),
      ...x.tables,
      ownsClient: true,
    });
    try {
      await fresh.apply(validApplies([req('up-1', G, errors(3, 5))]));
      await fresh.apply(validApplies([req('up-2', G, errors(3, 5))]));
    } finally {
      await fresh.close();
    }
    const items = await scan(x);
    expect(items.filter((it) => it.sk!.S!.startsWith('s#aria_errors_total#'))).toHaveLength(1);
    const snap = await x.store.snapshot();
    expect(valueIn(snap, G, 'aria_errors_total', labels)).toBe(110);
    expect(valueIn(snap, G, 'aria_errors_total', { error_type: 'e1', symbol: 'EURUSD' })).toBe(10);
    expect(valueIn(snap, G, 'aria_errors_total', { error_type: 'e2', symbol: 'EURUSD' })).toBe(10);
  });

  it('full packs send new series to items of their own; every series has one home and counters stay exact', async () => {
    const x = await open();
    const peer = await DynamoStore.open({
      client: testDynamoClient(),
      ...x.tables,
      ownsClient: true,
    });
    try {
      // ~280 bytes per series (labels under the 256-byte pack limit): a pack takes ~8 before it is full.
      const wide = (from: number, to: number): MetricOp[] => {
        const ops: MetricOp[] = [];
        for (let i = from; i < to; i++)
          ops.push(inc('aria_wide_total', { k: `${i}`, note: 'n'.repeat(200) }, 1));
        return ops;
      };
      // Two processes creating overlapping series at once, in small requests.
      const a = Array.from({ length: 12 }, (_, r) => req(`a${r}`, G, wide(r * 5, r * 5 + 8)));
      const b = Array.from({ length: 12 }, (_, r) => req(`b${r}`, G, wide(r * 5, r * 5 + 8)));
      const res = await Promise.all([x.store.apply(validApplies(a)), peer.apply(validApplies(b))]);
      expect(res.flat().every((r) => r.status === 'applied')).toBe(true);
    } finally {
      await peer.close();
    }
    const items = await scan(x);
    const own = items
      .filter((it) => it.sk!.S!.startsWith('s#aria_wide_total#'))
      .map((it) => it.sk!.S!.slice(-22));
    const packedIds = items
      .filter((it) => it.sk!.S!.startsWith('v#aria_wide_total#'))
      .flatMap((it) => Object.keys(it).filter((k) => k.length === 22));
    expect(own.length).toBeGreaterThan(0);
    expect(packedIds.length).toBeGreaterThan(0);
    expect(own.filter((id) => packedIds.includes(id))).toEqual([]);
    expect(own.length + packedIds.length).toBe(63);
    const snap = await x.store.snapshot();
    // Each request covering a series adds 1 to it, in both processes.
    for (let i = 0; i < 63; i++)
      expect([i, valueIn(snap, G, 'aria_wide_total', { k: `${i}`, note: 'n'.repeat(200) })]).toEqual([
        i,
        2 * countCover(i),
      ]);
    expectExactCounters(await countersAgainstItems(x));
  });

  it('a PUT replacing a packed family, then DELETE and expiry, remove packs with exact counters', async () => {
    let now = 1_000_000;
    const x = await open({ now: () => now });
    await x.store.apply(validApplies([req('a', G, [...errors(30), set('aria_pnl', {}, 5, 10)])]));
    expect((await sks(x, 'v#')).length).toBeGreaterThan(1);
    const pushed = counterFamily('aria_errors_total', [
      [{ error_type: 'e1', symbol: 'EURUSD' }, 7],
      [{ error_type: 'new', symbol: 'EURUSD' }, 1],
    ]);
    const r = await x.store.push(validPush({ method: 'PUT', group: G, pushTimeMs: now, families: [pushed] }));
    expect(r.status).toBe('applied');
    expect(await sks(x, 'v#')).toEqual([]);
    let snap = await x.store.snapshot();
    expect(seriesCount(snap)).toBe(2);
    expect(valueIn(snap, G, 'aria_errors_total', { error_type: 'e1', symbol: 'EURUSD' })).toBe(7);
    expectExactCounters(await countersAgainstItems(x));
    // An apply to a pushed series adds in its own item; a new series goes to a pack again.
    await x.store.apply(validApplies([req('b', G, [...errors(3, 2)])]));
    snap = await x.store.snapshot();
    expect(valueIn(snap, G, 'aria_errors_total', { error_type: 'e1', symbol: 'EURUSD' })).toBe(9);
    expect(valueIn(snap, G, 'aria_errors_total', { error_type: 'e0', symbol: 'EURUSD' })).toBe(2);
    expect(seriesCount(snap)).toBe(4);
    expectExactCounters(await countersAgainstItems(x));
    await x.store.deleteGroup(validGroup(G), now + 1);
    expect(await sks(x, 'v#')).toEqual([]);
    expectExactCounters(await countersAgainstItems(x));
    now += 10;
    await x.store.apply(validApplies([req('c', G, errors(20, 4))]));
    now += 120_000;
    expect((await x.store.expire(now, 60_000)).map((k) => labelsKey(k))).toEqual([labelsKey(G)]);
    expect(await sks(x, 'v#')).toEqual([]);
    expect(seriesCount(await x.store.snapshot())).toBe(0);
    expectExactCounters(await countersAgainstItems(x));
  });

  it('a process whose cache says "packed" after another one pushed the series adds to the pushed item', async () => {
    const x = await open();
    const peer = await DynamoStore.open({ client: testDynamoClient(), ...x.tables, ownsClient: true });
    const l = { error_type: 'e0', symbol: 'EURUSD' };
    try {
      await x.store.apply(validApplies([req('a', G, errors(2))]));
      const pushed = counterFamily('aria_errors_total', [[l, 50]]);
      expect(
        (await peer.push(validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [pushed] }))).status,
      ).toBe('applied');
      // x still believes e0 and e1 live in their pack: its update fails, it learns the homes again.
      await x.store.apply(validApplies([req('b', G, errors(2, 3))]));
    } finally {
      await peer.close();
    }
    expect(await sks(x, 's#aria_errors_total#')).toHaveLength(1);
    const snap = await x.store.snapshot();
    expect(valueIn(snap, G, 'aria_errors_total', l)).toBe(53);
    expect(valueIn(snap, G, 'aria_errors_total', { error_type: 'e1', symbol: 'EURUSD' })).toBe(3);
    expect(seriesCount(snap)).toBe(2);
    expectExactCounters(await countersAgainstItems(x));
  });

  it('an apply creating a series in a pack while a PUT of it is in flight: the PUT reads again, one home', async () => {
    const x = await open();
    const peer = await DynamoStore.open({ client: testDynamoClient(), ...x.tables, ownsClient: true });
    const l = { error_type: 'e0', symbol: 'EURUSD' };
    let raced = 0;
    // Between the push's read of the group and its transaction, another process creates the series in its pack.
    x.client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = (context as { commandName?: string }).commandName;
        const items = ((args.input as { TransactItems?: { Put?: { Item?: { sk?: { S?: string } } } }[] })
          .TransactItems ?? []) as { Put?: { Item?: { sk?: { S?: string } } } }[];
        if (
          name === 'TransactWriteItemsCommand' &&
          raced === 0 &&
          items.some((i) => i.Put?.Item?.sk?.S?.startsWith('s#aria_errors_total#'))
        ) {
          raced++;
          await peer.apply(validApplies([req('race', G, [inc('aria_errors_total', l, 5)])]));
        }
        return next(args);
      },
      { step: 'initialize', name: 'raceApply' },
    );
    try {
      // The family exists already, with a series in another pack (so neither the family's definition nor
      // a pack the PUT deletes notices the race).
      const other = Array.from({ length: 20 }, (_, i) => ({
        error_type: `e${i + 1}`,
        symbol: 'EURUSD',
      })).find((o) => packSk(seriesSk('aria_errors_total', o)) !== packSk(seriesSk('aria_errors_total', l)))!;
      await x.store.apply(validApplies([req('setup', G, [inc('aria_errors_total', other, 1)])]));
      const pushed = counterFamily('aria_errors_total', [[l, 50]]);
      expect(
        (await x.store.push(validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [pushed] })))
          .status,
      ).toBe('applied');
      expect(raced).toBe(1);
      // The peer (cache: "in its pack") adds again: it must land where readers look.
      await peer.apply(validApplies([req('after', G, [inc('aria_errors_total', l, 2)])]));
    } finally {
      await peer.close();
    }
    expect(await sks(x, 'v#aria_errors_total#')).toEqual([]);
    expect(await sks(x, 's#aria_errors_total#')).toHaveLength(1);
    const snap = await x.store.snapshot();
    // The PUT came after the racing apply (it read again and replaced it): 50, then + 2.
    expect(valueIn(snap, G, 'aria_errors_total', l)).toBe(52);
    expectExactCounters(await countersAgainstItems(x));
  });

  it('hostile label values (quotes, newlines, __proto__-like names) round-trip through packs', async () => {
    const x = await open();
    const labels: Record<string, string>[] = [
      { v: 'a"b' },
      { v: 'line\nbreak' },
      { v: '\\' },
      { constructor: 'x' },
      { v: '' },
      { v: 'ü😀' },
    ];
    const ops = labels.map((l, i) => inc('aria_hostile_total', l, i + 1));
    await x.store.apply(validApplies([req('h1', G, ops)]));
    await x.store.apply(validApplies([req('h2', G, ops)]));
    const snap = await x.store.snapshot();
    for (const [i, l] of labels.entries())
      expect(valueIn(snap, G, 'aria_hostile_total', l)).toBe(2 * (i + 1));
    expect((await sks(x, 'v#aria_hostile_total#')).length).toBeGreaterThan(0);
    expect(await sks(x, 's#aria_hostile_total#')).toEqual([]);
  });
});

/** How many of the 12 requests of one process cover series `i` (requests r cover [5r, 5r + 8)). */
function countCover(i: number): number {
  let n = 0;
  for (let r = 0; r < 12; r++) if (i >= r * 5 && i < r * 5 + 8) n++;
  return n;
}
