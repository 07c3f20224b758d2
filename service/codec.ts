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
  renderSnapshotProtobuf,
  renderSnapshotWithStats,
} from '../shared/expfmt';
import type { EscapingScheme, NameValidation } from '../shared/model/names';
import type { MetricFamily } from '../shared/model/types';
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
   * Delimited protobuf MetricFamily messages with exactly the series the text render exposes, plus the
   * stored native histograms: encoded from the snapshot by the same render (shared/expfmt
   * renderSnapshotProtobuf: every merge rule lives in one place), per (group, family) chunk and only
   * for the chunks that changed since the last call, then `extraFamilies` as given. In pieces
   * (concatenation = body; an unchanged chunk's piece is the same object). Names are as they are for
   * `allow-utf-8`, else escaped like the text.
   */
  renderProtobuf(
    snapshot: StoreSnapshot,
    extraFamilies: readonly MetricFamily[],
    escaping?: EscapingScheme,
  ): readonly Uint8Array[];
}

/** Counters of the codec's caches, for tests. */
export interface CodecStats {
  /** (group, family) chunks encoded as protobuf (the rest came from the cache). */
  protobufChunksEncoded: number;
}

/**
 * `names`: which names pushes may carry (`utf8` with ACCRUE_UTF8_NAMES). @default 'legacy'
 * `openMetricsCreated`: OpenMetrics `_created` lines (ACCRUE_OPENMETRICS_CREATED). @default true
 */
export function createCodec(
  opts: { readonly names?: NameValidation; readonly openMetricsCreated?: boolean } = {},
): Codec & { readonly stats: CodecStats } {
  const names = opts.names ?? 'legacy';
  const stats: CodecStats = { protobufChunksEncoded: 0 };
  const cache = new RenderCache({ openMetricsCreated: opts.openMetricsCreated ?? true });
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
        const before = cache.protobufChunksEncoded;
        pieces.push(...renderSnapshotProtobuf(snapshot, { cache, escaping }).parts);
        stats.protobufChunksEncoded += cache.protobufChunksEncoded - before;
      }
      if (extraFamilies.length > 0) pieces.push(metricFamiliesToProtobufDelimited(extraFamilies));
      return pieces;
    },
  };
}
