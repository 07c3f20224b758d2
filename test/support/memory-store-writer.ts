/**
 * Child process for test/integration/memory-store-crash.test.ts: opens a durable MemoryStore in argv[2]
 * and applies requests `<prefix>-<n>` from 4 concurrent writers until killed, printing `<id> w<n % 4>` (its group) on its own
 * line only after `apply` resolved (= acknowledged). Compacts often (small compactBytes) so that a kill
 * can land inside a compaction too.
 */
import { MemoryStore } from '../../shared/store/memory';
import { crashRequest } from './crash-request';
import { validApplies } from './edge';

const [dir, prefix = 'w', compactBytes = '20000'] = process.argv.slice(2);
if (!dir) throw new Error('usage: memory-store-writer <dir> [prefix] [compactBytes]');

let next = 0;

async function writer(store: MemoryStore, w: number): Promise<void> {
  for (;;) {
    const n = next++;
    const id = `${prefix}-${n}`;
    // The request is a function of n only, so the test can redeliver exactly the same content.
    const [r] = await store.apply(validApplies([crashRequest(prefix!, n)]));
    if (r?.status !== 'applied') throw new Error(`unexpected status ${r?.status} for ${id} (writer ${w})`);
    process.stdout.write(`${id} w${n % 4}\n`);
  }
}

async function main(): Promise<void> {
  const store = await MemoryStore.open({ dir: dir!, compactBytes: Number(compactBytes) });
  process.stdout.write('ready\n');
  await Promise.all([0, 1, 2, 3].map((w) => writer(store, w)));
}

main().catch((e: unknown) => {
  process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
  process.exit(1);
});
