/**
 * The group counter `c#groups` on DynamoDB Local after an upgrade (issue 11, the staged-revision risks):
 * tombstones written by older versions (TTL attribute `expiresAt`) are taken away from DynamoDB's TTL by
 * expire(), so none disappears without its -1; and a missing counter is counted once per process however
 * many writes wait for it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../shared/store/dynamodb';
import { inc, req } from '../contract/helpers';
import { testDynamoClient } from '../support/aws';
import { validApplies, validGroup } from '../support/edge';
import { openTestDynamoStore } from './dynamo-store-support';

type Opened = Awaited<ReturnType<typeof openTestDynamoStore>>;
const opened: Opened[] = [];
const others: DynamoStore[] = [];
async function open(o: Parameters<typeof openTestDynamoStore>[0] = {}): Promise<Opened> {
  const x = await openTestDynamoStore(o);
  opened.push(x);
  return x;
}
afterEach(async () => {
  for (const s of others.splice(0)) await s.close();
  for (const x of opened.splice(0)) {
    await x.store.close();
    await x.drop();
  }
});

type Raw = Record<string, { S?: string; N?: string }>;

/** Every item of the series table, one consistent scan (DynamoDB Local: one page). */
async function items(x: Opened): Promise<Raw[]> {
  const c = testDynamoClient();
  try {
    const out = await c.send(new ScanCommand({ TableName: x.tables.seriesTable, ConsistentRead: true }));
    return (out.Items ?? []) as Raw[];
  } finally {
    c.destroy();
  }
}

async function groupCount(x: Opened): Promise<{ counter: number | undefined; metas: number }> {
  const all = await items(x);
  const counter = all.find((i) => i.pk?.S === 'c#groups')?.n?.N;
  const metas = all.filter((i) => i.sk?.S === 'meta' && i.pk?.S?.startsWith('g#')).length;
  return { counter: counter === undefined ? undefined : Number(counter), metas };
}

async function send(cmd: UpdateItemCommand | DeleteItemCommand): Promise<void> {
  const c = testDynamoClient();
  try {
    await c.send(cmd as UpdateItemCommand);
  } finally {
    c.destroy();
  }
}

describe('DynamoStore: the group counter after an upgrade', () => {
  it("expire() moves an older version's tombstone off DynamoDB's TTL, then removes it with its -1", async () => {
    const clock = { t: 1_000_000_000 };
    const x = await open({ now: () => clock.t, tombstoneTtlSeconds: 60 });
    await x.store.deleteGroup(validGroup({ job: 'gone' }), 1); // a tombstone, counted
    expect(await groupCount(x)).toEqual({ counter: 1, metas: 1 });
    // As an older version wrote it: the TTL attribute instead of tombUntil.
    const meta = (await items(x)).find((i) => i.sk?.S === 'meta')!;
    const due = Math.floor(clock.t / 1000) + 60;
    await send(
      new UpdateItemCommand({
        TableName: x.tables.seriesTable,
        Key: { pk: { S: meta.pk!.S! }, sk: { S: 'meta' } },
        UpdateExpression: 'SET expiresAt = :d REMOVE tombUntil',
        ExpressionAttributeValues: { ':d': { N: String(due) } },
      }),
    );
    // Not due yet: expire() leaves it, but DynamoDB's TTL can no longer take it.
    await x.store.expire(clock.t, 3_600_000);
    const moved = (await items(x)).find((i) => i.sk?.S === 'meta')!;
    expect(moved.expiresAt).toBeUndefined();
    expect(moved.tombUntil?.N).toBe(String(due));
    expect(await groupCount(x)).toEqual({ counter: 1, metas: 1 });
    // Once due, expire() removes it and counts it out.
    clock.t += 120_000;
    await x.store.expire(clock.t, 3_600_000);
    expect(await groupCount(x)).toEqual({ counter: 0, metas: 0 });
  });

  it('a missing counter is counted by one Scan however many writes of the process wait for it', async () => {
    const x = await open();
    await x.store.apply(validApplies([req('first', { job: 'g0' }, [inc('aria_fills_total', {}, 1)])]));
    // A table from before the counter: the item is gone.
    await send(
      new DeleteItemCommand({
        TableName: x.tables.seriesTable,
        Key: { pk: { S: 'c#groups' }, sk: { S: 'c' } },
      }),
    );
    expect(await groupCount(x)).toEqual({ counter: undefined, metas: 1 });
    // A fresh process (empty caches) whose Scans are counted (one per full scan: its first segment).
    const client = testDynamoClient();
    let scans = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Segment?: number };
        if ((context as { commandName?: string }).commandName === 'ScanCommand' && !input.Segment) scans++;
        return next(args);
      },
      { step: 'initialize', name: 'countScans' },
    );
    // As on a loaded machine: the writes' refusals ("counter missing") come back spread out, some after the
    // first count has ended (2 Scans in loaded full runs before; 2 to 4 with this delay).
    let refused = 0;
    client.middlewareStack.add(
      (next, context) => (args) =>
        next(args).catch(async (err: unknown) => {
          if ((context as { commandName?: string }).commandName === 'TransactWriteItemsCommand')
            await sleep(150 * refused++);
          throw err;
        }),
      { step: 'initialize', name: 'spreadRefusals' },
    );
    const s = await DynamoStore.open({ client, ...x.tables, ownsClient: true });
    others.push(s);
    const res = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        s.apply(validApplies([req(`new-${i}`, { job: `n${i}` }, [inc('aria_fills_total', {}, 1)])])),
      ),
    );
    expect(res.map((r) => r[0]!.status)).toEqual(new Array(8).fill('applied'));
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(scans).toBe(1);
    expect(await groupCount(x)).toEqual({ counter: 9, metas: 9 });
  });
});
