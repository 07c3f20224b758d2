import { gunzipSync, gzipSync } from 'node:zlib';
import { rng } from '../../../bench/fixtures';
import { crc32Combine, cutRuns, GzipRuns } from '../../../service/gzip-runs';

/** Parts like a render's: chunk strings of varied sizes, some multi-byte, some empty. */
function parts(n: number, seed: number): string[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    if (r() < 0.05) return '';
    const lines = 1 + Math.floor(r() * 120);
    let s = '';
    for (let k = 0; k < lines; k++) s += `m_${i}{k="${k}",v="é€😀"} ${Math.floor(r() * 1e6)}\n`;
    return s;
  });
}

describe('GzipRuns', () => {
  it('gunzips to the concatenated parts (one member: CRC and size checked by gunzip), first and later calls', async () => {
    const g = new GzipRuns();
    const p = parts(400, 1);
    expect(gunzipSync(await g.gzip(p)).toString('utf8')).toBe(p.join(''));
    const q = [...p];
    q[200] = `${q[200]}extra{a="1"} 1\n`;
    expect(gunzipSync(await g.gzip(q)).toString('utf8')).toBe(q.join(''));
    expect(gunzipSync(await g.gzip([])).length).toBe(0);
  });

  it('compresses again only the runs around a changed part; equal strings count as unchanged', async () => {
    const g = new GzipRuns();
    const p = parts(2000, 2);
    const runs = cutRuns(p).length;
    expect(runs).toBeGreaterThan(20);
    await g.gzip(p);
    expect(g.compressedRuns).toBe(runs);
    const q = p.map((x) => (x === '' ? '' : `${x.slice(0, -1)}\n`)); // equal content, new string objects
    q[1000] = `${q[1000]}changed{a="1"} 1\n`;
    const out = await g.gzip(q);
    expect(gunzipSync(out).toString('utf8')).toBe(q.join(''));
    expect(g.compressedRuns - runs).toBeGreaterThanOrEqual(1);
    expect(g.compressedRuns - runs).toBeLessThanOrEqual(3);
  });

  it('byte pieces (protobuf) too, reused by identity', async () => {
    const g = new GzipRuns();
    const p = parts(600, 3).map((x) => Buffer.from(x, 'utf8'));
    expect(gunzipSync(await g.gzip(p)).equals(Buffer.concat(p))).toBe(true);
    const before = g.compressedRuns;
    const q = [...p];
    q[0] = Buffer.from('changed');
    expect(gunzipSync(await g.gzip(q)).equals(Buffer.concat(q))).toBe(true);
    expect(g.compressedRuns - before).toBeLessThanOrEqual(2);
  });

  it('1,000 same-shaped chunks, 10 changed: only the runs around them are deflated again (was ~40%)', async () => {
    // The shape of the 100k bench body: one family's chunks per group, near-equal lengths.
    const chunk = (g: number, v: number) => {
      let s = '';
      for (let k = 0; k < 100; k++) s += `bench_series{instance="g${g}",job="bench",k="${k}"} ${k * v + g}\n`;
      return s;
    };
    const g = new GzipRuns();
    const p = Array.from({ length: 1000 }, (_, i) => chunk(i, 1));
    const first = await g.gzip(p);
    const runs = g.compressedRuns;
    expect(runs).toBeGreaterThan(p.join('').length / (64 * 1024));
    // As small as one gzip of the whole body (each run refers back into the bytes before it).
    expect(first.length).toBeLessThan(gzipSync(p.join('')).length * 1.03);
    const q = [...p];
    for (let k = 0; k < 10; k++) q[k * 97 + 13] = chunk(k * 97 + 13, 2);
    const out = await g.gzip(q);
    expect(gunzipSync(out).toString('utf8')).toBe(q.join(''));
    // Each change: its run, at most the next one (its dictionary) and a moved cut.
    expect(g.compressedRuns - runs).toBeLessThanOrEqual(30);
    expect((g.compressedRuns - runs) / runs).toBeLessThan(0.1);
  });

  it('crc32Combine gives the CRC-32 of the concatenation', () => {
    const r = rng(9);
    const a = Buffer.from(Array.from({ length: 1000 }, () => Math.floor(r() * 256)));
    const b = Buffer.from(Array.from({ length: 77_777 }, () => Math.floor(r() * 256)));
    const crcOf = (x: Buffer) => gzipSync(x).readUInt32LE(gzipSync(x).length - 8);
    expect(crc32Combine(crcOf(a), crcOf(b), b.length)).toBe(crcOf(Buffer.concat([a, b])));
    expect(crc32Combine(crcOf(a), 0, 0)).toBe(crcOf(a));
    expect(crc32Combine(0, crcOf(b), b.length)).toBe(crcOf(b));
  });
});
