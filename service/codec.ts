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
  render(
    snapshot: StoreSnapshot,
    format: Exclude<Format, 'protobuf'>,
    extraFamilies: readonly MetricFamily[],
  ): TextRender;
  /**
   * Delimited protobuf MetricFamily messages with exactly the series the text render exposes: the text
   * render (cached per family) parsed back, so every merge rule lives in one place (snapshot-render),
   * with the stored native histograms put back (shared/expfmt/native-join.ts);
   * parsed and encoded per family block, and only for the blocks that changed since the last call. In
   * pieces, one per block (concatenation = body; an unchanged block's piece is the same object).
   */
  renderProtobuf(snapshot: StoreSnapshot, extraFamilies: readonly MetricFamily[]): readonly Uint8Array[];
}

/** Counters of the codec's caches, for tests. */
export interface CodecStats {
  /** Family blocks parsed and encoded as protobuf (the rest came from the cache). */
  protobufBlocksEncoded: number;
}

export function createCodec(): Codec & { readonly stats: CodecStats } {
  const stats: CodecStats = { protobufBlocksEncoded: 0 };
  const cache = new RenderCache();
  /**
   * Each text block's protobuf encoding, by the block's identity (see RenderResult.blocks): delimited
   * messages concatenate, so a change re-encodes only the families it touched, not all 100k series.
   */
  const protobufBlocks = new WeakMap<readonly string[], Uint8Array>();
  return {
    stats,
    parseText,
    parseTextYielding: (body, limits) => parseTextYielding(body, { maxSeries: limits.maxSeries }),
    parseProtobufDelimited: (bytes, limits) => parseProtobufDelimited(bytes, limits ?? {}),
    negotiate,
    render(snapshot, format, extraFamilies) {
      const r = renderSnapshotWithStats(snapshot, format, { extraFamilies, cache });
      return {
        get body() {
          return r.body;
        },
        parts: r.parts,
        duplicateSeriesDropped: r.stats.duplicateSeriesDropped,
        conflictingSeriesDropped: r.stats.conflictingSeriesDropped,
      };
    },
    renderProtobuf(snapshot, extraFamilies) {
      const pieces: Uint8Array[] = [];
      if (snapshot.groups.length > 0) {
        // Native histograms are not in the text: put back from the snapshot, for the blocks encoded now
        // (a block is a new object whenever one of its families changed, natives included).
        const natives = nativeJoiner(snapshot);
        for (const block of renderSnapshotWithStats(snapshot, 'text', { cache }).blocks) {
          let bytes = protobufBlocks.get(block);
          if (bytes === undefined) {
            bytes = metricFamiliesToProtobufDelimited(
              natives(parseText(block.join(''))).map(withEmptyInstance),
            );
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
