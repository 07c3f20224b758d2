/**
 * The render cache of ./snapshot-render.ts (its caching contract is there): `RenderCache`, and the
 * (group, family) chunks it keeps: each chunk's series order after sorting by final label text and dropping
 * series that coincide under the group's labels, and its rendered text, OpenMetrics and protobuf pieces,
 * each made on first use and reused until the family object changes.
 */
import { counterSampleName } from '../model/exposed-names';
import type { MetricFamily } from '../model/types';
import type { GroupingKey, GroupState } from '../store/types';
import { ByteSink } from './byte-sink';
import type { TextExpositionFormat as ExpositionFormat } from './negotiate';
import { writeSeries } from './series-lines';
import { finalLabelsText, type GroupText } from './snapshot-labels';
import { protobufChunk } from './snapshot-protobuf';

/** Every format the render writes: the text formats, and protobuf (./snapshot-protobuf.ts). */
export type RenderFormat = ExpositionFormat | 'protobuf';
/** A piece of a rendered body: text for the text formats, bytes for protobuf. */
export type Piece = string | Uint8Array;

/**
 * One (group, family) rendered. Memory: only the rendered lines are kept between renders; the label
 * texts (`lts`, about as large as the lines) are dropped after each block build and recomputed when a
 * later build needs them (cross-group dedupe, or the other format's first render).
 */
export interface Chunk {
  readonly groupId: string;
  /** Final sorted label text of each series, in output order: the series' identity within the family. */
  lts: readonly string[] | undefined;
  /** Series in output order; undefined when that is the family's own order with nothing dropped. */
  readonly order: readonly number[] | undefined;
  /** Series written (after dropping). */
  readonly count: number;
  /** Series of this family that coincide with an earlier one once group labels are applied. */
  readonly dropped: number;
  text?: string;
  openMetrics?: string;
  protobuf?: Uint8Array;
}

/** One family of one group, with the group's rendered labels. */
export interface Entry {
  readonly group: GroupState;
  readonly gt: GroupText;
  readonly family: MetricFamily;
}

/** A family name's merged block (all groups), as cached per format. */
export interface BlockEntry {
  readonly families: readonly MetricFamily[];
  readonly groupIds: readonly string[];
  /** Set when the block depended on group precedence (a dedupe or type decision between groups). */
  readonly precedence: readonly number[] | undefined;
  /** HELP/TYPE header, then the chunks' lines (shared with the chunk cache, not copied). */
  readonly parts: readonly Piece[];
  /** The family type written (the most recently updated group's when groups disagree). */
  readonly type: MetricFamily['type'];
  readonly duplicates: number;
  readonly conflicting: number;
  readonly series: number;
  /** OpenMetrics with `_created` lines: whether any series written has a start (claims `<family>_created`). */
  readonly started: boolean;
}

/**
 * Per-process render cache. Counters are cumulative, for tests and the service's own metrics.
 */
export class RenderCache {
  /**
   * Whether OpenMetrics output has `_created` lines where a series' start is known (the process's
   * setting, ACCRUE_OPENMETRICS_CREATED; docs/exposition.md "Series starts"). Protobuf always carries
   * `created_timestamp`; text 0.0.4 never has a start.
   */
  readonly openMetricsCreated: boolean;
  constructor(opts: { readonly openMetricsCreated?: boolean } = {}) {
    this.openMetricsCreated = opts.openMetricsCreated ?? true;
  }
  readonly chunks = new WeakMap<MetricFamily, Chunk>();
  readonly groups = new WeakMap<GroupingKey, GroupText>();
  readonly blocks: Record<RenderFormat, Map<string, BlockEntry>> = {
    text: new Map(),
    openmetrics: new Map(),
    protobuf: new Map(),
  };
  /** Chunks rendered since the cache was created. */
  chunksRendered = 0;
  /** Blocks rebuilt since the cache was created. */
  blocksRebuilt = 0;
  /** (group, family) chunks encoded as protobuf since the cache was created. */
  protobufChunksEncoded = 0;
}

/** The chunk of one (group, family): from the cache unless the family object or the group changed. */
export function getChunk(cache: RenderCache, e: Entry): Chunk {
  const f = e.family;
  let c = cache.chunks.get(f);
  if (c !== undefined && c.groupId === e.gt.id) return c;
  const n = f.series.length;
  const lts: string[] = new Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    lts[i] = finalLabelsText(e.gt, f.series[i]!.labels);
    if (i > 0 && lts[i]! < lts[i - 1]!) sorted = false;
  }
  let order: number[] | undefined;
  let outLts = lts;
  let dropped = 0;
  if (!sorted) {
    order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => (lts[a]! < lts[b]! ? -1 : lts[a]! > lts[b]! ? 1 : a - b));
    outLts = order.map((i) => lts[i]!);
  }
  // Group labels override series labels, so two series of one group can coincide (a store that kept a
  // grouping label inside series labels). Keep the first in the family's order, drop the others.
  for (let i = 1; i < outLts.length; i++) {
    if (outLts[i] === outLts[i - 1]) {
      const keepO: number[] = [];
      const keepL: string[] = [];
      for (let k = 0; k < outLts.length; k++) {
        if (k > 0 && outLts[k] === outLts[k - 1]) dropped++;
        else {
          keepO.push(order === undefined ? k : order[k]!);
          keepL.push(outLts[k]!);
        }
      }
      order = keepO;
      outLts = keepL;
      break;
    }
  }
  c = { groupId: e.gt.id, lts: outLts, order, count: outLts.length, dropped };
  cache.chunks.set(f, c);
  cache.chunksRendered++;
  return c;
}

/** The chunk's label texts in output order, recomputed when they were dropped. */
export function chunkLts(c: Chunk, e: Entry): readonly string[] {
  if (c.lts !== undefined) return c.lts;
  const f = e.family;
  const lts: string[] = new Array(c.count);
  for (let i = 0; i < c.count; i++)
    lts[i] = finalLabelsText(e.gt, f.series[c.order === undefined ? i : c.order[i]!]!.labels);
  c.lts = lts;
  return lts;
}

/** The chunk's protobuf Metric messages, all series or those not in `skip` (positions in output order). */
export function chunkProtobuf(
  cache: RenderCache,
  c: Chunk,
  e: Entry,
  skip?: ReadonlySet<number>,
): Uint8Array {
  if (skip === undefined && c.protobuf !== undefined) return c.protobuf;
  cache.protobufChunksEncoded++;
  const out = protobufChunk(e.family, e.gt, c.order, c.count, skip);
  if (skip === undefined) c.protobuf = out;
  return out;
}

/** The chunk's lines, all series or those not in `skip` (positions in output order). */
export function chunkText(
  c: Chunk,
  e: Entry,
  om: boolean,
  created: boolean,
  skip?: ReadonlySet<number>,
): string {
  if (skip === undefined) {
    const cached = om ? c.openMetrics : c.text;
    if (cached !== undefined) return cached;
  }
  const f = e.family;
  const lts = chunkLts(c, e);
  const sample = f.type === 'counter' ? counterSampleName(f.name, om) : f.name;
  const sink = new ByteSink(Math.min(1 << 20, 64 + c.count * 96));
  const bounds = new Map<number, string>();
  for (let i = 0; i < c.count; i++) {
    if (skip?.has(i)) continue;
    const s = f.series[c.order === undefined ? i : c.order[i]!]!;
    writeSeries(sink, f, sample, s, lts[i]!, om, bounds, om && created);
  }
  const out = sink.toString();
  if (skip === undefined) {
    if (om) c.openMetrics = out;
    else c.text = out;
  }
  return out;
}
