/**
 * DynamoDB store benchmark (issue 3): DynamoDB write requests and write capacity units per 1,000 events
 * for a realistic ARIA mix, and apply throughput, on DynamoDB Local.
 *
 * Workload: producer messages of 300 ARIA events each, pre-aggregated the way ingest does (~70 ops over
 * tens of series per message: executions, latency and slippage histograms, errors, a P&L set, an
 * open-positions delta; `tradingRequest` in bench/store.ts), 4 instances (groups).
 *
 * Scenarios:
 * - `lambda-batch-10`: SQS batches of 10 messages per apply() (the event source mapping's default), sequential;
 * - `one-message-per-apply`: batches of 1 (no merging across messages);
 * - `redelivery`: the same batches again (every id a duplicate);
 * - `concurrent-4`: 4 stores (separate clients, like 4 Lambda instances) applying batches of 10 at once;
 * - `lambda-batch-100`: batches of 100 messages (batch size 100 with a batching window, as deployed);
 * - `aria-desk-batch-100`: the same batches from one desk trading 3 symbols: tens of distinct series per
 *   batch, the "realistic trading mix". The cost model uses this one.
 *
 * Write requests are counted by an SDK middleware on the client (every TransactWriteItems, UpdateItem,
 * PutItem, DeleteItem, BatchWriteItem sent, retries included). WCU: what DynamoDB reports with
 * ReturnConsumedCapacity TOTAL; DynamoDB Local reports 0 for transactions, so the figure computed per
 * DynamoDB's pricing rules is given as well: per item written, 2 WCU in a transaction (1 outside) per started
 * KB of the larger of the item before and after the write, with item sizes measured by reading every
 * touched item back after each write (a client of its own, not counted). A warm-up batch (schema
 * creation, first series) runs before the measurement.
 *
 *   npx tsx bench/dynamo.ts            # full run, starts DynamoDB Local itself
 *   npx tsx bench/dynamo.ts --quick    # a few seconds
 *   npx tsx bench/dynamo.ts --endpoint http://127.0.0.1:8000   # an existing endpoint (LocalStack, DynamoDB Local)
 */

import { type AttributeValue, BatchGetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables, DynamoStore, deleteTables } from '../shared/store/dynamodb';
import type { ValidApplyRequest } from '../shared/store/types';
import { dynamoEndpoint } from './dynamo-local';
import { ARIA_DESK_SYMBOLS, tradingRequest } from './store';

export const TARGET_WRITE_REQUESTS_PER_1000_EVENTS = 10;
const EVENTS_PER_MESSAGE = 300;
const WRITE_COMMANDS = new Set([
  'TransactWriteItemsCommand',
  'UpdateItemCommand',
  'PutItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

interface Counter {
  writeRequests: number;
  readRequests: number;
  reportedWcu: number;
  computedWcu: number;
}

/** Item size per DynamoDB's rules (attribute names + values), approximately, in bytes. */
function attrSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M)
    return 3 + Object.entries(v.M).reduce((n, [k, x]) => n + Buffer.byteLength(k) + 1 + attrSize(x), 0);
  if (v.L) return 3 + v.L.reduce((n, x) => n + 1 + attrSize(x), 0);
  return 0;
}

function itemBytes(values: Record<string, AttributeValue> | undefined): number {
  if (!values) return 0;
  return Object.entries(values).reduce((n, [k, v]) => n + Buffer.byteLength(k) + attrSize(v), 0);
}

const kb = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** One item a write request touched: table, key, and whether the request writes it transactionally. */
interface Touched {
  table: string;
  key: Record<string, AttributeValue>;
  /** Size to use when the item is gone afterwards and was never seen (a Put's own item, else 0). */
  put?: Record<string, AttributeValue>;
  factor: number;
}

function touched(command: string, input: Record<string, unknown>): Touched[] {
  type Op = {
    TableName?: string;
    Item?: Record<string, AttributeValue>;
    Key?: Record<string, AttributeValue>;
  };
  const keyOf = (table: string, op: Op): Record<string, AttributeValue> =>
    op.Key ?? (table.includes('ledger') ? { id: op.Item!.id! } : { pk: op.Item!.pk!, sk: op.Item!.sk! });
  if (command === 'TransactWriteItemsCommand') {
    const out: Touched[] = [];
    for (const it of (input.TransactItems ?? []) as Record<string, Op>[]) {
      const op = Object.values(it)[0];
      if (!op?.TableName) continue;
      out.push({
        table: op.TableName,
        key: keyOf(op.TableName, op),
        ...(op.Item ? { put: op.Item } : {}),
        factor: 2,
      });
    }
    return out;
  }
  if (command === 'BatchWriteItemCommand') {
    const out: Touched[] = [];
    for (const [table, reqs] of Object.entries(
      input.RequestItems as Record<string, { PutRequest?: Op; DeleteRequest?: Op }[]>,
    ))
      for (const r of reqs) {
        const op = r.PutRequest ?? r.DeleteRequest;
        if (op)
          out.push({
            table,
            key: keyOf(table, { ...op, TableName: table }),
            ...(r.PutRequest?.Item ? { put: r.PutRequest.Item } : {}),
            factor: 1,
          });
      }
    return out;
  }
  const op = input as Op;
  return op.TableName
    ? [{ table: op.TableName, key: keyOf(op.TableName, op), ...(op.Item ? { put: op.Item } : {}), factor: 1 }]
    : [];
}

/**
 * Write units per DynamoDB's billing rule: per item written, 1 WCU (2 in a transaction) per started KB of
 * the larger of the item before and after the write. Sizes are measured: after each write the bench reads
 * the items it touched (with a client of its own, not counted) and remembers their size for the next write.
 */
class ItemSizer {
  private readonly sizes = new Map<string, number>();
  constructor(private readonly client: DynamoDBClient) {}

  async wcu(items: Touched[]): Promise<number> {
    const after = await this.read(items);
    let wcu = 0;
    items.forEach((t, i) => {
      const k = `${t.table}|${JSON.stringify(t.key)}`;
      const before = this.sizes.get(k) ?? 0;
      const now = after[i] ?? 0;
      wcu += t.factor * kb(Math.max(before, now, t.put ? itemBytes(t.put) : 0));
      this.sizes.set(k, now);
    });
    return wcu;
  }

  private async read(items: Touched[]): Promise<(number | undefined)[]> {
    const out: (number | undefined)[] = new Array(items.length);
    for (let i = 0; i < items.length; i += 100) {
      const chunk = items.slice(i, i + 100);
      const byTable = new Map<string, Record<string, AttributeValue>[]>();
      for (const t of chunk) {
        const keys = byTable.get(t.table) ?? [];
        if (!keys.some((k) => JSON.stringify(k) === JSON.stringify(t.key))) keys.push(t.key);
        byTable.set(t.table, keys);
      }
      let request: Record<string, { Keys: Record<string, AttributeValue>[]; ConsistentRead: boolean }> = {};
      for (const [table, Keys] of byTable) request[table] = { Keys, ConsistentRead: true };
      const found = new Map<string, number>();
      while (Object.keys(request).length > 0) {
        const res = await this.client.send(new BatchGetItemCommand({ RequestItems: request }));
        for (const [table, rows] of Object.entries(res.Responses ?? {}))
          for (const row of rows) {
            const key = table.includes('ledger') ? { id: row.id! } : { pk: row.pk!, sk: row.sk! };
            found.set(`${table}|${JSON.stringify(key)}`, itemBytes(row));
          }
        request = (res.UnprocessedKeys ?? {}) as typeof request;
      }
      chunk.forEach((t, j) => {
        out[i + j] = found.get(`${t.table}|${JSON.stringify(t.key)}`);
      });
    }
    return out;
  }
}

function instrument(client: DynamoDBClient, c: Counter, sizer: ItemSizer): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName ?? '');
      const write = WRITE_COMMANDS.has(command);
      if (write) c.writeRequests++;
      else c.readRequests++;
      // Cancelled transactions are counted too (DynamoDB bills the capacity a failed transaction consumed).
      const out = await next(args).finally(async () => {
        if (!write) return;
        // Read first, then add: `c.computedWcu += await …` would lose concurrent stores' additions.
        const wcu = await sizer.wcu(touched(command, args.input as Record<string, unknown>));
        c.computedWcu += wcu;
      });
      const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      if (write && consumed) {
        for (const x of Array.isArray(consumed) ? consumed : [consumed])
          c.reportedWcu += (x as { CapacityUnits?: number }).CapacityUnits ?? 0;
      }
      return out;
    },
    { step: 'initialize', name: 'benchCounter' },
  );
}

function newClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
}

function batchesOf(reqs: ValidApplyRequest[], size: number): ValidApplyRequest[][] {
  const out: ValidApplyRequest[][] = [];
  for (let i = 0; i < reqs.length; i += size) out.push(reqs.slice(i, i + size));
  return out;
}

interface ScenarioResult {
  scenario: string;
  messages: number;
  events: number;
  writeRequests: number;
  writeRequestsPer1000Events: number;
  reportedWcuPer1000Events: number;
  computedWcuPer1000Events: number;
  readRequestsPer1000Events: number;
  eventsPerSec: number;
  transactions: number;
  cancelled: number;
  retries: number;
  failed: number;
  conditionFailures: string;
}

async function scenario(
  endpoint: string,
  name: string,
  o: {
    messages: number;
    batch: number;
    concurrency: number;
    redeliver?: boolean;
    /** Groups the messages come from. @default 4 */
    instances?: number;
    /** Symbols traded (distinct series grow with them). @default the heavy mix's 12 */
    symbols?: readonly string[];
  },
): Promise<ScenarioResult> {
  const tables = {
    seriesTable: `bench-series-${name}-${process.pid}`,
    ledgerTable: `bench-ledger-${name}-${process.pid}`,
  };
  const admin = newClient(endpoint);
  await createTables(admin, tables);
  const counter: Counter = { writeRequests: 0, readRequests: 0, reportedWcu: 0, computedWcu: 0 };
  const sizer = new ItemSizer(admin);
  const stores: DynamoStore[] = [];
  for (let i = 0; i < o.concurrency; i++) {
    const client = newClient(endpoint);
    instrument(client, counter, sizer);
    stores.push(
      await DynamoStore.open({
        client,
        ...tables,
        ownsClient: true,
        retry: { attempts: 12, baseMs: 10, capMs: 500 },
      }),
    );
  }
  try {
    // Warm-up, as in a running system: 40 older messages (smaller seeds, older event times) create the
    // family schemas and most of the series a steady state has.
    const groups = o.instances ?? 4;
    const msg = (n: number, i: number) => tradingRequest(n, `bench-${i % groups}`, o.symbols);
    const warm = Array.from({ length: 40 }, (_, i) => msg(i + 1, i));
    for (const b of batchesOf(warm, 10)) await stores[0]!.apply(b);
    const reqs = Array.from({ length: o.messages }, (_, i) => msg(1000 + i, i));
    const batches = batchesOf(reqs, o.batch);
    if (o.redeliver) for (const b of batches) await stores[0]!.apply(b);
    Object.assign(counter, { writeRequests: 0, readRequests: 0, reportedWcu: 0, computedWcu: 0 });
    const before = stores.map((s) => ({ ...s.stats }));
    let next = 0;
    let failed = 0;
    const t = process.hrtime.bigint();
    await Promise.all(
      stores.map(async (s) => {
        while (next < batches.length) {
          const res = await s.apply(batches[next++]!);
          failed += res.filter((r) => r.status === 'failed').length;
        }
      }),
    );
    const sec = Number(process.hrtime.bigint() - t) / 1e9;
    const events = o.messages * EVENTS_PER_MESSAGE;
    const per1000 = (x: number) => Math.round((x / events) * 1000 * 100) / 100;
    const delta = (k: 'transactions' | 'cancelled' | 'retries') =>
      stores.reduce((n, s, i) => n + s.stats[k] - before[i]![k], 0);
    return {
      scenario: name,
      messages: o.messages,
      events,
      writeRequests: counter.writeRequests,
      writeRequestsPer1000Events: per1000(counter.writeRequests),
      reportedWcuPer1000Events: per1000(counter.reportedWcu),
      computedWcuPer1000Events: per1000(counter.computedWcu),
      readRequestsPer1000Events: per1000(counter.readRequests),
      eventsPerSec: Math.round(events / sec),
      transactions: delta('transactions'),
      cancelled: delta('cancelled'),
      retries: delta('retries'),
      failed,
      conditionFailures: JSON.stringify(
        stores.reduce<Record<string, number>>((acc, st) => {
          for (const [k, v] of Object.entries(st.stats.conditionFailures)) acc[k] = (acc[k] ?? 0) + v;
          return acc;
        }, {}),
      ),
    };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await deleteTables(admin, tables).catch(() => undefined);
    admin.destroy();
  }
}

export async function run(opts: { quick: boolean; endpoint?: string }): Promise<Record<string, unknown>> {
  const { endpoint, stop } = await dynamoEndpoint(opts.endpoint);
  try {
    const messages = opts.quick ? 40 : 200;
    const results: ScenarioResult[] = [];
    results.push(await scenario(endpoint, 'lambda-batch-10', { messages, batch: 10, concurrency: 1 }));
    results.push(
      await scenario(endpoint, 'one-message-per-apply', { messages: messages / 2, batch: 1, concurrency: 1 }),
    );
    results.push(
      await scenario(endpoint, 'redelivery', { messages, batch: 10, concurrency: 1, redeliver: true }),
    );
    results.push(await scenario(endpoint, 'concurrent-4', { messages, batch: 10, concurrency: 4 }));
    // The deployed default (infra: batch size 100 with a batching window): series deltas of the whole
    // batch merge into few transactions, which is what sets the WCU (and so the cost) per event.
    const big = await scenario(endpoint, 'lambda-batch-100', {
      messages: Math.max(messages, 100),
      batch: 100,
      concurrency: 1,
    });
    results.push(big);
    // The mix: one desk (3 symbols, one instance), hundreds of events per message, tens of
    // distinct series per batch. Cost per event follows distinct series per batch, not events.
    const desk = await scenario(endpoint, 'aria-desk-batch-100', {
      messages: Math.max(messages, 100),
      batch: 100,
      concurrency: 1,
      instances: 1,
      symbols: ARIA_DESK_SYMBOLS,
    });
    results.push(desk);
    const main = results[0]!;
    return {
      endpoint: opts.endpoint ? endpoint : 'DynamoDB Local (started by the bench)',
      eventsPerMessage: EVENTS_PER_MESSAGE,
      targetWriteRequestsPer1000Events: TARGET_WRITE_REQUESTS_PER_1000_EVENTS,
      targetMet: results.every((r) => r.writeRequestsPer1000Events <= TARGET_WRITE_REQUESTS_PER_1000_EVENTS),
      writeRequestsPer1000Events: main.writeRequestsPer1000Events,
      computedWcuPer1000Events: main.computedWcuPer1000Events,
      batch100: {
        writeRequestsPer1000Events: big.writeRequestsPer1000Events,
        computedWcuPer1000Events: big.computedWcuPer1000Events,
      },
      deskBatch100: {
        writeRequestsPer1000Events: desk.writeRequestsPer1000Events,
        computedWcuPer1000Events: desk.computedWcuPer1000Events,
      },
      eventsPerSec: main.eventsPerSec,
      scenarios: results,
    };
  } finally {
    await stop();
  }
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--endpoint');
  const endpoint = i > 0 ? process.argv[i + 1] : undefined;
  run({ quick, ...(endpoint ? { endpoint } : {}) })
    .then((r) => {
      const { scenarios, ...summary } = r as { scenarios: ScenarioResult[] } & Record<string, unknown>;
      console.log('DynamoDB store, ARIA mix (300 events per message)');
      console.table(scenarios);
      console.log(summary);
      console.log(summary.targetMet ? 'target met' : 'TARGET MISSED');
    })
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
