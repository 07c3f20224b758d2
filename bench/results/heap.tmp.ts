import { writeHeapSnapshot } from 'node:v8';
import { runSoak } from '../soak';
async function main() {
  // @ts-expect-error mjs
  const emu = await import('../../test/support/emulators.mjs');
  const s = await emu.startSqsEmulatorProcess();
  const d = await emu.startDynamoDbLocal();
  const files: string[] = [];
  try {
    const rep = await runSoak({ events: 1_200_000, store: 'dynamodb', sqsEndpoint: s.endpoint, dynamoEndpoint: d.endpoint,
      log: (l) => { if (/published (300000|1100000) /.test(l)) { (globalThis as any).gc(); files.push(writeHeapSnapshot(`/tmp/bench-scratch/h${files.length}.heapsnapshot`)); console.log('snap', l); } } });
    console.log(rep.passed, rep.failed, files);
  } finally { await s.stop(); await d.stop(); }
}
main();
