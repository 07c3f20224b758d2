/**
 * Test support for the DynamoDB store: fresh tables with unique names on DynamoDB Local (or the endpoint
 * in ACCRUE_TEST_DYNAMODB_ENDPOINT), and fault injection through an SDK middleware (real protocol, the
 * fault replaces the response of chosen commands).
 */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { labelsKey } from '../../shared/model/identity';
import {
  createTables,
  DynamoStore,
  type DynamoStoreOptions,
  deleteTables,
} from '../../shared/store/dynamodb';
import type { StoreLimits } from '../../shared/store/types';
import { testDynamoClient, uniqueName } from '../support/aws';

type Input = Record<string, unknown>;
type Rule = { match: (command: string, input: Input) => boolean; left: number; error: () => Error };

/** Fault injection on one client: each rule fails the next `left` matching commands. */
export class DynamoFaults {
  private readonly rules: Rule[] = [];
  /** Commands seen, by name. */
  readonly seen: Record<string, number> = {};
  injected = 0;

  constructor(client: DynamoDBClient) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String((context as { commandName?: string }).commandName ?? '');
        this.seen[command] = (this.seen[command] ?? 0) + 1;
        const input = args.input as Input;
        for (const r of this.rules) {
          if (r.left > 0 && r.match(command, input)) {
            r.left--;
            this.injected++;
            throw r.error();
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'accrueTestFaults' },
    );
  }

  add(match: Rule['match'], times: number, error: () => Error): void {
    this.rules.push({ match, left: times, error });
  }

  /** Throttles the next `times` transactions that put the ledger item of request (part) `id`. */
  failTransactionsWithLedger(id: string, times: number): void {
    this.add(
      (c, input) => c === 'TransactWriteItemsCommand' && hasLedger(input, id),
      times,
      () => awsError('ThrottlingException'),
    );
  }
}

function hasLedger(input: Input, id: string): boolean {
  const items = (input.TransactItems ?? []) as { Put?: { Item?: { id?: { S?: string } } } }[];
  return items.some((i) => i.Put?.Item?.id?.S === `i#${id}`);
}

/** An error shaped like the SDK's service exceptions. */
export function awsError(name: string, extra: Record<string, unknown> = {}): Error {
  const e = new Error(`${name} (injected by the test)`);
  e.name = name;
  Object.assign(e, { $fault: 'client', $metadata: { httpStatusCode: 400 }, ...extra });
  return e;
}

export interface TestStoreOptions {
  readonly limits?: Partial<StoreLimits>;
  readonly now?: () => number;
  readonly retry?: DynamoStoreOptions['retry'];
  readonly scanSegments?: number;
  readonly tombstoneTtlSeconds?: number;
}

/** A DynamoStore on two fresh tables; close() destroys the client (tables are left to DynamoDB Local's in-memory lifetime). */
export async function openTestDynamoStore(o: TestStoreOptions = {}): Promise<{
  store: DynamoStore;
  client: DynamoDBClient;
  faults: DynamoFaults;
  tables: { seriesTable: string; ledgerTable: string };
  drop: () => Promise<void>;
}> {
  const client = testDynamoClient();
  const faults = new DynamoFaults(client);
  const tables = { seriesTable: uniqueName('series'), ledgerTable: uniqueName('ledger') };
  await createTables(client, tables);
  const store = await DynamoStore.open({
    client,
    ...tables,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.now ? { now: o.now } : {}),
    retry: { attempts: 4, baseMs: 2, capMs: 20, ...(o.retry ?? {}) },
    ...(o.scanSegments ? { scanSegments: o.scanSegments } : {}),
    ...(o.tombstoneTtlSeconds ? { tombstoneTtlSeconds: o.tombstoneTtlSeconds } : {}),
    ownsClient: true,
  });
  const drop = async () => {
    const c = testDynamoClient();
    try {
      await deleteTables(c, tables);
    } finally {
      c.destroy();
    }
  };
  return { store, client, faults, tables, drop };
}

/** Value of a counter/gauge series in a snapshot; undefined when absent. */
export function valueIn(
  snap: import('../../shared/store/types').StoreSnapshot,
  group: Readonly<Record<string, string>>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const gk = labelsKey(group);
  const g = snap.groups.find((x) => labelsKey(x.key) === gk);
  const f = g?.families.find((x) => x.name === name);
  if (!f || f.type === 'histogram' || f.type === 'summary') return undefined;
  const k = labelsKey(labels);
  return f.series.find((x) => labelsKey(x.labels) === k)?.value;
}

/** The counters the store keeps (group meta `n`, family schema `n`, store total) against the items stored. */
export async function countersAgainstItems(x: { tables: { seriesTable: string } }) {
  const c = testDynamoClient();
  try {
    const items: Record<string, { S?: string; N?: string; M?: unknown }>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await c.send(
        new ScanCommand({
          TableName: x.tables.seriesTable,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start as never } : {}),
        }),
      );
      items.push(...((out.Items ?? []) as never[]));
      start = out.LastEvaluatedKey;
    } while (start);
    const seriesPerGroup: Record<string, number> = {};
    const seriesPerFamily: Record<string, number> = {};
    const metaN: Record<string, number> = {};
    const familyN: Record<string, number> = {};
    let total = 0;
    let packed = 0;
    let totalN = 0;
    for (const it of items) {
      const pk = it.pk!.S!;
      const sk = it.sk!.S!;
      if (pk.startsWith('g#') && sk.startsWith('s#')) {
        seriesPerGroup[pk] = (seriesPerGroup[pk] ?? 0) + 1;
        seriesPerFamily[it.f!.S!] = (seriesPerFamily[it.f!.S!] ?? 0) + 1;
        total++;
      } else if (pk.startsWith('g#') && sk.startsWith('v#')) {
        // A series pack: one map attribute per series (named by its 22-character label digest), count `k`.
        const k = Object.entries(it).filter(([name, v]) => name.length === 22 && v.M !== undefined).length;
        expect(Number(it.k?.N ?? 0)).toBe(k);
        seriesPerGroup[pk] = (seriesPerGroup[pk] ?? 0) + k;
        seriesPerFamily[it.f!.S!] = (seriesPerFamily[it.f!.S!] ?? 0) + k;
        packed += k;
        total += k;
      } else if (pk.startsWith('g#') && sk === 'meta') metaN[pk] = Number(it.n?.N ?? 0);
      else if (pk.startsWith('f#')) familyN[it.name!.S!] = Number(it.n?.N ?? 0);
      else if (pk === 'c#total') totalN = Number(it.n?.N ?? 0);
    }
    for (const pk of Object.keys(metaN)) seriesPerGroup[pk] ??= 0;
    for (const f of Object.keys(familyN)) seriesPerFamily[f] ??= 0;
    return {
      items: { total, packed, seriesPerGroup, seriesPerFamily },
      counters: { total: totalN, metaN, familyN },
    };
  } finally {
    c.destroy();
  }
}

export function expectExactCounters(r: Awaited<ReturnType<typeof countersAgainstItems>>): void {
  expect(r.counters.total).toBe(r.items.total);
  expect(r.counters.familyN).toEqual(r.items.seriesPerFamily);
  // A tombstoned group keeps n = 0 while its last series are deleted; live groups count exactly.
  for (const [pk, n] of Object.entries(r.counters.metaN))
    expect([pk, n]).toEqual([pk, r.items.seriesPerGroup[pk]]);
}

export type OpenedStore = Awaited<ReturnType<typeof openTestDynamoStore>>;

/** `open()` for a test file: every store it opens is closed, and its tables dropped, after each test. */
export function storesClosedAfterEach(): (o?: TestStoreOptions) => Promise<OpenedStore> {
  const opened: OpenedStore[] = [];
  afterEach(async () => {
    for (const x of opened.splice(0)) {
      await x.store.close();
      await x.drop();
    }
  });
  return async (o = {}) => {
    const x = await openTestDynamoStore(o);
    opened.push(x);
    return x;
  };
}
