import { gunzipSync } from 'node:zlib';
import { rng } from '../../../bench/fixtures';
import { cutRuns, GzipRuns } from '../../../service/gzip-runs';

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
  it('gunzips to the concatenated parts (a multi-member stream), first and later calls', async () => {
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
    expect(gunzipSync(await g.gzip(p))).toEqual(Buffer.concat(p));
    const before = g.compressedRuns;
    const q = [...p];
    q[0] = Buffer.from('changed');
    expect(gunzipSync(await g.gzip(q))).toEqual(Buffer.concat(q));
    expect(g.compressedRuns - before).toBeLessThanOrEqual(2);
  });
});
