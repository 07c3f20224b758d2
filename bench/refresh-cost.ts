/**
 * What a refresh that brings a change costs the service's CPU at 100k series (issue 11 read side), in
 * process, without DynamoDB: 1,000 groups of 100 series, 10 groups changed per refresh (new family objects
 * with new values, as the DynamoDB snapshot reader hands out for a re-read group).
 *
 * Per refresh: the text render with the service's long-lived RenderCache, the gzip with GzipRuns (only
 * changed runs re-compressed), and the protobuf encoding (per changed (group, family) chunk, from the
 * snapshot); each against its baselines measured in the same run: a cold render, one gzip of the whole
 * body, and for protobuf a cold encode and the former definition (the whole text body parsed back and
 * encoded, test/support/protobuf-by-text.ts).
 *
 *   npx tsx bench/refresh-cost.ts             # 30 refreshes
 *   npx tsx bench/refresh-cost.ts --rounds 10
 */
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { createCodec } from '../service/codec';
import { GzipRuns } from '../service/gzip-runs';
import { RenderCache, renderSnapshotProtobuf, renderSnapshotWithStats } from '../shared/expfmt';
import type { MetricFamily } from '../shared/model/types';
import type { GroupState, StoreSnapshot } from '../shared/store/types';
import { protobufByText } from '../test/support/protobuf-by-text';

const GROUPS = 1000;
const SERIES = 100;
const CHANGED = 10;

function group(i: number, v: number): GroupState {
  const families: MetricFamily[] = [
    { name: 'bench_changes_total', help: 'Changes.', type: 'counter', series: [{ labels: {}, value: v }] },
    {
      name: 'bench_series',
      help: 'Bench series.',
      type: 'gauge',
      series: Array.from({ length: SERIES }, (_, k) => ({ labels: { k: String(k) }, value: k * v + i })),
    },
  ];
  return { key: { job: 'bench', instance: `g${i}` }, lastUpdateMs: v, lastPushMs: v, families };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const at = process.argv.indexOf('--rounds');
  const rounds = at >= 0 ? Number(process.argv[at + 1]) : 30;
  let groups = Array.from({ length: GROUPS }, (_, i) => group(i, 1));
  const snap = (gen: number): StoreSnapshot => ({ generation: String(gen), takenAtMs: 0, groups });
  const cache = new RenderCache();
  const codec = createCodec();
  const runs = new GzipRuns();
  let t = performance.now();
  let r = renderSnapshotWithStats(snap(0), 'text', { cache });
  const firstRenderMs = performance.now() - t;
  await runs.gzip(r.parts);
  const firstRuns = { runs: runs.compressedRuns, bytes: runs.compressedBytes };
  const pb = { incremental: [] as number[], cold: [] as number[], byText: [] as number[] };
  const pbRuns = new GzipRuns();
  const pbGzip: number[] = [];
  let pbBytes = 0;
  await pbRuns.gzip(codec.renderProtobuf(snap(0), []));
  const pbFirst = { runs: pbRuns.compressedRuns, bytes: pbRuns.compressedBytes };
  const m = { render: [] as number[], cold: [] as number[], gzip: [] as number[], whole: [] as number[] };

  let gzBytes = 0;
  let wholeBytes = 0;
  for (let round = 1; round <= rounds; round++) {
    groups = [...groups];
    for (let k = 0; k < CHANGED; k++) {
      const i = (round * 97 + k * 101) % GROUPS;
      groups[i] = group(i, round + 1);
    }
    t = performance.now();
    r = renderSnapshotWithStats(snap(round), 'text', { cache });
    m.render.push(performance.now() - t);
    t = performance.now();
    const gz = await runs.gzip(r.parts);
    m.gzip.push(performance.now() - t);
    gzBytes = gz.length;
    t = performance.now();
    const pieces = codec.renderProtobuf(snap(round), []);
    pb.incremental.push(performance.now() - t);
    t = performance.now();
    pbBytes = (await pbRuns.gzip(pieces)).length;
    pbGzip.push(performance.now() - t);
    if (round % 5 === 0) {
      t = performance.now();
      const cold = renderSnapshotWithStats(snap(round), 'text');
      m.cold.push(performance.now() - t);
      t = performance.now();
      wholeBytes = gzipSync(cold.body).length;
      m.whole.push(performance.now() - t);
      t = performance.now();
      renderSnapshotProtobuf(snap(round));
      pb.cold.push(performance.now() - t);
      t = performance.now();
      protobufByText(snap(round));
      pb.byText.push(performance.now() - t);
    }
  }
  const out = {
    series: GROUPS * SERIES,
    groupsChangedPerRefresh: CHANGED,
    rounds,
    bodyChars: r.body.length,
    firstRenderMs: r1(firstRenderMs),
    renderMsMedian: r1(median(m.render)),
    coldRenderMsMedian: r1(median(m.cold)),
    gzipRunsMsMedian: r1(median(m.gzip)),
    gzipWholeMsMedian: r1(median(m.whole)),
    gzipRunsBytes: gzBytes,
    gzipWholeBytes: wholeBytes,
    runsPerBody: firstRuns.runs,
    runsDeflatedPerRefresh: r1((runs.compressedRuns - firstRuns.runs) / rounds),
    bytesDeflatedPerRefreshShare: r3((runs.compressedBytes - firstRuns.bytes) / rounds / firstRuns.bytes),
    protobufMsMedian: r1(median(pb.incremental)),
    protobufColdMsMedian: r1(median(pb.cold)),
    protobufByTextMsMedian: r1(median(pb.byText)),
    protobufGzipRunsMsMedian: r1(median(pbGzip)),
    protobufGzipBytes: pbBytes,
    protobufRunsPerBody: pbFirst.runs,
    protobufRunsDeflatedPerRefresh: r1((pbRuns.compressedRuns - pbFirst.runs) / rounds),
    protobufBytesDeflatedPerRefreshShare: r3(
      (pbRuns.compressedBytes - pbFirst.bytes) / rounds / pbFirst.bytes,
    ),
    ratios: {
      render: r1((median(m.render) / median(m.cold)) * 1000) / 1000,
      gzip: r1((median(m.gzip) / median(m.whole)) * 1000) / 1000,
      protobufVsCold: r1((median(pb.incremental) / median(pb.cold)) * 1000) / 1000,
      protobufVsByText: r1((median(pb.incremental) / median(pb.byText)) * 1000) / 1000,
      gzipSize: Math.round((gzBytes / wholeBytes) * 1000) / 1000,
    },
  };
  console.log(JSON.stringify(out, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
