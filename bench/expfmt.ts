/**
 * Exposition-format throughput at 100k series (mixed counters, gauges and 10-bucket histograms with the
 * trading labels symbol/action/status/regime), beside baselines measured in the same run:
 * - render: metricFamiliesToText / renderSnapshot vs prom-client 15 `await registry.metrics()` on the same
 *   series (target: ≥ 2x prom-client's throughput);
 * - parse: parseText of that text vs JSON.parse of the same families as JSON (target: ≤ 3x JSON.parse time);
 * - protobuf scrape (what Prometheus with native histograms asks for): the snapshot encoded as delimited
 *   protobuf, cold, warm and after one family changed, each beside the text render of the same case in the
 *   same run (ratio protobuf / text), and the Go-client writer beside metricFamiliesToText.
 *
 * Run: `npx tsx bench/expfmt.ts [--quick]`. `run()` is exported for bench/run.ts.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { metricFamiliesToOpenMetrics } from '../shared/expfmt/openmetrics-create';
import { metricFamiliesToProtobufDelimited } from '../shared/expfmt/protobuf-create';
import { parseProtobufDelimited } from '../shared/expfmt/protobuf-parse';
import {
  RenderCache,
  renderSnapshotProtobuf,
  renderSnapshotWithStats,
} from '../shared/expfmt/snapshot-render';
import { metricFamiliesToText } from '../shared/expfmt/text-create';
import { parseText } from '../shared/expfmt/text-parse';
import type { HistogramFamily, MetricFamily, ScalarFamily } from '../shared/model/types';
import type { GroupState, StoreSnapshot } from '../shared/store/types';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const ACTIONS = ['buy', 'sell', 'cancel', 'modify'];
const STATUSES = ['filled', 'partial', 'rejected', 'expired', 'pending'];
const REGIMES = ['trend', 'range', 'volatile', 'quiet', 'news'];

interface Dataset {
  families: MetricFamily[];
  registry: Registry;
  series: number;
}

function labelCombos(symbols: number): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let s = 0; s < symbols; s++) {
    for (const action of ACTIONS) {
      for (const status of STATUSES) {
        for (const regime of REGIMES) out.push({ symbol: `SYM${s}USD`, action, status, regime });
      }
    }
  }
  return out;
}

/** 4 counter families + 4 gauge families + 2 histogram families, `combos` series each. */
function buildDataset(symbols: number): Dataset {
  const combos = labelCombos(symbols);
  const registry = new Registry();
  const families: MetricFamily[] = [];
  const labelNames = ['symbol', 'action', 'status', 'regime'];
  for (let f = 0; f < 4; f++) {
    const name = `aria_orders_${f}_total`;
    const c = new Counter({ name, help: `Orders ${f}.`, labelNames, registers: [registry] });
    const series: ScalarFamily['series'][number][] = [];
    combos.forEach((l, i) => {
      const v = (i % 977) + 1;
      c.labels(l).inc(v);
      series.push({ labels: l, value: v });
    });
    families.push({ name, help: `Orders ${f}.`, type: 'counter', series });
  }
  for (let f = 0; f < 4; f++) {
    const name = `aria_position_${f}`;
    const g = new Gauge({ name, help: `Position ${f}.`, labelNames, registers: [registry] });
    const series: ScalarFamily['series'][number][] = [];
    combos.forEach((l, i) => {
      const v = ((i % 1013) - 500) * 0.125;
      g.labels(l).set(v);
      series.push({ labels: l, value: v });
    });
    families.push({ name, help: `Position ${f}.`, type: 'gauge', series });
  }
  for (let f = 0; f < 2; f++) {
    const name = `aria_latency_${f}_seconds`;
    const h = new Histogram({
      name,
      help: `Latency ${f}.`,
      labelNames,
      buckets: BUCKETS,
      registers: [registry],
    });
    const series: HistogramFamily['series'][number][] = [];
    combos.forEach((l, i) => {
      const obs = [BUCKETS[i % 10]! * 0.9, BUCKETS[(i * 7) % 10]! * 0.9, 2];
      const child = h.labels(l);
      for (const o of obs) child.observe(o);
      const counts = BUCKETS.map((b) => obs.filter((o) => o <= b).length);
      series.push({
        labels: l,
        buckets: BUCKETS.map((le, k) => ({ le, count: counts[k]! })),
        sum: obs.reduce((a, b) => a + b, 0),
        count: obs.length,
      });
    });
    families.push({ name, help: `Latency ${f}.`, type: 'histogram', series });
  }
  return { families, registry, series: combos.length * 10 };
}

/**
 * Median CPU time (user + system of this process, ms) over `iterations` runs after two warm-ups. CPU time
 * rather than wall time because the machine is shared: other processes' load stretches wall time but not
 * our CPU time. Wall time is kept too, for reference.
 */
const wallMs: Record<string, number> = {};
async function time(iterations: number, fn: () => unknown, label?: string): Promise<number> {
  await fn();
  await fn();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    const d = process.cpuUsage(c0);
    cpu.push((d.user + d.system) / 1000);
    wall.push(performance.now() - t0);
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  if (label) wallMs[label] = Math.round(wall[Math.floor(wall.length / 2)]! * 10) / 10;
  return cpu[Math.floor(cpu.length / 2)]!;
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

export async function run(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const symbols = 100; // 100 × 4 × 5 × 5 = 10k label sets per family, 10 families = 100k series
  const it = opts.quick ? 3 : 9;
  const ds = buildDataset(symbols);
  const N = ds.series;

  const text = metricFamiliesToText(ds.families);
  const json = JSON.stringify(ds.families);
  const proto = metricFamiliesToProtobufDelimited(ds.families);

  // Snapshot: 10 groups (one per instance), each with every family's 1/10 slice, like a real gateway.
  const groups: GroupState[] = [];
  for (let g = 0; g < 10; g++) {
    groups.push({
      key: { job: 'aria', instance: `trader-${g}` },
      lastUpdateMs: 1000 + g,
      lastPushMs: 1_700_000_000_000,
      families: ds.families.map(
        (f) => ({ ...f, series: f.series.filter((_, i) => i % 10 === g) }) as MetricFamily,
      ),
    });
  }
  const snapshot: StoreSnapshot = { generation: '1', takenAtMs: 0, groups };
  /** The same snapshot with one family of one group replaced by a new object (what a store's next generation looks like). */
  let gen = 1;
  const withOneFamilyChanged = (): StoreSnapshot => {
    gen++;
    return {
      generation: String(gen),
      takenAtMs: 0,
      groups: groups.map(
        (g, i): GroupState =>
          i === 3
            ? {
                ...g,
                lastUpdateMs: 1000 + gen,
                families: g.families.map((f, k) => (k === 5 ? ({ ...f } as MetricFamily) : f)),
              }
            : g,
      ),
    };
  };

  const r: Record<string, number> = {};
  // Every render includes producing the UTF-8 bytes a server sends (Buffer.from), so that deferred
  // work (flattening a rope string built with +=) is counted on both sides.
  r.promClientRenderMs = await time(
    it,
    async () => Buffer.from(await ds.registry.metrics()),
    'promClientRender',
  );
  r.textRenderMs = await time(it, () => Buffer.from(metricFamiliesToText(ds.families)), 'textRender');
  r.openMetricsRenderMs = await time(
    it,
    () => Buffer.from(metricFamiliesToOpenMetrics(ds.families)),
    'openMetricsRender',
  );
  r.snapshotColdMs = await time(
    it,
    () => Buffer.from(renderSnapshotWithStats(snapshot, 'text').body),
    'snapshotCold',
  );
  const cache = new RenderCache();
  renderSnapshotWithStats(snapshot, 'text', { cache });
  r.snapshotWarmMs = await time(
    it,
    () => Buffer.from(renderSnapshotWithStats(snapshot, 'text', { cache }).body),
    'snapshotWarm',
  );
  r.snapshotOneFamilyChangedMs = await time(
    it,
    () => Buffer.from(renderSnapshotWithStats(withOneFamilyChanged(), 'text', { cache }).body),
    'snapshotOneFamilyChanged',
  );
  // The same two without producing bytes: the renderer's own cost (the service keeps the bytes per generation).
  r.snapshotWarmRenderOnlyMs = await time(
    it,
    () => renderSnapshotWithStats(snapshot, 'text', { cache }),
    'snapshotWarmRenderOnly',
  );
  r.snapshotOneFamilyChangedRenderOnlyMs = await time(
    it,
    () => renderSnapshotWithStats(withOneFamilyChanged(), 'text', { cache }),
    'snapshotOneFamilyChangedRenderOnly',
  );
  // Protobuf: the same cases, bytes as the service holds them (Buffer.concat of the pieces).
  r.protobufRenderMs = await time(it, () => metricFamiliesToProtobufDelimited(ds.families), 'protobufRender');
  r.snapshotProtobufColdMs = await time(
    it,
    () => Buffer.concat(renderSnapshotProtobuf(snapshot).parts),
    'snapshotProtobufCold',
  );
  const pbCache = new RenderCache();
  renderSnapshotProtobuf(snapshot, { cache: pbCache });
  r.snapshotProtobufWarmMs = await time(
    it,
    () => Buffer.concat(renderSnapshotProtobuf(snapshot, { cache: pbCache }).parts),
    'snapshotProtobufWarm',
  );
  r.snapshotProtobufOneFamilyChangedMs = await time(
    it,
    () => Buffer.concat(renderSnapshotProtobuf(withOneFamilyChanged(), { cache: pbCache }).parts),
    'snapshotProtobufOneFamilyChanged',
  );
  r.jsonStringifyMs = await time(it, () => JSON.stringify(ds.families), 'jsonStringify');
  r.jsonParseMs = await time(it, () => JSON.parse(json), 'jsonParse');
  r.textParseMs = await time(it, () => parseText(text), 'textParse');
  r.protobufParseMs = await time(it, () => parseProtobufDelimited(proto), 'protobufParse');

  const perSec = (ms: number) => Math.round((N / ms) * 1000);
  const result = {
    series: N,
    textBytes: text.length,
    jsonBytes: json.length,
    protobufBytes: proto.length,
    iterations: it,
    timing: 'median CPU ms (user+system) of this process; wallMs for reference',
    ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    renderSpeedupVsPromClient: Math.round((r.promClientRenderMs! / r.textRenderMs!) * 100) / 100,
    snapshotColdSpeedupVsPromClient: Math.round((r.promClientRenderMs! / r.snapshotColdMs!) * 100) / 100,
    parseTimeVsJsonParse: Math.round((r.textParseMs! / r.jsonParseMs!) * 100) / 100,
    protobufVsText: {
      writer: ratio(r.protobufRenderMs!, r.textRenderMs!),
      snapshotCold: ratio(r.snapshotProtobufColdMs!, r.snapshotColdMs!),
      snapshotWarm: ratio(r.snapshotProtobufWarmMs!, r.snapshotWarmMs!),
      snapshotOneFamilyChanged: ratio(r.snapshotProtobufOneFamilyChangedMs!, r.snapshotOneFamilyChangedMs!),
    },
    wallMs,
    seriesPerSecond: Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/Ms$/, ''), perSec(v)])),
  };
  return result;
}

function printTable(res: Record<string, unknown>): void {
  const sps = res.seriesPerSecond as Record<string, number>;
  const rows: [string, string, string][] = [];
  const ms = (k: string) => `${res[k] as number} ms`;
  const fmt = (n: number) => `${(n / 1e6).toFixed(2)} M/s`;
  for (const k of Object.keys(sps)) rows.push([k, ms(`${k}Ms`), fmt(sps[k]!)]);
  console.log(
    `expfmt bench: ${res.series} series, text ${((res.textBytes as number) / 1e6).toFixed(1)} MB, median CPU time of ${res.iterations} runs`,
  );
  console.log('case'.padEnd(36) + 'median'.padStart(12) + 'series/s'.padStart(14));
  for (const [a, b, c] of rows) console.log(a.padEnd(36) + b.padStart(12) + c.padStart(14));
  console.log(`render: metricFamiliesToText is ${res.renderSpeedupVsPromClient}x prom-client (target >= 2)`);
  console.log(
    `render: renderSnapshot (cold, 10 groups) is ${res.snapshotColdSpeedupVsPromClient}x prom-client`,
  );
  console.log(`parse: parseText takes ${res.parseTimeVsJsonParse}x JSON.parse's time (target <= 3)`);
  const pb = res.protobufVsText as Record<string, number>;
  console.log(
    `protobuf scrape vs text (same run): snapshot cold ${pb.snapshotCold}x, warm ${pb.snapshotWarm}x, one family changed ${pb.snapshotOneFamilyChanged}x; writer ${pb.writer}x`,
  );
}

if (process.argv[1] && /bench[\\/]expfmt\.ts$/.test(process.argv[1])) {
  run({ quick: process.argv.includes('--quick') })
    .then((res) => {
      printTable(res);
    })
    .catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
