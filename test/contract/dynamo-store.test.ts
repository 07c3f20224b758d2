import { DynamoStore } from '../../shared/store/dynamodb';
import type { Store } from '../../shared/store/types';
import { awsError, type DynamoFaults, openTestDynamoStore } from '../integration/dynamo-store-support';
import { testDynamoClient } from '../support/aws';
import { runStoreContract } from './store-contract';

const faults = new WeakMap<Store, DynamoFaults>();
const tablesOf = new WeakMap<Store, { seriesTable: string; ledgerTable: string }>();

runStoreContract('DynamoStore (DynamoDB Local)', {
  newStore: async (o) => {
    const { store, faults: f, tables } = await openTestDynamoStore({ limits: o?.limits, now: o?.now });
    faults.set(store, f);
    tablesOf.set(store, tables);
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
  // A second process: its own client and store over the same tables.
  openPeer: async (store) =>
    DynamoStore.open({ client: testDynamoClient(), ...tablesOf.get(store)!, ownsClient: true }),
});
