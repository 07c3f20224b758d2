import type { Readable } from 'node:stream';
/**
 * The scrape cache's memory-saving paths (docs/memory.md): gzip built from the renderer's parts
 * (`GzipRuns`), plain bodies assembled per request from the parts, renderers with and without parts.
 * Real zlib and the real codec; the store is the real (non-durable) MemoryStore.
 */
import { gunzipSync } from 'node:zlib';
import { createCodec } from '../../../service/codec';
import { GzipRuns } from '../../../service/gzip-runs';
import { type Renderer, ScrapeCache } from '../../../service/scrape';
import { ServiceStats } from '../../../service/stats';
import type { MetricFamily } from '../../../shared/model/types';
import { MemoryStore } from '../../../shared/store/memory';

/** A scrape body as text: gzip bytes are returned as is, a plain stream is read to the end. */
async function bodyText(body: Buffer | Readable): Promise<string> {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return Buffer.concat((await body.toArray()) as Buffer[]).toString('utf8');
}

import { counterFamily } from '../../contract/helpers';
import { validPush } from '../../support/edge';

describe('GzipRuns', () => {
  it.each<[string, string[]]>([
    ['no parts', []],
    ['one empty part', ['']],
    ['empty parts between others', ['a\n', '', '', 'b\n', '']],
    ['many tiny parts (batched)', Array.from({ length: 20_000 }, (_, i) => `x${i}\n`)],
    ['one part larger than a batch', ['y'.repeat(3 * 64 * 1024 + 7)]],
    ['a 4 MiB part', ['z'.repeat(4 << 20)]],
    ['non-ASCII, emoji, quotes, newlines', ['zürich "東京"\n', '🚀\\n\n', 'é'.repeat(70_000)]],
    ['a lone surrogate (encoded as U+FFFD, as Buffer.from does)', ['a\ud800b']],
    ['names like prototype members', ['__proto__ 1\n', 'constructor 2\n']],
  ])('gunzips to the concatenation: %s', async (_n, parts) => {
    const gz = await new GzipRuns().gzip(parts);
    expect(gz[0]).toBe(0x1f);
    expect(gz[1]).toBe(0x8b);
    expect(gunzipSync(gz).equals(Buffer.from(parts.join(''), 'utf8'))).toBe(true);
  });
});

const labelsOf = (i: number) => ({ series: `s${i}`, v: i % 3 === 0 ? 'quote"new\nline' : 'plain' });

async function storeWith(n: number): Promise<MemoryStore> {
  const s = await MemoryStore.open();
  const fams: MetricFamily[] = [
    counterFamily(
      'bench_total',
      Array.from({ length: n }, (_, i): [Record<string, string>, number] => [labelsOf(i), i]),
      'Bench "help".',
    ),
  ];
  await s.push(
    validPush({ method: 'PUT', group: { job: 'j', instance: 'i' }, families: fams, pushTimeMs: 1000 }),
  );
  return s;
}

/** The stored part of a body: everything before Accrue's own metrics. */
const storedPart = (body: string) => body.slice(0, body.indexOf('# HELP accrue_'));

describe('ScrapeCache serves the same bytes from parts', () => {
  it.each([
    ['text', 0],
    ['text', 1],
    ['text', 3000],
    ['openmetrics', 0],
    ['openmetrics', 3000],
  ] as const)('%s with %d series: gzip and plain agree with a fresh render', async (format, n) => {
    const store = await storeWith(n);
    const codec = createCodec();
    const cache = new ScrapeCache(
      store,
      codec,
      { refreshMs: 60_000, maxAgeMs: 60_000 },
      new ServiceStats(),
      () => 0,
    );
    const gz = await cache.scrape(format, true);
    const plain = await cache.scrape(format, false);
    const gz2 = await cache.scrape(format, true);
    if (!gz.ok || !plain.ok || !gz2.ok) throw new Error('scrape failed');
    expect(gz.gzipped).toBe(true);
    expect(plain.gzipped).toBe(false);
    const fromGz = gunzipSync(gz.body as Buffer).toString('utf8');
    expect(storedPart(fromGz)).toBe(storedPart(await bodyText(plain.body)));
    expect(storedPart(gunzipSync(gz2.body as Buffer).toString('utf8'))).toBe(storedPart(fromGz));
    const fresh = createCodec().render(await store.snapshot(), format, []).body;
    const want = format === 'openmetrics' ? fresh.slice(0, -'# EOF\n'.length) : fresh;
    expect(storedPart(fromGz)).toBe(want);
    if (format === 'openmetrics') expect(fromGz.endsWith('# EOF\n')).toBe(true);
    if (n > 0) expect(fromGz).toContain('v="quote\\"new\\nline"');
    await store.close();
  });

  it('works with a renderer that gives only a body (no parts)', async () => {
    const store = await storeWith(10);
    const real = createCodec();
    const bodyOnly: Renderer = {
      render: (s, f, extra) => ({ body: real.render(s, f, extra).body }),
    };
    const cache = new ScrapeCache(
      store,
      bodyOnly,
      { refreshMs: 60_000, maxAgeMs: 60_000 },
      new ServiceStats(),
      () => 0,
    );
    const gz = await cache.scrape('openmetrics', true);
    const plain = await cache.scrape('openmetrics', false);
    if (!gz.ok || !plain.ok) throw new Error('scrape failed');
    const text = gunzipSync(gz.body as Buffer).toString('utf8');
    expect(storedPart(text)).toBe(storedPart(await bodyText(plain.body)));
    expect(text.match(/# EOF\n/g)).toHaveLength(1);
    expect(text).toContain('bench_total{instance="i",job="j",series="s8",v="plain"} 8');
    await store.close();
  });

  it('never reads the joined body when the renderer gives parts', async () => {
    const store = await storeWith(100);
    const real = createCodec();
    let bodyReads = 0;
    const counting: Renderer = {
      render(s, f, extra) {
        const r = real.render(s, f, extra);
        if (s.groups.length === 0) return r; // Accrue's own metrics: small, read as a body
        return {
          get body() {
            bodyReads++;
            return r.body;
          },
          ...(r.parts ? { parts: r.parts } : {}),
        };
      },
    };
    const cache = new ScrapeCache(
      store,
      counting,
      { refreshMs: 60_000, maxAgeMs: 60_000 },
      new ServiceStats(),
      () => 0,
    );
    for (const gzip of [true, false, true]) expect((await cache.scrape('text', gzip)).ok).toBe(true);
    expect(bodyReads).toBe(0);
    await store.close();
  });
});
