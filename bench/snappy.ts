/**
 * Snappy push-body decoding (shared/push/snappy.ts) against Node's native gunzip on the same 200 KB body
 * (test/fixtures/snappy, compressed by libsnappy), decompressed MB/s and the ratio to gunzip, measured in
 * the same run. Standalone: `npx tsx bench/snappy.ts` (not a part of `npm run bench`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { snappyDecompress } from '../shared/push/snappy';

const DIR = join(__dirname, '../test/fixtures/snappy');
const block = readFileSync(join(DIR, 'large.block.sz'));
const framed = readFileSync(join(DIR, 'large.framed.sz'));
const plain = snappyDecompress(block, 1 << 24);
const gz = gzipSync(plain);

function mbPerSecond(fn: () => number): number {
  for (let i = 0; i < 30; i++) fn();
  const t = performance.now();
  let bytes = 0;
  for (let i = 0; i < 200; i++) bytes += fn();
  return bytes / ((performance.now() - t) / 1000) / 1e6;
}

const base = mbPerSecond(() => gunzipSync(gz).length);
console.log(`gunzip (native, baseline)  ${base.toFixed(0)} MB/s`);
for (const [name, body] of [
  ['snappy raw block', block],
  ['snappy framed (CRC-32C)', framed],
] as const) {
  const r = mbPerSecond(() => snappyDecompress(body, 1 << 24).length);
  console.log(`${name.padEnd(26)} ${r.toFixed(0)} MB/s  ${(r / base).toFixed(2)}x gunzip`);
}
