/**
 * StoreSnapshot → one `/metrics` body (text 0.0.4 or OpenMetrics 1.0): the scrape path.
 *
 * What it writes, as the Pushgateway does:
 * - one block per family name (one HELP, one TYPE, all series contiguous), families sorted by name;
 * - every series carries its group's grouping labels (they win over a series label of the same name) and
 *   `instance=""` when neither the group nor the series has an `instance`; labels sorted by name;
 * - per group `push_time_seconds` and `push_failure_time_seconds` gauges (0 when never), with the
 *   Pushgateway's HELP texts;
 * - `extraFamilies` (Accrue's own metrics) as given, without group labels;
 * - no series twice: when groups would expose an identical series (e.g. group `{job="a"}` pushed a series
 *   with `instance="x"` and group `{job="a",instance="x"}` has the same series), the series of the most
 *   recently updated group is kept (ties: the group whose label text sorts first) and the others are
 *   dropped and counted in `RenderStats.duplicateSeriesDropped` (expose it as
 *   `accrue_render_duplicate_series_dropped`). A family whose type differs between groups keeps the type
 *   of the most recently updated group; the other groups' series are dropped and counted in
 *   `conflictingSeriesDropped`, as are store families whose name is taken by `push_time_seconds`,
 *   `push_failure_time_seconds` or an extra family. The scrape never fails because of what one group holds.
 * - series within a group's family sorted by their label text; groups sorted by their label text;
 * - names outside the legacy character set (UTF-8 names, ACCRUE_UTF8_NAMES) escaped per
 *   `opts.escaping` before anything else (./snapshot-escaping.ts), or quoted for `allow-utf-8`.
 *
 * Caching contract (`RenderCache`): the rendered lines of each (group, family) are cached in a WeakMap
 * keyed by the MetricFamily object, and each family name's merged block is cached by the identity of
 * the family objects that make it up. This is correct only because store snapshots are immutable
 * (Store contract 8): a MetricFamily object, once handed out in a snapshot, never changes. Stores share
 * unchanged GroupState / MetricFamily objects between snapshot generations (structural sharing), and a
 * changed family must be a new object. Then rendering a new snapshot re-renders only the families that
 * changed; everything else is reused. Keep one RenderCache per process (the service's) and pass it on
 * every call; without one, each call renders everything. The cache holds no strong reference to families
 * (WeakMap) beyond the per-name block entries of the last render, so memory follows the live snapshot.
 *
 * Its parts: ./render-cache.ts (`RenderCache` and the (group, family) chunks), ./snapshot-labels.ts (group
 * and series label text), ./snapshot-protobuf.ts (the protobuf pieces), ./snapshot-escaping.ts (names).
 */
import {
  counterSampleName,
  createdSampleName,
  exposedNames,
  openMetricsFamilyName,
  PUSH_FAILURE_TIME_METRIC,
  PUSH_TIME_METRIC,
} from '../model/exposed-names';
import { DEFAULT_ESCAPING, type EscapingScheme } from '../model/names';
import { hasStart, type MetricFamily, type SeriesStart } from '../model/types';
import type { GroupState, StoreSnapshot } from '../store/types';
import { escapeHelp, escapeOpenMetricsHelp, metricNameText } from './escape';
import { formatFloat } from './float';
import { collidingGroups } from './group-collisions';
import type { TextExpositionFormat as ExpositionFormat } from './negotiate';
import { metricFamiliesToOpenMetrics, openMetricsTypeName } from './openmetrics-create';
import { metricFamiliesToProtobufDelimited } from './protobuf-create';
import {
  type BlockEntry,
  type Chunk,
  chunkLts,
  chunkProtobuf,
  chunkText,
  type Entry,
  getChunk,
  type Piece,
  RenderCache,
  type RenderFormat,
} from './render-cache';
import { escapeSnapshotNames } from './snapshot-escaping';
import { type GroupText, groupText } from './snapshot-labels';
import { protobufFamilyHead, protobufPushTime } from './snapshot-protobuf';
import { metricFamiliesToText } from './text-create';

export { PUSH_FAILURE_TIME_METRIC, PUSH_TIME_METRIC, RenderCache, type RenderFormat };
export const PUSH_TIME_HELP = 'Last Unix time when changing this group in the Pushgateway succeeded.';
export const PUSH_FAILURE_TIME_HELP = 'Last Unix time when changing this group in the Pushgateway failed.';

export interface RenderStats {
  /** Series not written because a more recently updated group exposes the identical series. */
  readonly duplicateSeriesDropped: number;
  /** Series not written because their family's type disagrees across groups or its name is reserved. */
  readonly conflictingSeriesDropped: number;
  /** (group, family) chunks rendered in this call (the rest came from the cache). */
  readonly chunksRendered: number;
  /** Family blocks rebuilt in this call (the rest came from the cache). */
  readonly blocksRebuilt: number;
  /** Series written (store series, excluding push_time_seconds and extra families). */
  readonly seriesWritten: number;
}

export interface RenderResult {
  /** The whole body (joined from `parts` on first read). */
  readonly body: string;
  /**
   * The body as pieces in order (their concatenation is `body`): the cached per-(group, family) chunk
   * strings themselves, so a caller that streams them (e.g. into gzip) never builds a second copy of the
   * whole body.
   */
  readonly parts: readonly string[];
  readonly stats: RenderStats;
}

/**
 * The protobuf exposition (delimited MetricFamily messages) of a snapshot, in pieces as `RenderResult`'s:
 * an unchanged (group, family) chunk's piece is the same object as in the previous render.
 */
export interface ProtobufRenderResult {
  readonly parts: readonly Uint8Array[];
  readonly stats: RenderStats;
}

export interface RenderOptions {
  /** Families rendered as given (no group labels), e.g. Accrue's own metrics. Their names win over the store's. */
  readonly extraFamilies?: readonly MetricFamily[];
  /** Long-lived cache; see the caching contract above. */
  readonly cache?: RenderCache;
  /**
   * How names outside the legacy set are written (negotiated from Accept): quoted for `allow-utf-8`,
   * else escaped (./snapshot-escaping.ts). @default 'underscores'
   */
  readonly escaping?: EscapingScheme;
}

export function renderSnapshot(
  snapshot: StoreSnapshot,
  format: ExpositionFormat,
  opts: RenderOptions = {},
): string {
  return renderSnapshotWithStats(snapshot, format, opts).body;
}

export function renderSnapshotWithStats(
  source: StoreSnapshot,
  format: ExpositionFormat,
  opts: RenderOptions = {},
): RenderResult {
  const r = renderPieces(source, format, opts);
  const parts = r.parts as string[];
  if (format === 'openmetrics') parts.push('# EOF\n');
  let body: string | undefined;
  return {
    get body(): string {
      body ??= parts.join('');
      return body;
    },
    parts,
    stats: r.stats,
  };
}

/**
 * The protobuf exposition of the snapshot: exactly the families, series and values of the text render
 * (same merge, dedupe and collision rules, decided here once for every format), with native histograms,
 * which only protobuf carries. Family blocks whose series were all dropped are left out (a protobuf
 * family without metrics says nothing). Names are as they are for `allow-utf-8`, else escaped like the
 * text's.
 */
export function renderSnapshotProtobuf(
  source: StoreSnapshot,
  opts: RenderOptions = {},
): ProtobufRenderResult {
  const r = renderPieces(source, 'protobuf', opts);
  return { parts: r.parts as Uint8Array[], stats: r.stats };
}

/** The blocks of one render by family name, with what the name-collision check needs of each. */
interface Blocks {
  readonly pieces: Map<string, readonly Piece[]>;
  readonly kinds: Map<string, BlockKind>;
}

/** What the name-collision check needs of a block. */
interface BlockKind {
  readonly type: MetricFamily['type'];
  readonly series: number;
  readonly reserved: boolean;
  /** It writes `_created` lines (OpenMetrics only). */
  readonly started?: boolean;
}

/** Series counts of one render (RenderStats' dropped and written figures). */
interface Tally {
  duplicates: number;
  conflicting: number;
  series: number;
}

type SortedGroups = readonly { g: GroupState; gt: GroupText }[];

function renderPieces(
  source: StoreSnapshot,
  format: RenderFormat,
  opts: RenderOptions,
): { parts: Piece[]; stats: RenderStats } {
  const cache = opts.cache ?? new RenderCache();
  const snapshot = escapeSnapshotNames(source, opts.escaping ?? DEFAULT_ESCAPING);
  const chunksBefore = cache.chunksRendered;
  const blocksBefore = cache.blocksRebuilt;
  const groups = sortedGroups(cache, snapshot);
  const blocks = reservedBlocks(groups, opts.extraFamilies ?? [], format);
  const tally: Tally = { duplicates: 0, conflicting: 0, series: 0 };
  storeBlocks(cache, entriesByName(groups), format, blocks, tally);
  const names = [...blocks.pieces.keys()].sort();
  const keep = claimNames(names, blocks, format === 'openmetrics', tally);
  const parts: Piece[] = [];
  for (const n of names) {
    if (!keep.has(n)) continue;
    for (const p of blocks.pieces.get(n)!) parts.push(p);
  }
  return {
    parts,
    stats: {
      duplicateSeriesDropped: tally.duplicates,
      conflictingSeriesDropped: tally.conflicting,
      chunksRendered: cache.chunksRendered - chunksBefore,
      blocksRebuilt: cache.blocksRebuilt - blocksBefore,
      seriesWritten: tally.series,
    },
  };
}

/** Groups in deterministic order (by label text), with their rendered labels. */
function sortedGroups(cache: RenderCache, snapshot: StoreSnapshot): SortedGroups {
  const groups = snapshot.groups.map((g) => ({ g, gt: groupText(cache.groups, g.key) }));
  groups.sort((a, b) => (a.gt.id < b.gt.id ? -1 : a.gt.id > b.gt.id ? 1 : 0));
  return groups;
}

/** Family name → its (group, family) entries, in group order. */
function entriesByName(groups: SortedGroups): Map<string, Entry[]> {
  const byName = new Map<string, Entry[]>();
  for (const { g, gt } of groups) {
    for (const f of g.families) {
      let list = byName.get(f.name);
      if (list === undefined) {
        list = [];
        byName.set(f.name, list);
      }
      list.push({ group: g, gt, family: f });
    }
  }
  return byName;
}

/** The blocks of reserved names: the extra families, then the per-group push-time gauges. */
function reservedBlocks(groups: SortedGroups, extra: readonly MetricFamily[], format: RenderFormat): Blocks {
  const blocks: Blocks = { pieces: new Map(), kinds: new Map() };
  for (const f of extra) {
    blocks.pieces.set(f.name, [extraBlock(f, format)]);
    blocks.kinds.set(f.name, { type: f.type, series: 0, reserved: true });
  }
  if (groups.length === 0) return blocks;
  const gauges = [
    [PUSH_TIME_METRIC, PUSH_TIME_HELP, (g: GroupState) => g.lastPushMs],
    [PUSH_FAILURE_TIME_METRIC, PUSH_FAILURE_TIME_HELP, (g: GroupState) => g.lastPushFailureMs],
  ] as const;
  for (const [name, help, pick] of gauges) {
    if (blocks.kinds.has(name)) continue;
    blocks.kinds.set(name, { type: 'gauge', series: 0, reserved: true });
    blocks.pieces.set(name, pushTimeBlock(name, help, groups, pick, format));
  }
  return blocks;
}

/**
 * The stored families' blocks, from the cache unless one of their families changed; a name taken by a
 * reserved block drops its series (counted). The cache keeps only the live names afterwards.
 */
function storeBlocks(
  cache: RenderCache,
  byName: ReadonlyMap<string, readonly Entry[]>,
  format: RenderFormat,
  blocks: Blocks,
  tally: Tally,
): void {
  const blockCache = cache.blocks[format];
  const live = new Map<string, BlockEntry>();
  for (const [name, entries] of byName) {
    if (blocks.pieces.has(name)) {
      for (const e of entries) tally.conflicting += e.family.series.length;
      continue;
    }
    let be = blockCache.get(name);
    if (be === undefined || !blockStillGood(be, entries)) {
      be = buildBlock(cache, entries, format);
      cache.blocksRebuilt++;
    }
    live.set(name, be);
    blocks.pieces.set(name, be.parts);
    blocks.kinds.set(name, { type: be.type, series: be.series, reserved: false, started: be.started });
    tally.duplicates += be.duplicates;
    tally.conflicting += be.conflicting;
    tally.series += be.series;
  }
  // Drop block entries of families that are gone, so the cache follows the live snapshot.
  cache.blocks[format] = live;
}

/**
 * The names whose blocks are written. Different family names can still expose the same sample or
 * (OpenMetrics) family name: histogram `x` writes `x_sum`, which a family named `x_sum` also writes;
 * counters `x` and `x_total` are both family `x` in OpenMetrics. Such output would make Prometheus reject
 * the whole scrape, so a block claiming a name already claimed is dropped (reserved names first, then in
 * name order) and its series counted. A `_created` sample (OpenMetrics) is claimed by its family before the
 * others: OpenMetrics reserves that suffix for the counter, histogram or summary it belongs to, so a family
 * named `x_created` beside counter `x` with starts is the one dropped. Protobuf follows the text's rule.
 */
function claimNames(names: readonly string[], blocks: Blocks, om: boolean, tally: Tally): Set<string> {
  const claimed = new Map<string, string>();
  const keep = new Set<string>();
  for (const reservedPass of [true, false]) {
    if (!reservedPass && om) claimCreated(names, blocks, claimed);
    for (const n of names) {
      const k = blocks.kinds.get(n)!;
      if (k.reserved !== reservedPass) continue;
      const exposed = claimedNames(n, k, om);
      if (exposed.some((x) => (claimed.get(x) ?? n) !== n)) {
        tally.conflicting += k.series;
        tally.series -= k.series;
        continue;
      }
      for (const x of exposed) claimed.set(x, n);
      keep.add(n);
    }
  }
  return keep;
}

/** Claims the `_created` sample name of every store block that writes one (unless a reserved block has it). */
function claimCreated(names: readonly string[], blocks: Blocks, claimed: Map<string, string>): void {
  for (const n of names) {
    const k = blocks.kinds.get(n)!;
    if (k.reserved || !k.started) continue;
    const c = createdSampleName(n, k.type);
    if (!claimed.has(c)) claimed.set(c, n);
  }
}

/**
 * Names a family occupies in the output: its name and sample names (the rule: `exposedNames`), and in
 * OpenMetrics its family name too, and its `_created` sample when it writes one.
 */
function claimedNames(name: string, k: BlockKind, om: boolean): string[] {
  const type = k.type;
  if (!om) return exposedNames(name, type);
  const created = k.started ? [createdSampleName(name, type)] : [];
  if (type === 'counter') {
    const fam = openMetricsFamilyName(name, type);
    return [`#${fam}`, counterSampleName(fam, true), ...created];
  }
  return [`#${name}`, ...exposedNames(name, type), ...created];
}

/** An extra family's block (written as given). */
function extraBlock(f: MetricFamily, format: RenderFormat): Piece {
  if (format === 'protobuf') return metricFamiliesToProtobufDelimited([f]);
  return format === 'openmetrics'
    ? metricFamiliesToOpenMetrics([f], { omitEof: true })
    : metricFamiliesToText([f]);
}

/**
 * A push-time gauge family: a header, then one piece per group (so that gzip runs, which compare pieces,
 * see the 10 lines that changed rather than a new block of 1,000).
 */
function pushTimeBlock(
  name: string,
  help: string,
  groups: readonly { g: GroupState; gt: GroupText }[],
  pick: (g: GroupState) => number | undefined,
  format: RenderFormat,
): Piece[] {
  if (format === 'protobuf')
    return protobufPushTime(
      name,
      help,
      groups.map((x) => ({ g: x.g, labels: x.gt })),
      pick,
    );
  const om = format === 'openmetrics';
  let header = '# HELP ' + name + ' ' + (om ? escapeOpenMetricsHelp(help) : escapeHelp(help)) + '\n';
  header += '# TYPE ' + name + ' gauge\n';
  const out: Piece[] = [header];
  for (const { g, gt } of groups) {
    const ms = pick(g);
    out.push(name + '{' + gt.withInstance + '} ' + formatFloat(ms === undefined ? 0 : ms / 1000) + '\n');
  }
  return out;
}

function blockStillGood(be: BlockEntry, entries: readonly Entry[]): boolean {
  if (be.families.length !== entries.length) return false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (be.families[i] !== e.family || be.groupIds[i] !== e.gt.id) return false;
    if (be.precedence !== undefined && be.precedence[i] !== e.group.lastUpdateMs) return false;
  }
  return true;
}

/** Precedence: most recently updated group first; ties by group label text. */
function precedenceOrder(entries: readonly Entry[]): number[] {
  const idx = entries.map((_, i) => i);
  idx.sort((a, b) => {
    const ea = entries[a]!;
    const eb = entries[b]!;
    const d = eb.group.lastUpdateMs - ea.group.lastUpdateMs;
    if (d !== 0 && !Number.isNaN(d)) return d;
    return ea.gt.id < eb.gt.id ? -1 : ea.gt.id > eb.gt.id ? 1 : 0;
  });
  return idx;
}

function buildBlock(cache: RenderCache, all: readonly Entry[], format: RenderFormat): BlockEntry {
  let conflicting = 0;
  let precedence: number[] | undefined;
  let entries: readonly Entry[] = all;
  let help = '';
  let type = all[0]!.family.type;
  if (all.length > 1) {
    const prec = precedenceOrder(all);
    const first = all[prec[0]!]!.family;
    type = first.type;
    for (const i of prec) {
      const h = all[i]!.family.help;
      if (h !== '') {
        help = h;
        break;
      }
    }
    for (const e of all) {
      if (e.family.help !== '' && e.family.help !== help) precedence = all.map((x) => x.group.lastUpdateMs);
    }
    const kept = all.filter((e) => e.family.type === type);
    if (kept.length !== all.length) {
      for (const e of all) if (e.family.type !== type) conflicting += e.family.series.length;
      precedence = all.map((e) => e.group.lastUpdateMs);
      entries = kept;
    }
  } else {
    help = all[0]!.family.help;
  }
  const chunks = entries.map((e) => getChunk(cache, e));
  let duplicates = 0;
  for (const c of chunks) duplicates += c.dropped;

  // Dedupe across groups whose labels don't rule out identical series.
  const skips: (Set<number> | undefined)[] = new Array(entries.length);
  if (entries.length > 1) {
    const involved = collidingGroups(entries.map((e) => e.gt.pairs));
    if (involved.size > 0) {
      precedence = all.map((e) => e.group.lastUpdateMs);
      const claimed = new Set<string>();
      for (const i of precedenceOrder(entries)) {
        if (!involved.has(i)) continue;
        const lts = chunkLts(chunks[i]!, entries[i]!);
        for (let k = 0; k < lts.length; k++) {
          const lt = lts[k]!;
          if (claimed.has(lt)) {
            let skip = skips[i];
            if (skip === undefined) {
              skip = new Set();
              skips[i] = skip;
            }
            skip.add(k);
            duplicates++;
          } else claimed.add(lt);
        }
      }
    }
  }

  let series = 0;
  for (let i = 0; i < entries.length; i++) series += chunks[i]!.count - (skips[i]?.size ?? 0);
  const parts =
    format === 'protobuf'
      ? protobufBlock(cache, entries, chunks, skips, help, type)
      : textBlock(entries, chunks, skips, help, type, format === 'openmetrics', cache.openMetricsCreated);
  for (const c of chunks) c.lts = undefined;
  return {
    families: all.map((e) => e.family),
    groupIds: all.map((e) => e.gt.id),
    precedence,
    parts,
    type,
    duplicates,
    conflicting,
    series,
    started: format === 'openmetrics' && cache.openMetricsCreated && anyStart(entries),
  };
}

/** Whether a series of these families has a start (hence `_created` lines in OpenMetrics). */
function anyStart(entries: readonly Entry[]): boolean {
  for (const e of entries) {
    if (!hasStart(e.family.type)) continue;
    for (const s of e.family.series as readonly SeriesStart[]) if (s.createdMs !== undefined) return true;
  }
  return false;
}

/** A text or OpenMetrics block: the HELP/TYPE header, then each chunk's lines. */
function textBlock(
  entries: readonly Entry[],
  chunks: readonly Chunk[],
  skips: readonly (ReadonlySet<number> | undefined)[],
  help: string,
  type: MetricFamily['type'],
  om: boolean,
  created: boolean,
): Piece[] {
  const f0 = entries[0]!.family;
  const fname = metricNameText(om ? openMetricsFamilyName(f0.name, f0.type) : f0.name);
  let header = '';
  if (help !== '')
    header += '# HELP ' + fname + ' ' + (om ? escapeOpenMetricsHelp(help) : escapeHelp(help)) + '\n';
  header += '# TYPE ' + fname + ' ' + (om ? openMetricsTypeName(type) : type) + '\n';
  const parts: Piece[] = [header];
  for (let i = 0; i < entries.length; i++) {
    const t = chunkText(chunks[i]!, entries[i]!, om, created, skips[i]);
    if (t !== '') parts.push(t);
  }
  return parts;
}

/**
 * A protobuf block: one MetricFamily message whose Metric fields are the chunks' cached bytes, behind its
 * length prefix and header; nothing when no series is left (the text shows only a header then).
 */
function protobufBlock(
  cache: RenderCache,
  entries: readonly Entry[],
  chunks: readonly Chunk[],
  skips: readonly (ReadonlySet<number> | undefined)[],
  help: string,
  type: MetricFamily['type'],
): Piece[] {
  const body: Uint8Array[] = [];
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const b = chunkProtobuf(cache, chunks[i]!, entries[i]!, skips[i]);
    if (b.length === 0) continue;
    body.push(b);
    bytes += b.length;
  }
  if (body.length === 0) return [];
  return [protobufFamilyHead(entries[0]!.family.name, help, type, bytes), ...body];
}
