/**
 * The one adapter between the service and the exposition-format module (shared/expfmt): parsing pushed
 * bodies, content negotiation and rendering. Each server gets its own codec (the render cache is
 * per process). Tests may pass their own `Codec` to `buildServer`.
 */
import {
  metricFamiliesToProtobufDelimited,
  type Negotiated,
  negotiate,
  parseProtobufDelimited,
  parseText,
  parseTextYielding,
  RenderCache,
  renderSnapshotWithStats,
} from '../shared/expfmt';
import { nativeJoiner } from '../shared/expfmt/native-join';
import { escapeSnapshotNames } from '../shared/expfmt/snapshot-escaping';
import { DEFAULT_ESCAPING, type EscapingScheme, type NameValidation } from '../shared/model/names';
import type { AnySeries, MetricFamily } from '../shared/model/types';
import type { StoreSnapshot } from '../shared/store/types';
import type { Format } from './scrape';

export interface TextRender {
  readonly body: string;
  /** The body in pieces (see ScrapeCache): reading them does not join the body. */
  readonly parts?: readonly string[];
  /** Series the renderer dropped because another group exposes the identical series. */
  readonly duplicateSeriesDropped?: number;
  /** Series the renderer dropped because their family's type disagrees across groups. */
  readonly conflictingSeriesDropped?: number;
}

/** Bounds of one pushed body, checked while it is parsed. */
export interface ParseLimits {
  readonly maxSeries: number;
}

export interface Codec {
  parseText(body: string): MetricFamily[];
  /** Parses a pushed text body in slices, yielding to other requests between them; stops at `maxSeries`. */
  parseTextYielding(body: string, limits: ParseLimits): Promise<MetricFamily[]>;
  parseProtobufDelimited(bytes: Uint8Array, limits?: ParseLimits): MetricFamily[];
  /** Picks the output format and its Content-Type from an Accept header. */
  negotiate(accept: string | undefined): Negotiated;
  /** `escaping`: how names outside the legacy set are written (negotiated). @default 'underscores' */
  render(
    snapshot: StoreSnapshot,
    format: Exclude<Format, 'protobuf'>,
    extraFamilies: readonly MetricFamily[],
    escaping?: EscapingScheme,
  ): TextRender;
  /**
   * Delimited protobuf MetricFamily messages with exactly the series the text render exposes: the text
   * render (cached per family) parsed back, so every merge rule lives in one place (snapshot-render),
   * with the stored native histograms put back (shared/expfmt/native-join.ts);
   * parsed and encoded per family block, and only for the blocks that changed since the last call. In
   * pieces, one per block (concatenation = body; an unchanged block's piece is the same object).
   * Names are as they are for `allow-utf-8` (the text block quotes them; protobuf has no quoting), else
   * escaped like the text.
   */
  renderProtobuf(
    snapshot: StoreSnapshot,
    extraFamilies: readonly MetricFamily[],
    escaping?: EscapingScheme,
  ): readonly Uint8Array[];
}

/** Counters of the codec's caches, for tests. */
export interface CodecStats {
  /** Family blocks parsed and encoded as protobuf (the rest came from the cache). */
  protobufBlocksEncoded: number;
}

/** `names`: which names pushes may carry (`utf8` with ACCRUE_UTF8_NAMES). @default 'legacy' */
export function createCodec(
  opts: { readonly names?: NameValidation } = {},
): Codec & { readonly stats: CodecStats } {
  const names = opts.names ?? 'legacy';
  const stats: CodecStats = { protobufBlocksEncoded: 0 };
  const cache = new RenderCache();
  /**
   * Each text block's protobuf encoding, by the block's identity (see RenderResult.blocks): delimited
   * messages concatenate, so a change re-encodes only the families it touched, not all 100k series.
   */
  const protobufBlocks = new WeakMap<readonly string[], Uint8Array>();
  return {
    stats,
    parseText: (body) => parseText(body, { names }),
    parseTextYielding: (body, limits) => parseTextYielding(body, { maxSeries: limits.maxSeries, names }),
    parseProtobufDelimited: (bytes, limits) =>
      parseProtobufDelimited(bytes, { maxSeries: limits?.maxSeries, names }),
    negotiate,
    render(snapshot, format, extraFamilies, escaping) {
      const r = renderSnapshotWithStats(snapshot, format, { extraFamilies, cache, escaping });
      return {
        get body() {
          return r.body;
        },
        parts: r.parts,
        duplicateSeriesDropped: r.stats.duplicateSeriesDropped,
        conflictingSeriesDropped: r.stats.conflictingSeriesDropped,
      };
    },
    renderProtobuf(snapshot, extraFamilies, escaping) {
      const pieces: Uint8Array[] = [];
      if (snapshot.groups.length > 0) {
        // Native histograms are not in the text: put back from the snapshot (its names escaped like the
        // text's), for the blocks encoded now (a block is a new object whenever one of its families
        // changed, natives included).
        const natives = nativeJoiner(escapeSnapshotNames(snapshot, escaping ?? DEFAULT_ESCAPING));
        for (const block of renderSnapshotWithStats(snapshot, 'text', { cache, escaping }).blocks) {
          let bytes = protobufBlocks.get(block);
          if (bytes === undefined) {
            // A block may quote UTF-8 names (allow-utf-8): read back as they are.
            const families = natives(parseText(block.join(''), { names: 'utf8' }));
            bytes = metricFamiliesToProtobufDelimited(families.map(withEmptyInstance));
            protobufBlocks.set(block, bytes);
            stats.protobufBlocksEncoded++;
          }
          pieces.push(bytes);
        }
      }
      if (extraFamilies.length > 0) pieces.push(metricFamiliesToProtobufDelimited(extraFamilies));
      return pieces;
    },
  };
}

/**
 * Every stored series is exposed with an `instance` label, `instance=""` when the group has none (so that
 * Prometheus with honor_labels does not attach the gateway's address). The text parser drops empty
 * values, so the protobuf path puts it back.
 */
export function withEmptyInstance(f: MetricFamily): MetricFamily {
  const series = (f.series as readonly AnySeries[]).map((s) =>
    Object.hasOwn(s.labels, 'instance') ? s : { ...s, labels: { ...s.labels, instance: '' } },
  );
  return { ...f, series } as MetricFamily;
}
