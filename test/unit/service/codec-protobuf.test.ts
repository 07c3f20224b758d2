/**
 * The protobuf exposition, encoded from the snapshot per (group, family) chunk and cached like the text
 * render (shared/expfmt/snapshot-protobuf.ts via service/codec.ts), carries exactly what its first
 * definition did: the text render parsed back and encoded, with the stored native histograms put back
 * (test/support/protobuf-by-text.ts). Compared decoded with the Prometheus client model, labels in name
 * order (the direct encoder sorts `instance=""` in place; the old one appended it).
 */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { createCodec } from '../../../service/codec';
import { parseProtobufDelimited } from '../../../shared/expfmt';
import { ESCAPING_SCHEMES, type EscapingScheme } from '../../../shared/model/names';
import { type NativeHistogram, observeNative } from '../../../shared/model/native';
import type {
  AnySeries,
  HistogramSeries,
  Labels,
  MetricFamily,
  MetricType,
} from '../../../shared/model/types';
import type { GroupState, StoreSnapshot } from '../../../shared/store/types';
import { clientModelRoot } from '../../support/client-model';
import { protobufByText } from '../../support/protobuf-by-text';
import { gauge } from '../expfmt/fixtures';

const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');

interface DecodedLabel {
  readonly name: string;
  readonly value: string;
}

/** Delimited MetricFamily messages decoded; each metric's labels sorted by name. */
function decode(bytes: Uint8Array): unknown[] {
  const r = protobuf.Reader.create(bytes);
  const out: unknown[] = [];
  while (r.pos < r.len) {
    const f = MF.toObject(MF.decodeDelimited(r), { longs: String, defaults: false }) as {
      metric?: { label?: DecodedLabel[] }[];
    };
    for (const m of f.metric ?? []) m.label?.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    out.push(f);
  }
  return out;
}

const snap = (groups: GroupState[], generation = 'g'): StoreSnapshot => ({
  generation,
  takenAtMs: 0,
  groups,
});

// ---------------------------------------------------------------------------------------- generators

/**
 * Few names, so that families spread over groups and types disagree. (Sample-name collisions such as `h`
 * vs `h_count` have their own case: the text parser the old definition used refuses some of them.)
 */
const familyName = fc.constantFrom('m', 'm_total', 'h', 's', 'job', 'dotted.name', 'nï');
const labelName = fc.constantFrom('k', 'instance', 'job', 'a.b', 'xä', 'constructor', 'le_x');
const labelValue = fc.constantFrom('', 'x', 'y', 'a"b\\c\nd', '\u{1F600}', 'a', 'b');
const anyDouble = fc.oneof(fc.double(), fc.constantFrom(-0, 0, Number.NaN, 1e21, 0.1));
const labelsArb: fc.Arbitrary<Labels> = fc
  .uniqueArray(fc.tuple(labelName, labelValue), { selector: (t) => t[0], maxLength: 3 })
  .map((pairs) => Object.fromEntries(pairs));

const nativeArb: fc.Arbitrary<{ native: NativeHistogram; count: number; sum: number }> = fc
  .record({
    values: fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 12 }),
    schema: fc.integer({ min: -4, max: 8 }),
    zero: fc.constantFrom(0, 1e-9, 0.5),
    scale: fc.constantFrom(1, 0.5),
  })
  .map(({ values, schema, zero, scale }) => {
    const o = observeNative(values, schema, zero);
    if (scale === 1) return o;
    // The float variant: populations that are not integers.
    const side = (b: NativeHistogram['positive']) => ({
      spans: b.spans,
      counts: b.counts.map((c) => c * scale),
    });
    const n = o.native;
    return {
      native: {
        ...n,
        zeroCount: n.zeroCount * scale,
        positive: side(n.positive),
        negative: side(n.negative),
      },
      count: o.count * scale,
      sum: o.sum,
    };
  });

const histogramArb = fc
  .record({
    labels: labelsArb,
    les: fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 4 }),
    native: fc.option(nativeArb, { nil: undefined }),
    classic: fc.boolean(),
  })
  .map(({ labels, les, native, classic }): HistogramSeries => {
    const bounds = [...new Set(les.map((b) => (b === 0 ? 0 : b)))].sort((a, b) => a - b);
    const count = native?.count ?? bounds.length + 1;
    const buckets = native && !classic ? [] : bounds.map((le, i) => ({ le, count: Math.min(i, count) }));
    return native
      ? { labels, buckets, sum: native.sum, count, native: native.native }
      : { labels, buckets, sum: 1.5, count };
  });

const summaryArb = fc.record({
  labels: labelsArb,
  quantiles: fc
    .uniqueArray(fc.constantFrom(-0, 0.5, 0.9, 0.99), { maxLength: 3, comparator: 'SameValueZero' })
    .map((qs) => qs.sort((a, b) => a - b).map((quantile, i) => ({ quantile, value: i * 0.25 }))),
  sum: anyDouble,
  count: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e9, noNaN: true })),
});

function seriesArb(type: MetricType): fc.Arbitrary<AnySeries> {
  if (type === 'histogram') return histogramArb;
  if (type === 'summary') return summaryArb;
  return fc.record({ labels: labelsArb, value: anyDouble });
}

const familyArb: fc.Arbitrary<MetricFamily> = fc
  .tuple(
    familyName,
    fc.constantFrom('counter', 'gauge', 'untyped', 'histogram', 'summary') as fc.Arbitrary<MetricType>,
    fc.constantFrom('', 'Help.', 'a\\b\nc'),
  )
  .chain(([name, type, help]) =>
    fc
      .array(seriesArb(type), { minLength: 1, maxLength: 4 })
      .map((series) => ({ name, type, help, series }) as MetricFamily),
  );

/** Series whose labels differ only in empty values or in names the group's labels override are one series. */
function exposedKey(key: Labels, labels: Labels): string {
  const out = Object.entries(labels).filter(
    ([k, v]) => v !== '' && !(Object.hasOwn(key, k) && key[k] !== ''),
  );
  return JSON.stringify(out.sort());
}

/**
 * A group's families as a store holds them: one series per exposed label set (within one group two such
 * series are a store bug, which the text render resolves one way and the old native join another).
 */
function distinctSeries<G extends { key: Labels; families: MetricFamily[] }>(g: G): G {
  const families = g.families.map((f) => {
    const seen = new Set<string>();
    const series = (f.series as AnySeries[]).filter((s) => {
      const k = exposedKey(g.key, s.labels);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    return { ...f, series } as MetricFamily;
  });
  return { ...g, families };
}

const groupArb = fc
  .record({
    key: fc.constantFrom<Labels>(
      { job: 'a' },
      { job: 'a', instance: 'x' },
      { job: 'b', instance: 'y' },
      { job: 'b', 'x.ü': 'v' },
      { job: 'a', k: 'x' },
    ),
    lastUpdateMs: fc.integer({ min: 0, max: 3 }),
    lastPushMs: fc.option(fc.integer({ min: 0, max: 2e12 }), { nil: undefined }),
    families: fc.uniqueArray(familyArb, { selector: (f) => f.name, maxLength: 4 }),
  })
  .map(distinctSeries);

const groupsArb = fc.uniqueArray(groupArb, { selector: (g) => JSON.stringify(g.key), maxLength: 5 });

// --------------------------------------------------------------------------------------------- tests

describe('codec.renderProtobuf (encoded from the snapshot)', () => {
  it('carries what the text render parsed back carried, in every escaping scheme, also after partial changes', () => {
    const codec = createCodec({ names: 'utf8' });
    fc.assert(
      fc.property(
        groupsArb,
        groupsArb,
        fc.constantFrom(...ESCAPING_SCHEMES),
        (a, b, escaping: EscapingScheme) => {
          const s1 = snap(a as GroupState[], '1');
          expect(decode(Buffer.concat(codec.renderProtobuf(s1, [], escaping)))).toEqual(
            decode(protobufByText(s1, escaping)),
          );
          // Keep half of the groups (same objects: their chunks are reused), replace or add the rest.
          const kept = s1.groups.filter((_, i) => i % 2 === 0);
          const keys = new Set(kept.map((g) => JSON.stringify(g.key)));
          const fresh = (b as GroupState[]).filter((g) => !keys.has(JSON.stringify(g.key)));
          const s2 = snap([...kept, ...fresh], '2');
          expect(decode(Buffer.concat(codec.renderProtobuf(s2, [], escaping)))).toEqual(
            decode(protobufByText(s2, escaping)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('extra families follow the stored ones as given; an empty store gives only them', () => {
    const own = [gauge('accrue_own', [{ labels: {}, value: 1 }])];
    const codec = createCodec();
    expect(decode(Buffer.concat(codec.renderProtobuf(snap([]), own)))).toEqual([
      { name: 'accrue_own', help: 'Help of accrue_own.', type: 1, metric: [{ gauge: { value: 1 } }] },
    ]);
    expect(codec.renderProtobuf(snap([]), []).length).toBe(0);
    const stored = snap([
      { key: { job: 'j' }, lastUpdateMs: 1, families: [gauge('g', [{ labels: {}, value: 2 }])] },
    ]);
    const names = decode(Buffer.concat(codec.renderProtobuf(stored, own))).map(
      (f) => (f as { name: string }).name,
    );
    expect(names).toEqual(['g', 'push_failure_time_seconds', 'push_time_seconds', 'accrue_own']);
  });

  it('re-encodes only the changed (group, family) chunks; one family spread over groups stays one message', () => {
    const codec = createCodec();
    const groups = Array.from(
      { length: 50 },
      (_, i): GroupState => ({
        key: { job: 'j', instance: `i${i}` },
        lastUpdateMs: 1,
        families: [
          gauge('stable', [{ labels: { k: '1' }, value: i }]),
          gauge(`own_${i}`, [{ labels: {}, value: i }]),
        ],
      }),
    );
    const s1 = snap(groups, '1');
    const first = codec.renderProtobuf(s1, []);
    const changed = [...groups];
    changed[7] = {
      ...groups[7]!,
      families: [groups[7]!.families[0]!, gauge('own_7', [{ labels: {}, value: 99 }])],
    };
    const s2 = snap(changed, '2');
    const before = codec.stats.protobufChunksEncoded;
    const second = codec.renderProtobuf(s2, []);
    expect(codec.stats.protobufChunksEncoded - before).toBe(1);
    // Unchanged chunks are the same objects (what gzip runs reuse).
    const reused = second.filter((p) => first.includes(p)).length;
    expect(reused).toBeGreaterThanOrEqual(100 - 1);
    const fams = decode(Buffer.concat(second)) as { name: string; metric: unknown[] }[];
    expect(fams.filter((f) => f.name === 'stable')).toHaveLength(1);
    expect(fams.find((f) => f.name === 'stable')!.metric).toHaveLength(50);
    expect(fams.find((f) => f.name === 'own_7')!.metric).toEqual([
      {
        label: [
          { name: 'instance', value: 'i7' },
          { name: 'job', value: 'j' },
        ],
        gauge: { value: 99 },
      },
    ]);
    expect(decode(Buffer.concat(second))).toEqual(decode(protobufByText(s2)));
  });

  it('a family whose name another family exposes is dropped as in the text; an emptied family is left out', () => {
    const h: HistogramSeries = { labels: {}, buckets: [{ le: 1, count: 1 }], sum: 1, count: 2 };
    const groups: GroupState[] = [
      {
        key: { job: 'a' },
        lastUpdateMs: 1,
        families: [{ name: 'h', help: '', type: 'histogram', series: [h] }],
      },
      { key: { job: 'b' }, lastUpdateMs: 2, families: [gauge('h_count', [{ labels: {}, value: 1 }])] },
      { key: { job: 'c' }, lastUpdateMs: 2, families: [gauge('empty', [])] },
    ];
    const fams = decode(Buffer.concat(createCodec().renderProtobuf(snap(groups), [])));
    expect(fams.map((f) => (f as { name: string }).name)).toEqual([
      'h',
      'push_failure_time_seconds',
      'push_time_seconds',
    ]);
    expect(fams).toEqual(decode(protobufByText(snap(groups))));
  });

  it('a NaN with a payload (a staleness marker) is written as the text NaN, never passed through', () => {
    const stale = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;
    const s = snap([
      { key: { job: 'j' }, lastUpdateMs: 1, families: [gauge('g', [{ labels: {}, value: stale }])] },
    ]);
    const body = Buffer.concat(createCodec().renderProtobuf(s, []));
    expect(body.includes(Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]))).toBe(true);
    expect(body.includes(Buffer.from([2, 0, 0, 0, 0, 0, 0xf0, 0x7f]))).toBe(false);
  });
});

describe('native histograms in the protobuf exposition', () => {
  const a = observeNative([1, 2], 0, 0);
  const b = observeNative([4, 8, 16], 1, 0);
  const group = (key: Labels, updated: number, series: HistogramSeries[]): GroupState => ({
    key,
    lastUpdateMs: updated,
    families: [{ name: 'h_seconds', help: '', type: 'histogram', series }],
  });
  const nativeOf = (s: StoreSnapshot): NativeHistogram | undefined => {
    const fams = parseProtobufDelimited(Buffer.concat(createCodec().renderProtobuf(s, [])));
    return (fams.find((f) => f.name === 'h_seconds')!.series[0] as HistogramSeries).native;
  };

  it('a series keeps its native histogram under the labels it is exposed with', () => {
    const s = snap([
      group({ job: 'j', instance: 'i' }, 1, [
        { labels: { path: '/x', job: 'ignored' }, buckets: [], sum: a.sum, count: a.count, native: a.native },
      ]),
    ]);
    expect(nativeOf(s)).toEqual(a.native);
  });

  it('when two groups expose one series, the most recently updated group decides, also when it has none', () => {
    const older = group({ job: 'j' }, 1, [
      { labels: { instance: 'x' }, buckets: [], sum: a.sum, count: a.count, native: a.native },
    ]);
    const newerNative = group({ job: 'j', instance: 'x' }, 2, [
      { labels: {}, buckets: [], sum: b.sum, count: b.count, native: b.native },
    ]);
    const newerClassic = group({ job: 'j', instance: 'x' }, 2, [
      { labels: {}, buckets: [{ le: 1, count: 1 }], sum: 3, count: 2 },
    ]);
    expect(nativeOf(snap([older, newerNative]))).toEqual(b.native);
    expect(nativeOf(snap([newerNative, older]))).toEqual(b.native);
    expect(nativeOf(snap([older, newerClassic]))).toBeUndefined();
  });
});
