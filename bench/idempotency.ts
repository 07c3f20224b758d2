/**
 * What an `Idempotency-Key` costs a push (docs/service.md "Exactly-once writes"): pushes of one small group
 * (10 gauge series) with and without a key, on the memory store and on DynamoDB Local, in the same run.
 * Reported per push: wall time (mean) and, on DynamoDB, write and read requests sent (a middleware counts
 * every command), for first pushes and for repeats of a used key (the retry case).
 *
 *   npx tsx bench/idempotency.ts            # starts DynamoDB Local itself
 *   npx tsx bench/idempotency.ts --quick    # fewer pushes
 *   npx tsx bench/idempotency.ts --endpoint http://127.0.0.1:8000
 *
 * Figures under load (shared machine) are pessimistic; compare the ratios, which come from one run.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MetricFamily } from '../shared/model/types';
import { createTables, DynamoStore, deleteTables } from '../shared/store/dynamodb';
import { MemoryStore } from '../shared/store/memory';
import type { PushRequest, Store } from '../shared/store/types';
import { validatePushRequest } from '../shared/store/valid';
import { dynamoEndpoint } from './dynamo-local';

const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand']);

interface Row {
  store: string;
  case: string;
  pushes: number;
  meanMs: number;
  writeRequestsPerPush?: number;
  readRequestsPerPush?: number;
}

function families(v: number): MetricFamily[] {
  const series = Array.from({ length: 10 }, (_, i) => ({ labels: { i: String(i) }, value: v + i }));
  return [{ name: 'bench_gauge', help: 'Bench.', type: 'gauge', series }];
}

async function measure(
  store: Store,
  name: string,
  label: string,
  n: number,
  request: (i: number) => PushRequest,
  counts?: { writes: number; reads: number },
): Promise<Row> {
  const w0 = counts?.writes ?? 0;
  const r0 = counts?.reads ?? 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await store.push(validatePushRequest(request(i)));
  const ms = performance.now() - t0;
  const row: Row = { store: name, case: label, pushes: n, meanMs: +(ms / n).toFixed(3) };
  if (counts) {
    row.writeRequestsPerPush = +((counts.writes - w0) / n).toFixed(2);
    row.readRequestsPerPush = +((counts.reads - r0) / n).toFixed(2);
  }
  return row;
}

async function cases(store: Store, name: string, n: number, counts?: { writes: number; reads: number }) {
  const t = Date.now();
  const plain = (i: number): PushRequest => ({
    method: 'PUT',
    group: { job: 'bench', instance: name },
    pushTimeMs: t + i,
    families: families(i),
  });
  const keyed = (i: number): PushRequest => ({ ...plain(n + i), families: families(i), id: `bench-${i}` });
  const rows = [
    await measure(store, name, 'PUT without key', n, plain, counts),
    await measure(store, name, 'PUT with a new key', n, keyed, counts),
    await measure(
      store,
      name,
      'PUT repeating a used key (replay)',
      n,
      (i) => ({ ...keyed(i), pushTimeMs: t + 3 * n + i }),
      counts,
    ),
  ];
  return rows;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const ei = process.argv.indexOf('--endpoint');
  const { endpoint, stop } = await dynamoEndpoint(ei > 0 ? process.argv[ei + 1] : undefined);
  const n = quick ? 50 : 300;
  const rows: Row[] = [];
  try {
    const mem = await MemoryStore.open({});
    rows.push(...(await cases(mem, 'memory', n)));
    await mem.close();

    const client = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    const counts = { writes: 0, reads: 0 };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const c = String((context as { commandName?: string }).commandName ?? '');
        if (READS.has(c)) counts.reads++;
        else counts.writes++;
        return next(args);
      },
      { step: 'initialize', name: 'benchCount' },
    );
    const tables = {
      seriesTable: `bench-idem-series-${Date.now()}`,
      ledgerTable: `bench-idem-ledger-${Date.now()}`,
    };
    await createTables(client, tables);
    const dyn = await DynamoStore.open({ client, ...tables });
    // Warm-up: the family schema and the series exist before the measurement.
    await dyn.push(
      validatePushRequest({
        method: 'PUT',
        group: { job: 'bench', instance: 'dynamodb' },
        pushTimeMs: 1,
        families: families(0),
      }),
    );
    rows.push(...(await cases(dyn, 'dynamodb', n, counts)));
    await dyn.close();
    await deleteTables(client, tables);
    client.destroy();
  } finally {
    await stop();
  }
  console.table(rows);
  for (const s of ['memory', 'dynamodb']) {
    const base = rows.find((r) => r.store === s && r.case === 'PUT without key')!.meanMs;
    for (const r of rows.filter((x) => x.store === s && x.case !== 'PUT without key'))
      console.log(`${s}: ${r.case}: ${(r.meanMs / base).toFixed(2)}x the time of a PUT without key`);
  }
}

void main();
