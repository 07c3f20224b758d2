import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../shared/store/dynamodb';
import type { Store } from '../../shared/store/types';
import { awsError, type DynamoFaults, openTestDynamoStore } from '../integration/dynamo-store-support';
import { testDynamoClient } from '../support/aws';
import { runStoreContract } from './store-contract';

const faults = new WeakMap<Store, DynamoFaults>();
const tablesOf = new WeakMap<Store, { seriesTable: string; ledgerTable: string }>();
const clientOf = new WeakMap<Store, DynamoDBClient>();

/** Holds the client's next transaction after the one that follows `pauseNextPush` (a push's first). */
function pauseAfterFirstTransaction(client: DynamoDBClient): { paused: Promise<void>; resume(): void } {
  let passed = 0;
  let onPaused!: () => void;
  let resume!: () => void;
  const paused = new Promise<void>((r) => {
    onPaused = r;
  });
  const gate = new Promise<void>((r) => {
    resume = r;
  });
  const name = `pause-${Math.random()}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (
        (context as { commandName?: string }).commandName === 'TransactWriteItemsCommand' &&
        passed++ === 1
      ) {
        onPaused();
        await gate;
        client.middlewareStack.remove(name);
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { paused, resume };
}

runStoreContract('DynamoStore (DynamoDB Local)', {
  newStore: async (o) => {
    const {
      store,
      faults: f,
      tables,
      client,
    } = await openTestDynamoStore({ limits: o?.limits, now: o?.now });
    faults.set(store, f);
    tablesOf.set(store, tables);
    clientOf.set(store, client);
    return store;
  },
  // Fails the second part of the request's transactions (ledger `<id>#1`) until the store gives up.
  injectApplyFault: (store, id) =>
    faults.get(store)?.failTransactionsWithLedger(`${id}#1`, (store as DynamoStore).retryAttempts),
  // A push whose content is written but whose ledger entry can't be settled (every retry throttled).
  injectPushFault: (store, id) =>
    faults.get(store)?.add(
      (c, input) => c === 'UpdateItemCommand' && (input.Key as { id?: { S?: string } })?.id?.S === `i#${id}`,
      (store as DynamoStore).retryAttempts,
      () => awsError('ThrottlingException'),
    ),
  pauseNextPush: (store) => pauseAfterFirstTransaction(clientOf.get(store)!),
  // A second process: its own client and store over the same tables.
  openPeer: async (store, o) =>
    DynamoStore.open({
      client: testDynamoClient(),
      ...tablesOf.get(store)!,
      ownsClient: true,
      ...(o?.now ? { now: o.now } : {}),
    }),
});
