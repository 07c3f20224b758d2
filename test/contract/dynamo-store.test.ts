import type { DynamoStore } from '../../shared/store/dynamodb';
import type { Store } from '../../shared/store/types';
import { type DynamoFaults, openTestDynamoStore } from '../integration/dynamo-store-support';
import { runStoreContract } from './store-contract';

const faults = new WeakMap<Store, DynamoFaults>();

runStoreContract('DynamoStore (DynamoDB Local)', {
  newStore: async (o) => {
    const { store, faults: f } = await openTestDynamoStore({ limits: o?.limits, now: o?.now });
    faults.set(store, f);
    return store;
  },
  // Fails the second part of the request's transactions (ledger `<id>#1`) until the store gives up.
  injectApplyFault: (store, id) =>
    faults.get(store)?.failTransactionsWithLedger(`${id}#1`, (store as DynamoStore).retryAttempts),
});
