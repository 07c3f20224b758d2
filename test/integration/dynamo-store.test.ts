/**
 * DynamoDB-specific behaviour of DynamoStore on DynamoDB Local (real protocol; faults are injected with an
 * SDK middleware on the store's own client): split of large requests, throttling and conflict retries,
 * merging of small requests into one transaction, several stores ("processes") on one table pair, large
 * pushes in several transactions, parallel scans.
 */
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { FamilyConflictError, TransientError } from '../../shared/model/errors';
import { observeNative } from '../../shared/model/native';
import { DynamoStore } from '../../shared/store/dynamodb';
import { addDecimals } from '../../shared/store/dynamodb/codec';
import type { ApplyRequest, MetricOp } from '../../shared/store/types';
import { add, gaugeFamily, histogramOf, inc, observe, req, seriesCount, set } from '../contract/helpers';
import { testDynamoClient } from '../support/aws';
import { validApplies, validGroup, validPush } from '../support/edge';
import {
  awsError,
  countersAgainstItems,
  expectExactCounters,
  type OpenedStore,
  storesClosedAfterEach,
  valueIn,
} from './dynamo-store-support';

const G = { job: 'aria', instance: 'eu-1' } as const;
const G2X = { job: 'aria', instance: 'us-2' } as const;
const B = [0.001, 0.01, 0.1, 1] as const;

type Opened = OpenedStore;
const open = storesClosedAfterEach();

function manySeries(n: number, family = 'aria_orders_total', extra: Record<string, string> = {}): MetricOp[] {
  const ops: MetricOp[] = [];
  for (let i = 0; i < n; i++) ops.push(inc(family, { n: String(i).padStart(4, '0'), ...extra }, i + 1));
  return ops;
}

/** A label over 256 bytes keeps each series in its own item (no pack), so a request's parts can't share a transaction. */
const OWN = { ref: 'r'.repeat(300) };

async function ledgerIds(x: Opened): Promise<string[]> {
  const c = testDynamoClient();
  try {
    const out = await c.send(new ScanCommand({ TableName: x.tables.ledgerTable, ConsistentRead: true }));
    return (out.Items ?? []).map((i) => i.id?.S ?? '').sort();
  } finally {
    c.destroy();
  }
}

describe('DynamoStore: requests over 100 actions', () => {
  it.each([
    ['first attempt fails on part 1, retried in the same order', false],
    ['first attempt fails on part 1, retried with the ops shuffled', true],
  ])('a 250-series request is split into parts applied exactly once: %s', async (_t, shuffle) => {
    const x = await open();
    const ops = manySeries(250, 'aria_orders_total', OWN);
    x.faults.failTransactionsWithLedger('big#1', x.store.retryAttempts);
    const first = await x.store.apply(validApplies([req('big', G, ops)]));
    expect(first[0]!.status).toBe('failed');
    if (first[0]!.status === 'failed') expect(first[0]!.error).toBeInstanceOf(TransientError);
    // Parts 0 and 2 committed, part 1 did not; the header (`i#big`: plan hash, part count) committed with them.
    expect(await ledgerIds(x)).toEqual(['i#big', 'i#big#0', 'i#big#2']);
    const again = shuffle ? [...ops].reverse() : ops;
    expect((await x.store.apply(validApplies([req('big', G, again)])))[0]!.status).toBe('applied');
    expect(await ledgerIds(x)).toEqual(['i#big', 'i#big#0', 'i#big#1', 'i#big#2']);
    expect((await x.store.apply(validApplies([req('big', G, ops)])))[0]!.status).toBe('duplicate');
    const snap = await x.store.snapshot();
    expect(seriesCount(snap)).toBe(250);
    for (let i = 0; i < 250; i++)
      expect(valueIn(snap, G, 'aria_orders_total', { n: String(i).padStart(4, '0'), ...OWN })).toBe(i + 1);
  });

  it('a partly committed request redelivered with other content is refused, then completes exactly once', async () => {
    const x = await open();
    const ops = manySeries(250, 'aria_orders_total', OWN);
    x.faults.failTransactionsWithLedger('big#1', x.store.retryAttempts);
    expect((await x.store.apply(validApplies([req('big', G, ops)])))[0]!.status).toBe('failed');
    // The same id with one series less and one more (a decoder that accepted other events this time).
    const changed = [
      ...manySeries(249, 'aria_orders_total', OWN),
      inc('aria_orders_total', { n: 'extra', ...OWN }, 1000),
    ];
    const refused = (await x.store.apply(validApplies([req('big', G, changed)])))[0]!;
    expect(refused.status).toBe('failed');
    if (refused.status === 'failed') {
      expect(refused.error.reason).toBe('redelivery_mismatch');
      expect(refused.error.permanent).toBe(true);
    }
    expect((await x.store.apply(validApplies([req('big', G, ops)])))[0]!.status).toBe('applied');
    const snap = await x.store.snapshot();
    expect(seriesCount(snap)).toBe(250);
    expect(valueIn(snap, G, 'aria_orders_total', { n: 'extra', ...OWN })).toBeUndefined();
    for (let i = 0; i < 250; i++)
      expect(valueIn(snap, G, 'aria_orders_total', { n: String(i).padStart(4, '0'), ...OWN })).toBe(i + 1);
  });

  it('a 250-series request of packed series commits its parts together, and a failed attempt is retried exactly once', async () => {
    const x = await open();
    const ops = manySeries(250);
    x.faults.failTransactionsWithLedger('big#1', 2);
    const first = await x.store.apply(validApplies([req('big', G, ops)]));
    // Its parts share a transaction (a few pack items), so the injected failures were retried inside apply().
    expect(first[0]!.status).toBe('applied');
    expect(x.faults.injected).toBe(2);
    expect(await ledgerIds(x)).toEqual(['i#big', 'i#big#0', 'i#big#1', 'i#big#2']);
    expect((await x.store.apply(validApplies([req('big', G, [...ops].reverse())])))[0]!.status).toBe(
      'duplicate',
    );
    const snap = await x.store.snapshot();
    expect(seriesCount(snap)).toBe(250);
    for (let i = 0; i < 250; i++)
      expect(valueIn(snap, G, 'aria_orders_total', { n: String(i).padStart(4, '0') })).toBe(i + 1);
  });

  it('a redelivered set does not undo adds made through another store instance', async () => {
    const x = await open();
    const other = await DynamoStore.open({ client: testDynamoClient(), ...x.tables, ownsClient: true });
    try {
      await x.store.apply(validApplies([req('s', G, [set('aria_pos', {}, 100, 10)])]));
      await other.apply(validApplies([req('d', G, [add('aria_pos', {}, -5)])]));
      await other.apply(validApplies([req('s', G, [set('aria_pos', {}, 100, 10)])]));
      await x.store.apply(validApplies([req('s', G, [set('aria_pos', {}, 100, 10)])]));
      expect(valueIn(await x.store.snapshot(), G, 'aria_pos')).toBe(95);
    } finally {
      await other.close();
    }
  });

  it('a request touching many families still fits every part into 100 actions', async () => {
    const x = await open();
    // 150 families of one series each: the worst case for the per-family counters.
    const ops: MetricOp[] = [];
    for (let i = 0; i < 150; i++) ops.push(add(`aria_f${i}`, {}, i));
    const res = await x.store.apply(validApplies([req('wide', G, ops)]));
    expect(res[0]).toEqual({ id: 'wide', status: 'applied', rejected: [] });
    const snap = await x.store.snapshot();
    expect(seriesCount(snap)).toBe(150);
    expect(valueIn(snap, G, 'aria_f149')).toBe(149);
  });
});

describe('DynamoStore: retries', () => {
  const transient: Array<[string, () => Error]> = [
    ['ThrottlingException', () => awsError('ThrottlingException')],
    ['ProvisionedThroughputExceededException', () => awsError('ProvisionedThroughputExceededException')],
    ['RequestLimitExceeded', () => awsError('RequestLimitExceeded')],
    ['TransactionConflictException', () => awsError('TransactionConflictException')],
    [
      'cancelled with TransactionConflict',
      () =>
        awsError('TransactionCanceledException', {
          CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
        }),
    ],
    ['HTTP 503', () => awsError('ServiceUnavailable', { $metadata: { httpStatusCode: 503 } })],
  ];

  it.each(transient)('%s is retried and the request applies once', async (_t, error) => {
    const x = await open({ retry: { attempts: 5, baseMs: 1, capMs: 5 } });
    x.faults.add((c) => c === 'TransactWriteItemsCommand', 3, error);
    const res = await x.store.apply(
      validApplies([req('m', G, [inc('aria_fills_total', {}, 2), set('aria_pnl', {}, 5, 10)])]),
    );
    expect(res[0]!.status).toBe('applied');
    expect(x.faults.injected).toBe(3);
    expect(x.store.stats.retries).toBeGreaterThanOrEqual(3);
    const snap = await x.store.snapshot();
    expect(valueIn(snap, G, 'aria_fills_total')).toBe(2);
    expect(valueIn(snap, G, 'aria_pnl')).toBe(5);
  });

  it('throttling that outlasts the retries fails the request transiently without consuming its id', async () => {
    const x = await open({ retry: { attempts: 3, baseMs: 1, capMs: 5 } });
    x.faults.add(
      (c) => c === 'TransactWriteItemsCommand',
      3,
      () => awsError('ThrottlingException'),
    );
    const res = await x.store.apply(validApplies([req('m', G, [inc('aria_fills_total', {}, 2)])]));
    expect(res[0]!.status).toBe('failed');
    if (res[0]!.status !== 'failed') return;
    expect(res[0]!.error).toBeInstanceOf(TransientError);
    expect(res[0]!.error.permanent).toBe(false);
    expect(res[0]!.error.message).toMatch(/ThrottlingException/);
    expect(await ledgerIds(x)).toEqual([]);
    expect(
      (await x.store.apply(validApplies([req('m', G, [inc('aria_fills_total', {}, 2)])])))[0]!.status,
    ).toBe('applied');
    expect(valueIn(await x.store.snapshot(), G, 'aria_fills_total')).toBe(2);
  });

  it('a permanent DynamoDB error fails the request with a permanent error', async () => {
    const x = await open();
    x.faults.add(
      (c) => c === 'TransactWriteItemsCommand',
      1,
      () => awsError('ValidationException'),
    );
    const res = await x.store.apply(validApplies([req('m', G, [inc('aria_fills_total', {}, 2)])]));
    expect(res[0]!.status).toBe('failed');
    if (res[0]!.status === 'failed') expect(res[0]!.error.permanent).toBe(true);
  });

  it('a throttled push is retried', async () => {
    const x = await open({ retry: { attempts: 5, baseMs: 1, capMs: 5 } });
    x.faults.add(
      (c) => c === 'TransactWriteItemsCommand',
      2,
      () => awsError('ThrottlingException'),
    );
    expect(
      await x.store.push(
        validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [gaugeFamily('g', [[{}, 3]])] }),
      ),
    ).toEqual({
      status: 'applied',
    });
    expect(valueIn(await x.store.snapshot(), G, 'g')).toBe(3);
  });
});

describe('DynamoStore: write efficiency', () => {
  it('small requests of a batch share one transaction; a duplicate among them is dropped, the rest apply', async () => {
    const x = await open();
    const batch = (ids: string[]): ApplyRequest[] =>
      ids.map((id) =>
        req(id, G, [
          inc('aria_executions_total', { venue: 'xnas', side: 'buy' }, 3),
          observe('aria_latency_seconds', { venue: 'xnas' }, B, [0.0005, 0.05]),
          set('aria_pnl', { book: 'a' }, Number(id.slice(1)), Number(id.slice(1))),
        ]),
      );
    await x.store.apply(validApplies(batch(['m0'])));
    const before = x.faults.seen.TransactWriteItemsCommand ?? 0;
    const res = await x.store.apply(
      validApplies(batch(['m1', 'm2', 'm0', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'])),
    );
    expect(res.map((r) => r.status)).toEqual([
      'applied',
      'applied',
      'duplicate',
      ...new Array(7).fill('applied'),
    ]);
    // One cancelled transaction (m0 is a duplicate) and one that commits the nine others.
    expect((x.faults.seen.TransactWriteItemsCommand ?? 0) - before).toBe(2);
    const snap = await x.store.snapshot();
    expect(valueIn(snap, G, 'aria_executions_total', { venue: 'xnas', side: 'buy' })).toBe(30);
    expect(histogramOf(snap, G, 'aria_latency_seconds', { venue: 'xnas' })?.count).toBe(20);
    expect(valueIn(snap, G, 'aria_pnl', { book: 'a' })).toBe(9);
  });
});

describe('DynamoStore: several stores on one table pair (like several Lambda instances)', () => {
  it('concurrent writers in 4 stores keep exact totals', async () => {
    const a = await open();
    const others = await Promise.all(
      [1, 2, 3].map(async () =>
        DynamoStore.open({
          client: testDynamoClient(),
          ...a.tables,
          ownsClient: true,
          retry: { attempts: 12, baseMs: 5, capMs: 200 },
        }),
      ),
    );
    try {
      const stores = [a.store, ...others];
      const work = stores.map((s, w) =>
        (async () => {
          for (let b = 0; b < 5; b++) {
            const batch: ApplyRequest[] = [];
            for (let i = 0; i < 6; i++) {
              batch.push(
                req(`w${w}-b${b}-${i}`, G, [
                  inc('aria_executions_total', { venue: 'hot' }, 1),
                  inc('aria_executions_total', { venue: `own${w}` }, 1),
                  add('aria_exposure', {}, w % 2 === 0 ? 2 : -1),
                ]),
              );
            }
            // Each batch is delivered twice (at-least-once): the second time is all duplicates.
            const r1 = await s.apply(validApplies(batch));
            const r2 = await s.apply(validApplies(batch));
            if (r1.some((r) => r.status !== 'applied') || r2.some((r) => r.status !== 'duplicate'))
              throw new Error(`unexpected statuses ${JSON.stringify([r1, r2].flat().map((r) => r.status))}`);
          }
        })(),
      );
      await Promise.all(work);
      const snap = await a.store.snapshot();
      expect(valueIn(snap, G, 'aria_executions_total', { venue: 'hot' })).toBe(4 * 5 * 6);
      for (let w = 0; w < 4; w++)
        expect(valueIn(snap, G, 'aria_executions_total', { venue: `own${w}` })).toBe(30);
      expect(valueIn(snap, G, 'aria_exposure')).toBe(2 * 30 * 2 - 1 * 30 * 2);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
  });

  it('concurrent creation of new series in several stores never exceeds maxSeriesTotal', async () => {
    const limits = { maxSeriesTotal: 10 };
    const a = await open({ limits });
    const others = await Promise.all(
      [1, 2, 3].map(() =>
        DynamoStore.open({
          client: testDynamoClient(),
          ...a.tables,
          limits,
          ownsClient: true,
          retry: { attempts: 12, baseMs: 5, capMs: 200 },
        }),
      ),
    );
    try {
      const stores = [a.store, ...others];
      const results = await Promise.all(
        stores.map((s, w) =>
          s.apply(
            validApplies([
              req(
                `w${w}`,
                { job: `j${w}` },
                manySeries(6, 'aria_new_total').map((o) => ({ ...o, value: 1 })),
              ),
            ]),
          ),
        ),
      );
      const accepted = results.flat().reduce((acc, r) => acc + 6 - r.rejected.length, 0);
      expect(accepted).toBe(10);
      expect(seriesCount(await a.store.snapshot())).toBe(10);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
  });

  it('a store with a cached schema notices that another store redefined the family', async () => {
    const a = await open();
    const b = await DynamoStore.open({ client: testDynamoClient(), ...a.tables, ownsClient: true });
    try {
      await a.store.apply(validApplies([req('m1', G, [inc('aria_f', {}, 1)])])); // a caches aria_f as a counter
      await b.deleteGroup(validGroup(G), 10); // no series of aria_f left
      await b.push(
        validPush({
          method: 'PUT',
          group: { job: 'other' },
          pushTimeMs: 20,
          families: [gaugeFamily('aria_f', [[{ x: '1' }, 5]])],
        }),
      );
      const res = await a.store.apply(
        validApplies([req('m2', G, [inc('aria_f', {}, 1), inc('aria_ok_total', {}, 1)])]),
      );
      expect(res[0]!.status).toBe('applied');
      expect(res[0]!.rejected.map((r) => r.index)).toEqual([0]);
      expect(res[0]!.rejected[0]!.error).toBeInstanceOf(FamilyConflictError);
      const snap = await a.store.snapshot();
      expect(valueIn(snap, { job: 'other' }, 'aria_f', { x: '1' })).toBe(5);
      expect(valueIn(snap, G, 'aria_ok_total')).toBe(1);
    } finally {
      await b.close();
    }
  });

  it('a store that believes a series exists recreates it after another store deleted the group', async () => {
    const a = await open({ limits: { maxSeriesTotal: 1 } });
    const b = await DynamoStore.open({
      client: testDynamoClient(),
      ...a.tables,
      ownsClient: true,
      limits: { maxSeriesTotal: 1 },
    });
    try {
      await a.store.apply(validApplies([req('m1', G, [inc('aria_x_total', {}, 5)])]));
      await b.deleteGroup(validGroup(G), 10);
      const res = await a.store.apply(validApplies([req('m2', G, [inc('aria_x_total', {}, 1)])]));
      expect(res[0]).toEqual({ id: 'm2', status: 'applied', rejected: [] });
      expect(valueIn(await a.store.snapshot(), G, 'aria_x_total')).toBe(1);
      // The store-wide counter followed: one series, so a second one is refused.
      const res2 = await a.store.apply(validApplies([req('m3', G, [inc('aria_y_total', {}, 1)])]));
      expect(res2[0]!.rejected).toHaveLength(1);
    } finally {
      await b.close();
    }
  });
});

describe('DynamoStore: pushes over 100 items', () => {
  const family = (n: number, v: number) =>
    gaugeFamily(
      'aria_big',
      Array.from({ length: n }, (_, i): [Record<string, string>, number] => [{ k: String(i) }, v]),
    );

  it('a 250-series PUT lands completely; a later smaller PUT removes the rest; an older one is stale', async () => {
    const x = await open();
    expect(
      await x.store.push(validPush({ method: 'PUT', group: G, pushTimeMs: 100, families: [family(250, 1)] })),
    ).toEqual({ status: 'applied' });
    let snap = await x.store.snapshot();
    expect(seriesCount(snap)).toBe(250);
    expect(valueIn(snap, G, 'aria_big', { k: '249' })).toBe(1);
    expect(
      await x.store.push(validPush({ method: 'PUT', group: G, pushTimeMs: 200, families: [family(120, 2)] })),
    ).toEqual({ status: 'applied' });
    snap = await x.store.snapshot();
    expect(seriesCount(snap)).toBe(120);
    expect(valueIn(snap, G, 'aria_big', { k: '119' })).toBe(2);
    expect(
      await x.store.push(validPush({ method: 'PUT', group: G, pushTimeMs: 150, families: [family(300, 3)] })),
    ).toEqual({ status: 'stale' });
    expect(seriesCount(await x.store.snapshot())).toBe(120);
    // Counters followed: the family holds exactly 120 series.
    const c = testDynamoClient();
    try {
      const schema = await c.send(
        new GetItemCommand({
          TableName: x.tables.seriesTable,
          Key: { pk: { S: 'f#aria_big' }, sk: { S: 'schema' } },
          ConsistentRead: true,
        }),
      );
      expect(schema.Item?.n?.N).toBe('120');
    } finally {
      c.destroy();
    }
    expect(
      await x.store.push(validPush({ method: 'DELETE', group: G, pushTimeMs: 300, families: [] })),
    ).toEqual({
      status: 'applied',
    });
    expect((await x.store.snapshot()).groups).toEqual([]);
  });

  it('a NaN pushed into a gauge absorbs later adds instead of failing the request', async () => {
    const x = await open();
    await x.store.push(
      validPush({
        method: 'PUT',
        group: G,
        pushTimeMs: 1,
        families: [gaugeFamily('aria_g', [[{}, Number.NaN]])],
      }),
    );
    const res = await x.store.apply(
      validApplies([req('m', G, [add('aria_g', {}, 1), inc('aria_ok_total', {}, 1)])]),
    );
    expect(res[0]!.status).toBe('applied');
    const snap = await x.store.snapshot();
    expect(valueIn(snap, G, 'aria_g')).toBeNaN();
    expect(valueIn(snap, G, 'aria_ok_total')).toBe(1);
  });
});

describe('DynamoStore: pushes that fail half-way keep the counters exact (issue 11, defect 4)', () => {
  const family = (prefix: string, k: number) =>
    gaugeFamily(
      'aria_pos',
      Array.from({ length: k }, (_, i): [Record<string, string>, number] => [{ s: `${prefix}${i}` }, i]),
    );

  it('a PUT of 250 → 40 series killed after its first transaction, then a DELETE', async () => {
    const x = await open({ limits: { maxSeriesTotal: 600 } });
    await x.store.push(validPush({ method: 'PUT', group: G, pushTimeMs: 1, families: [family('a', 250)] }));
    let k = 0;
    x.faults.add(
      (c) => c === 'TransactWriteItemsCommand' && ++k === 2,
      1,
      () => awsError('ProcessKilled'), // not retryable: the push stops where a killed process would
    );
    await expect(
      x.store.push(validPush({ method: 'PUT', group: G, pushTimeMs: 2, families: [family('b', 40)] })),
    ).rejects.toThrow();
    expectExactCounters(await countersAgainstItems(x));
    await x.store.push(validPush({ method: 'DELETE', group: G, pushTimeMs: 3, families: [] }));
    const after = await countersAgainstItems(x);
    expectExactCounters(after);
    expect(after.counters.total).toBe(0);
    // The limits are whole again: 600 series fit.
    await x.store.push(validPush({ method: 'PUT', group: G2X, pushTimeMs: 4, families: [family('c', 300)] }));
    await x.store.push(validPush({ method: 'PUT', group: G, pushTimeMs: 5, families: [family('d', 300)] }));
    expectExactCounters(await countersAgainstItems(x));
  });

  it('three PUTs of 250 series throttled on their second transaction and retried by the client', async () => {
    const x = await open({ limits: { maxSeriesTotal: 760 } });
    const groups = [0, 1, 2].map((i) => ({ job: 'aria', instance: `t${i}` }));
    for (const [i, g] of groups.entries()) {
      let k = 0;
      x.faults.add(
        (c) => c === 'TransactWriteItemsCommand' && ++k >= 2 && k < 2 + x.store.retryAttempts,
        x.store.retryAttempts,
        () => awsError('ThrottlingException'),
      );
      await expect(
        x.store.push(
          validPush({ method: 'PUT', group: g, pushTimeMs: 10 + i, families: [family(`g${i}`, 250)] }),
        ),
      ).rejects.toThrow(/attempts|retry/i);
      expectExactCounters(await countersAgainstItems(x));
      // The client retries the same push.
      expect(
        (
          await x.store.push(
            validPush({
              method: 'PUT',
              group: g,
              pushTimeMs: 10 + i,
              families: [family(`g${i}`, 250)],
            }),
          )
        ).status,
      ).toBe('applied');
    }
    const r = await countersAgainstItems(x);
    expectExactCounters(r);
    expect(r.counters.total).toBe(750);
    // Healthy writes up to the limit still go through (no phantom series).
    const res = await x.store.apply(validApplies([req('m', G, [inc('aria_fills_total', {}, 1)])]));
    expect(res[0]!.rejected).toEqual([]);
    expect(seriesCount(await x.store.snapshot())).toBe(751);
  });
});

describe('DynamoStore: the group count follows the meta items (issue 11, defect 6)', () => {
  /** `c#groups`.n and the number of meta items, from one consistent scan. */
  async function groupCount(x: Opened): Promise<{ counter: number | undefined; metas: number }> {
    const c = testDynamoClient();
    try {
      const out = await c.send(new ScanCommand({ TableName: x.tables.seriesTable, ConsistentRead: true }));
      const items = out.Items ?? [];
      const counter = items.find((i) => i.pk?.S === 'c#groups')?.n?.N;
      const metas = items.filter((i) => i.sk?.S === 'meta' && i.pk?.S?.startsWith('g#')).length;
      return { counter: counter === undefined ? undefined : Number(counter), metas };
    } finally {
      c.destroy();
    }
  }

  it('through applies, pushes, failures, DELETEs, expiry, tombstone removal, concurrent creators and wipe', async () => {
    const clock = { t: 1_000_000 };
    const x = await open({ now: () => clock.t, tombstoneTtlSeconds: 60 });
    const peer = await DynamoStore.open({
      client: testDynamoClient(),
      ...x.tables,
      now: () => clock.t,
      tombstoneTtlSeconds: 60,
      ownsClient: true,
    });
    await Promise.all(
      [x.store, peer].flatMap((s, si) =>
        Array.from({ length: 6 }, (_, i) =>
          s.apply(validApplies([req(`c${si}-${i}`, { job: `g${i % 4}` }, [inc('aria_fills_total', {}, 1)])])),
        ),
      ),
    );
    expect(await groupCount(x)).toEqual({ counter: 4, metas: 4 });
    await x.store.push(validPush({ method: 'PUT', group: { job: 'p' }, pushTimeMs: 1, families: [] }));
    await peer.recordPushFailure(validGroup({ job: 'f' }), 1, 'refused');
    await peer.close();
    await x.store.deleteGroup(validGroup({ job: 'unknown' }), 1); // a counted tombstone
    await x.store.deleteGroup(validGroup({ job: 'g0' }), 2); // a live group becomes a tombstone: no change
    expect(await groupCount(x)).toEqual({ counter: 7, metas: 7 });
    clock.t += 120_000;
    await x.store.apply(validApplies([req('fresh', { job: 'g1' }, [inc('aria_fills_total', {}, 1)])]));
    // Groups not updated for 60 s expire; tombstones past their 60 s go too.
    await x.store.expire(clock.t, 60_000);
    expect(await groupCount(x)).toEqual({ counter: 1, metas: 1 });
    await x.store.wipe();
    await x.store.apply(validApplies([req('after-wipe', { job: 'w' }, [inc('aria_fills_total', {}, 1)])]));
    expect(await groupCount(x)).toEqual({ counter: 1, metas: 1 });
  });
});

describe('DynamoStore: the group meta item is not written by every apply (issue 11, defect 8)', () => {
  it('applies to existing series leave the meta item alone; readers still see the newest times', async () => {
    const clock = { t: 1_000_000 };
    const x = await open({ now: () => clock.t });
    const metaItem = async () => {
      const c = testDynamoClient();
      try {
        const out = await c.send(new ScanCommand({ TableName: x.tables.seriesTable, ConsistentRead: true }));
        return (out.Items ?? []).find((i) => i.sk?.S === 'meta');
      } finally {
        c.destroy();
      }
    };
    await x.store.apply(validApplies([req('a0', G, [inc('aria_fills_total', {}, 1)], 500)]));
    const before = await metaItem();
    for (let i = 1; i <= 5; i++) {
      clock.t += 1_000;
      await x.store.apply(validApplies([req(`a${i}`, G, [inc('aria_fills_total', {}, 1)], 500 + i)]));
    }
    expect(await metaItem()).toEqual(before);
    const g = (await x.store.snapshot()).groups[0]!;
    expect(g.lastUpdateMs).toBe(clock.t);
    expect(g.lastPushMs).toBe(clock.t);
    expect(g.lastEventMs).toBe(505);
    // A new series changes the group's count: the meta item is written then.
    await x.store.apply(validApplies([req('new', G, [inc('aria_fills_total', { side: 'buy' }, 1)])]));
    expect((await metaItem())?.n?.N).toBe('2');
  });
});

describe('DynamoStore: no hot partition for the generation (issue 11, defect 8)', () => {
  it('the generation shards written by many requests sit on several partitions', async () => {
    const x = await open();
    const before = Number(await x.store.generation());
    for (let i = 0; i < 40; i++)
      await x.store.apply(validApplies([req(`m${i}`, G, [inc('aria_fills_total', {}, 1)])]));
    expect(Number(await x.store.generation())).toBe(before + 40);
    const c = testDynamoClient();
    try {
      const out = await c.send(new ScanCommand({ TableName: x.tables.seriesTable, ConsistentRead: true }));
      const genPks = new Set(
        (out.Items ?? []).map((i) => i.pk?.S ?? '').filter((pk) => pk.startsWith('gen')),
      );
      expect([...genPks].every((pk) => /^gen#\d\d$/.test(pk))).toBe(true);
      expect(genPks.size).toBeGreaterThan(4);
    } finally {
      c.destroy();
    }
  });
});

describe('DynamoStore: hostile ids and group labels', () => {
  it.each([
    ['a 5,000-character id (hashed in the ledger key)', 'x'.repeat(5000), G],
    ['an id with newline, quotes and NUL', 'a\n"b"\u0000c', G],
    ['__proto__ as id', '__proto__', G],
    ['constructor as id', 'constructor', G],
    ['unicode id', 'Zürich-東京-🚀', G],
    ['group label values with newlines and quotes', 'g1', { job: 'a"b\nc', instance: '\\x' }],
    ['a 1,000-character group label value', 'g2', { job: 'j', instance: 'i'.repeat(1000) }],
    ['group label named constructor', 'g3', { job: 'j', constructor: 'x' }],
  ])('%s: applied once, duplicate after', async (_t, id, group) => {
    const x = await open();
    const r = req(id, group, [inc('aria_x_total', {}, 2), set('aria_g', {}, 1, 1)]);
    expect((await x.store.apply(validApplies([r])))[0]!.status).toBe('applied');
    expect((await x.store.apply(validApplies([r])))[0]!.status).toBe('duplicate');
    const snap = await x.store.snapshot();
    expect(snap.groups).toHaveLength(1);
    expect({ ...snap.groups[0]!.key }).toEqual({ ...group });
    expect(valueIn(snap, group, 'aria_x_total')).toBe(2);
  });
});

describe('DynamoStore: values DynamoDB cannot add (read-modify-write)', () => {
  const P = 2 ** 1000; // beyond DynamoDB's number range, exact in binary floating point
  it.each([
    [
      'huge increments add exactly',
      [inc('aria_c_total', {}, P), inc('aria_c_total', {}, P)],
      'aria_c_total',
      2 * P,
    ],
    [
      'a normal counter takes a huge increment, then small ones',
      [inc('aria_c_total', {}, 5), inc('aria_c_total', {}, 1e21), inc('aria_c_total', {}, 0.5)],
      'aria_c_total',
      5 + 1e21 + 0.5,
    ],
    [
      'a set beyond the range, then adds',
      [set('aria_g', {}, P, 1), add('aria_g', {}, P), add('aria_g', {}, -P)],
      'aria_g',
      P,
    ],
    ['negative huge adds', [add('aria_g', {}, -P), add('aria_g', {}, -P)], 'aria_g', -2 * P],
  ] as Array<[string, MetricOp[], string, number]>)('%s', async (_t, ops, name, want) => {
    const x = await open();
    for (const [i, op] of ops.entries()) {
      const r = await x.store.apply(validApplies([req(`m${i}`, G, [op])]));
      expect(r[0]).toEqual({ id: `m${i}`, status: 'applied', rejected: [] });
    }
    expect(valueIn(await x.store.snapshot(), G, name)).toBe(want);
  });

  it('a pushed +Inf absorbs increments of either sign', async () => {
    const x = await open();
    await x.store.push(
      validPush({
        method: 'PUT',
        group: G,
        pushTimeMs: 1,
        families: [gaugeFamily('aria_g', [[{}, Number.POSITIVE_INFINITY]])],
      }),
    );
    await x.store.apply(validApplies([req('a', G, [add('aria_g', {}, 1)])]));
    expect(valueIn(await x.store.snapshot(), G, 'aria_g')).toBe(Number.POSITIVE_INFINITY);
    await x.store.apply(validApplies([req('b', G, [add('aria_g', {}, -1e300)])]));
    expect(valueIn(await x.store.snapshot(), G, 'aria_g')).toBe(Number.POSITIVE_INFINITY);
  });

  it('huge increments from 3 stores at once are all counted', async () => {
    const a = await open();
    const others = await Promise.all(
      [1, 2].map(() =>
        DynamoStore.open({
          client: testDynamoClient(),
          ...a.tables,
          ownsClient: true,
          retry: { attempts: 12, baseMs: 5, capMs: 100 },
        }),
      ),
    );
    try {
      await a.store.apply(validApplies([req('seed', G, [inc('aria_c_total', {}, P)])]));
      const stores = [a.store, ...others];
      const res = await Promise.all(
        stores.flatMap((st, w) =>
          [0, 1].map((i) => st.apply(validApplies([req(`w${w}-${i}`, G, [inc('aria_c_total', {}, P)])]))),
        ),
      );
      expect(res.flat().map((r) => r.status)).toEqual(new Array(6).fill('applied'));
      expect(valueIn(await a.store.snapshot(), G, 'aria_c_total')).toBe(7 * P);
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
  });
});

describe('DynamoStore: a rewritten histogram keeps the ADD path exact sum', () => {
  it('a native histogram rewritten (lower schema) sums its decimals exactly: 0.1 + 0.2 is 0.3', async () => {
    const x = await open();
    const nat = (values: number[], schema: number, sum: number): MetricOp => ({
      ...observe('aria_lat_seconds', {}, B, values),
      sum,
      native: observeNative(values, schema, 0).native,
    });
    // Schema 3, then schema 1: merging the lower schema rewrites the item whole (read, then Put).
    await x.store.apply(validApplies([req('r1', G, [nat([0.05], 3, 0.1)])]));
    await x.store.apply(validApplies([req('r2', G, [nat([0.15], 1, 0.2)])]));
    expect(histogramOf(await x.store.snapshot(), G, 'aria_lat_seconds')?.sum).toBe(0.3);
    // And an ADD after the rewrite keeps adding decimals into it.
    await x.store.apply(validApplies([req('r3', G, [nat([0.05], 1, 0.1)])]));
    const h = histogramOf(await x.store.snapshot(), G, 'aria_lat_seconds');
    expect(h?.count).toBe(3);
    expect(h?.sum).toBe(0.4);
  });

  it.each([
    ['0.1', '0.2', '0.3'],
    ['1e+2', '0.000000000001', '100.000000000001'],
    ['-0.5', '0.5', '0'],
    ['12345678901234567890', '-0.25', '12345678901234567889.75'],
    ['1E-3', '-2', '-1.999'],
  ])('addDecimals(%p, %p) is %p', (a, b, sum) => {
    expect(addDecimals(a, b)).toBe(sum);
  });
});

describe('DynamoStore: large groups', () => {
  it('expiring a 250-series group removes every item and frees the limits', async () => {
    let now = 1_000_000;
    const x = await open({ now: () => now, limits: { maxSeriesTotal: 250 } });
    expect((await x.store.apply(validApplies([req('big', G, manySeries(250))])))[0]!.rejected).toEqual([]);
    now += 60_000;
    expect((await x.store.expire(now, 30_000)).map((k) => ({ ...k }))).toEqual([{ ...G }]);
    expect((await x.store.snapshot()).groups).toEqual([]);
    const c = testDynamoClient();
    try {
      const left = await c.send(new ScanCommand({ TableName: x.tables.seriesTable, ConsistentRead: true }));
      expect((left.Items ?? []).filter((i) => i.pk?.S?.startsWith('g#'))).toEqual([]);
    } finally {
      c.destroy();
    }
    expect(
      (await x.store.apply(validApplies([req('again', { job: 'other' }, manySeries(250))])))[0]!.rejected,
    ).toEqual([]);
    expect(seriesCount(await x.store.snapshot())).toBe(250);
  });

  it('another store sees every change in its generation', async () => {
    const a = await open();
    const b = await DynamoStore.open({ client: testDynamoClient(), ...a.tables, ownsClient: true });
    try {
      const seen = new Set([await a.store.generation()]);
      const step = async (fn: () => Promise<unknown>) => {
        await fn();
        const g = await a.store.generation();
        expect(seen.has(g)).toBe(false);
        seen.add(g);
      };
      await step(() => b.apply(validApplies([req('m1', G, [inc('aria_x_total', {}, 1)])])));
      await step(() =>
        b.push(
          validPush({
            method: 'PUT',
            group: { job: 'p' },
            pushTimeMs: 1,
            families: [gaugeFamily('g', [[{}, 1]])],
          }),
        ),
      );
      await step(() => b.apply(validApplies([req('m2', G, [set('aria_g', {}, 1, 5)])])));
      await step(() => b.deleteGroup(validGroup({ job: 'p' }), 2));
      await step(() => b.wipe());
    } finally {
      await b.close();
    }
  });
});

describe('DynamoStore: parallel scan', () => {
  it.each([1, 3, 8])(
    'a snapshot of 3,000 series in 30 groups is complete and exact with %i segment(s)',
    async (segments) => {
      const x = await open({ scanSegments: segments });
      const batch: ApplyRequest[] = [];
      for (let g = 0; g < 30; g++) {
        const ops: MetricOp[] = [];
        for (let i = 0; i < 100; i++) ops.push(inc('aria_scan_total', { i: String(i) }, g * 1000 + i));
        batch.push(req(`g${g}`, { job: 'scan', instance: `i${g}` }, ops));
      }
      const res = await x.store.apply(validApplies(batch));
      expect(res.every((r) => r.status === 'applied')).toBe(true);
      const snap = await x.store.snapshot();
      expect(snap.groups).toHaveLength(30);
      expect(seriesCount(snap)).toBe(3000);
      let sum = 0;
      for (const g of snap.groups)
        for (const f of g.families) for (const s of f.series) sum += 'value' in s ? s.value : 0;
      // sum over g, i of (g*1000 + i)
      expect(sum).toBe(100 * 1000 * ((29 * 30) / 2) + 30 * ((99 * 100) / 2));
      const groups = await x.store.listGroups();
      expect(groups.map((g) => g.seriesPerFamily.aria_scan_total)).toEqual(new Array(30).fill(100));
    },
  );
});

describe('DynamoStore: opened from configuration', () => {
  it('reads endpoint, region, tables, TTL and limits from the environment and creates the tables', async () => {
    const { loadConfig } = await import('../../shared/config');
    const { openDynamoStore } = await import('../../shared/store/dynamodb');
    const { uniqueName, dynamoEndpoint } = await import('../support/aws');
    const cfg = loadConfig({
      ACCRUE_STORE: 'dynamodb',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
      ACCRUE_SERIES_TABLE: uniqueName('cfg-series'),
      ACCRUE_LEDGER_TABLE: uniqueName('cfg-ledger'),
      ACCRUE_MAX_SERIES_TOTAL: '1',
    });
    const store = await openDynamoStore(cfg.store, cfg.aws, { createTables: true });
    try {
      const res = await store.apply(
        validApplies([req('m', G, [inc('a_total', {}, 1), inc('b_total', {}, 1)])]),
      );
      expect(res[0]!.rejected.map((r) => r.index)).toEqual([1]);
      expect(valueIn(await store.snapshot(), G, 'a_total')).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('a missing table fails apply transiently (back to the queue) and ping with a TransientError', async () => {
    const x = await open();
    await x.drop();
    const res = await x.store.apply(validApplies([req('m', G, [inc('a_total', {}, 1)])]));
    expect(res[0]!.status).toBe('failed');
    if (res[0]!.status === 'failed') expect(res[0]!.error.permanent).toBe(false);
    await expect(x.store.ping()).rejects.toBeInstanceOf(TransientError);
  });
});
