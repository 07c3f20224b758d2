import { MemoryStore } from '../../shared/store/memory';
import { runStoreContract } from './store-contract';

runStoreContract('MemoryStore', {
  newStore: (o) => MemoryStore.open({ limits: o?.limits, now: o?.now }),
  injectApplyFault: (store, id) => (store as MemoryStore).injectApplyFault(id),
});
