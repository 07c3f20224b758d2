/**
 * Test support for the DynamoDB store: fresh tables with unique names on DynamoDB Local (or the endpoint
 * in ACCRUE_TEST_DYNAMODB_ENDPOINT), and fault injection through an SDK middleware (real protocol, the
 * fault replaces the response of chosen commands).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
