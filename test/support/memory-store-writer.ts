/**
 * Child process for test/integration/memory-store-crash.test.ts: opens a durable MemoryStore in argv[2]
 * and applies requests `<prefix>-<n>` from 4 concurrent writers until killed, printing `<id> w<writer>` on its own
 * line only after `apply` resolved (= acknowledged). Compacts often (small compactBytes) so that a kill
 * can land inside a compaction too.
 */
import { MemoryStore } from '../../shared/store/memory';

const [dir, prefix = 'w', compactBytes = '20000'] = process.argv.slice(2);
if (!dir) throw new Error('usage: memory-store-writer <dir> [prefix] [compactBytes]');

let next = 0;

async function writer(store: MemoryStore, w: number): Promise<void> {
  for (;;) {
    const n = next++;
    const id = `${prefix}-${n}`;
    const [r] = await store.apply([
      {
        id,
        group: { job: 'crash', instance: `w${w}` },
        ops: [
          { kind: 'counter_inc', name: 'crash_applied_total', labels: {}, value: 1 },
          { kind: 'counter_inc', name: 'crash_value_total', labels: { bucket: String(n % 5) }, value: n },
          { kind: 'gauge_set', name: 'crash_last', labels: {}, value: n, timeMs: n },
        ],
      },
    ]);
    if (r?.status !== 'applied') throw new Error(`unexpected status ${r?.status} for ${id}`);
    process.stdout.write(`${id} w${w}\n`);
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
