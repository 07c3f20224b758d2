/**
 * MemoryStore behaviour beyond the shared contract: structural sharing of snapshots, the ledger bound,
 * journal recovery rules (torn tail, corruption), compaction, and createStore.
 */
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../shared/config';
import { TransientError } from '../../../shared/model/errors';
import { observeNative } from '../../../shared/model/native';
import { MemoryStore } from '../../../shared/store/memory';
import { createStore } from '../../../shared/wiring/store';
import {
  add,
  FakeClock,
  findFamily,
  findGroup,
  gaugeFamily,
  inc,
  observe,
  req,
  seriesValue,
  set,
  thrown,
} from '../../contract/helpers';
import { validApplies, validGroup, validPush } from '../../support/edge';

const G = { job: 'a', instance: 'i' };
const G2 = { job: 'b' };

const dirs: string[] = [];
async function newDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'accrue-mem-unit-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('structural sharing of snapshots', () => {
  it('reuses unchanged groups, families and series; rebuilds only what changed', async () => {
    const s = await MemoryStore.open();
    await s.apply(
      validApplies([
        req('1', G, [
          inc('x_total', { k: '1' }, 1),
          inc('x_total', { k: '2' }, 1),
          observe('h', {}, [1], [0.5]),
        ]),
        req('2', G2, [inc('y_total', {}, 1)]),
      ]),
    );
    const a = await s.snapshot();
    const b = await s.snapshot();
    expect(b.groups).toBe(a.groups); // nothing changed: same array
    await s.apply(validApplies([req('3', G, [inc('x_total', { k: '2' }, 1)])]));
    const c = await s.snapshot();
    expect(c.generation).not.toBe(a.generation);
    expect(findGroup(c, G2)).toBe(findGroup(a, G2)); // untouched group: same object
    expect(findGroup(c, G)).not.toBe(findGroup(a, G));
    expect(findFamily(c, G, 'h')).toBe(findFamily(a, G, 'h')); // untouched family: same object
    const xa = findFamily(a, G, 'x_total')!;
    const xc = findFamily(c, G, 'x_total')!;
    expect(xc).not.toBe(xa);
    expect(xc.series[0]).toBe(xa.series[0]); // k=1 unchanged: same series object
    expect(xc.series[1]).not.toBe(xa.series[1]);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(xc)).toBe(true);
    expect(Object.isFrozen(xc.series)).toBe(true);
    expect(Object.isFrozen(xc.series[0]!.labels)).toBe(true);
    await s.close();
  });

  it('a stale set keeps every object', async () => {
    const s = await MemoryStore.open();
    await s.apply(validApplies([req('1', G, [set('g', {}, 1, 100)])]));
    const a = await s.snapshot();
    await s.apply(validApplies([req('2', G, [set('g', {}, 2, 50)])]));
    expect((await s.snapshot()).groups).toBe(a.groups);
  });

  it('a snapshot of 10k series after one change rebuilds one family', async () => {
    const s = await MemoryStore.open();
    const ops = Array.from({ length: 10_000 }, (_, i) => inc('big_total', { n: String(i) }, 1));
    await s.apply(validApplies([req('big', G, ops), req('small', G, [inc('small_total', {}, 1)])]));
    const a = await s.snapshot();
    await s.apply(validApplies([req('again', G, [inc('small_total', {}, 1)])]));
    const b = await s.snapshot();
    expect(findFamily(b, G, 'big_total')).toBe(findFamily(a, G, 'big_total'));
    expect(seriesValue(b, G, 'small_total')).toBe(2);
  });
});

describe('ledger bound', () => {
  it('forgets the oldest ids beyond maxLedgerEntries (documented bound)', async () => {
    const s = await MemoryStore.open({ maxLedgerEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd']) await s.apply(validApplies([req(id, G, [inc('x_total', {}, 1)])]));
    expect(s.stats().ledger).toBe(3);
    expect((await s.apply(validApplies([req('d', G, [inc('x_total', {}, 1)])])))[0]!.status).toBe(
      'duplicate',
    );
    expect((await s.apply(validApplies([req('a', G, [inc('x_total', {}, 1)])])))[0]!.status).toBe('applied');
  });

  it('forgets ids older than the retention', async () => {
    const clock = new FakeClock();
    const s = await MemoryStore.open({ now: clock.now, ledgerRetentionMs: 1000 });
    await s.apply(validApplies([req('old', G, [inc('x_total', {}, 1)])]));
    clock.advance(500);
    expect((await s.apply(validApplies([req('old', G, [inc('x_total', {}, 1)])])))[0]!.status).toBe(
      'duplicate',
    );
    clock.advance(600);
    await s.apply(validApplies([req('new', G, [inc('x_total', {}, 1)])]));
    expect(s.stats().ledger).toBe(1);
  });

  it('forgets DELETE tombstones older than the retention on expire()', async () => {
    const clock = new FakeClock();
    const s = await MemoryStore.open({ now: clock.now, ledgerRetentionMs: 1000 });
    await s.deleteGroup(validGroup(G), clock.t);
    expect(s.stats().tombstones).toBe(1);
    await s.expire(clock.advance(2000), 10_000);
    expect(s.stats().tombstones).toBe(0);
  });
});

describe('journal recovery', () => {
  it('ignores a torn last record and keeps every complete one', async () => {
    const dir = await newDir();
    const s = await MemoryStore.open({ dir });
    await s.apply(validApplies([req('1', G, [inc('x_total', {}, 1)])]));
    await s.abandon();
    const [journal] = (await readdir(dir)).filter((f) => f.startsWith('journal-'));
    await appendFile(join(dir, journal!), 'a{"id":"2","g":{"job":"a"'); // crash mid-write
    const r = await MemoryStore.open({ dir });
    expect(seriesValue(await r.snapshot(), G, 'x_total')).toBe(1);
    expect((await r.apply(validApplies([req('1', G, [inc('x_total', {}, 1)])])))[0]!.status).toBe(
      'duplicate',
    );
    expect((await r.apply(validApplies([req('2', G, [inc('x_total', {}, 1)])])))[0]!.status).toBe('applied');
    await r.close();
    const again = await MemoryStore.open({ dir });
    expect(seriesValue(await again.snapshot(), G, 'x_total')).toBe(2);
    await again.close();
  });

  it('keeps the ledger entries of keyed pushes (applied and stale) across a crash and a compaction', async () => {
    const dir = await newDir();
    const s = await MemoryStore.open({ dir });
    const put = (id: string, t: number, v: number) =>
      ({ method: 'PUT', group: G, pushTimeMs: t, families: [gaugeFamily('g', [[{}, v]])], id }) as const;
    expect((await s.push(validPush(put('k1', 100, 1)))).status).toBe('applied');
    expect((await s.push(validPush(put('k2', 50, 2)))).status).toBe('stale');
    await s.abandon();
    const r = await MemoryStore.open({ dir });
    expect(await r.push(validPush(put('k1', 300, 1)))).toEqual({ status: 'duplicate', first: 'applied' });
    expect(await r.push(validPush(put('k2', 300, 2)))).toEqual({ status: 'duplicate', first: 'stale' });
    expect((await thrown(() => r.push(validPush(put('k1', 300, 9))))).message).toMatch(/other content/);
    await r.close(); // compacts: the ledger goes into the state file
    const again = await MemoryStore.open({ dir });
    expect(await again.push(validPush(put('k1', 400, 1)))).toEqual({ status: 'duplicate', first: 'applied' });
    expect(seriesValue(await again.snapshot(), G, 'g')).toBe(1);
    await again.close();
  });

  it('refuses to open over a corrupt record that is not the last', async () => {
    const dir = await newDir();
    const s = await MemoryStore.open({ dir });
    await s.apply(validApplies([req('1', G, [inc('x_total', {}, 1)])]));
    await s.abandon();
    const [journal] = (await readdir(dir)).filter((f) => f.startsWith('journal-'));
    await appendFile(join(dir, journal!), 'a{garbage\na{"id":"3","g":{"job":"a"},"t":1,"ops":[]}\n');
    await expect(MemoryStore.open({ dir })).rejects.toThrow(/line 2 is corrupt/);
  });

  it('replays each op kind field by field (help, native buckets) and refuses a damaged op naming its field', async () => {
    const dir = await newDir();
    const s = await MemoryStore.open({ dir });
    const native = observeNative([0.1, 0.2, 0.3], 3, 0).native;
    const ops = [
      inc('x_total', { k: 'v' }, 2, 'Help text'),
      add('pos', {}, -3),
      set('pnl', { desk: 'd' }, 7.5, 123),
      { ...observe('lat_seconds', {}, [0.1, 1], [0.05, 0.5, 2]), native },
    ];
    await s.apply(validApplies([req('1', G, ops)]));
    const before = await s.snapshot();
    await s.abandon(); // no compaction: the reopened store replays the journal
    const [journal] = (await readdir(dir)).filter((f) => f.startsWith('journal-'));
    const lines = await readFile(join(dir, journal!), 'utf8');
    const r = await MemoryStore.open({ dir });
    expect((await r.snapshot()).groups).toEqual(before.groups);
    await r.close();
    const damaged = [
      ['value', '{"kind":"counter_inc","name":"y_total","labels":{}}'],
      ['timeMs', '{"kind":"gauge_set","name":"g","labels":{},"value":1,"timeMs":"1"}'],
      [
        'counts',
        '{"kind":"histogram_observe","name":"h","labels":{},"bounds":[1],"counts":[1,"x"],"sum":1,"count":1}',
      ],
      ['kind', '{"kind":"__proto__","name":"z","labels":{}}'],
    ] as const;
    for (const [field, op] of damaged) {
      const d = await newDir();
      await writeFile(join(d, journal!), `${lines}a{"id":"2","g":{"job":"a"},"t":1,"ops":[${op}]}\n${lines}`);
      await expect(MemoryStore.open({ dir: d })).rejects.toThrow(
        new RegExp(`line 2 is corrupt: .*op ${field}`),
      );
    }
  });

  it('ignores a leftover temporary state file from an interrupted compaction', async () => {
    const dir = await newDir();
    const s = await MemoryStore.open({ dir });
    await s.push(
      validPush({
        method: 'PUT',
        group: G2,
        pushTimeMs: 5,
        families: [gaugeFamily('g', [[{}, Number.NaN]])],
      }),
    );
    await s.close();
    await writeFile(join(dir, 'state.json.tmp'), '{"half":');
    const r = await MemoryStore.open({ dir });
    expect(seriesValue(await r.snapshot(), G2, 'g')).toBeNaN();
    await r.close();
  });

  it('compacts when the journal grows past compactBytes and drops covered journal files', async () => {
    const dir = await newDir();
    const s = await MemoryStore.open({ dir, compactBytes: 2000 });
    for (let i = 0; i < 100; i++)
      await s.apply(validApplies([req(`m${i}`, G, [inc('x_total', { n: String(i % 7) }, 1)])]));
    await s.abandon();
    const files = await readdir(dir);
    expect(files).toContain('state.json');
    const journals = files.filter((f) => f.startsWith('journal-'));
    expect(journals.length).toBeLessThanOrEqual(2);
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
    expect(state.v).toBe(1);
    const r = await MemoryStore.open({ dir });
    const snap = await r.snapshot();
    let total = 0;
    for (let n = 0; n < 7; n++) total += seriesValue(snap, G, 'x_total', { n: String(n) }) ?? 0;
    expect(total).toBe(100);
    expect((await r.apply(validApplies([req('m0', G, [inc('x_total', { n: '0' }, 1)])])))[0]!.status).toBe(
      'duplicate',
    );
    await r.close();
  });

  it('a closed store refuses writes with a TransientError and ping fails', async () => {
    const s = await MemoryStore.open();
    await s.close();
    const res = await s.apply(validApplies([req('x', G, [inc('x_total', {}, 1)])]));
    expect(res[0]!.status).toBe('failed');
    if (res[0]!.status === 'failed') expect(res[0]!.error).toBeInstanceOf(TransientError);
    await expect(
      s.push(validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [] })),
    ).rejects.toBeInstanceOf(TransientError);
    await expect(s.ping()).rejects.toBeInstanceOf(TransientError);
  });
});

describe('createStore', () => {
  it('opens a durable memory store in ACCRUE_DATA_DIR', async () => {
    const dir = await newDir();
    const config = loadConfig({ ACCRUE_DATA_DIR: dir, ACCRUE_MAX_SERIES_TOTAL: '1' });
    const s = await createStore(config.store, config.aws);
    await s.apply(validApplies([req('1', G, [inc('x_total', {}, 1), inc('y_total', {}, 1)])]));
    await s.close();
    const r = await createStore(config.store, config.aws);
    const snap = await r.snapshot();
    expect(seriesValue(snap, G, 'x_total')).toBe(1);
    expect(seriesValue(snap, G, 'y_total')).toBeUndefined(); // over maxSeriesTotal from the config
    await r.close();
  });

  it('opens the DynamoDB store for ACCRUE_STORE=dynamodb and reports an unreachable endpoint', async () => {
    const config = loadConfig({
      ACCRUE_STORE: 'dynamodb',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1',
      AWS_REGION: 'us-east-1',
    });
    await expect(createStore(config.store, config.aws)).rejects.toBeInstanceOf(TransientError);
  });
});

describe('grouping-key limits on writes that store no series', () => {
  it.each([
    [
      'DELETE with an oversize label value',
      (s: MemoryStore) => s.deleteGroup(validGroup({ job: 'x'.repeat(2000) }), 1),
      'maxLabelValueLength',
    ],
    [
      'push failure with too many grouping labels',
      (s: MemoryStore) => s.recordPushFailure(validGroup({ job: 'j', a: '1', b: '2', c: '3' }), 1, 'r'),
      'maxLabelsPerSeries',
    ],
  ] as const)('%s is refused with LimitError and stores nothing', async (_t, write, limit) => {
    const s = await MemoryStore.open({ limits: { maxLabelsPerSeries: 4 } });
    const gen = await s.generation();
    await expect(write(s)).rejects.toMatchObject({ name: 'LimitError', limit });
    expect(await s.generation()).toBe(gen);
    expect(s.stats()).toMatchObject({ groups: 0, tombstones: 0 });
  });
});
