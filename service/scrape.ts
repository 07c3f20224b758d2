/**
 * The /metrics cache: one snapshot of the store, rendered once per store change and format, gzipped once,
 * served as cached bytes.
 *
 * - A scrape never waits for the store: it is served from the last snapshot while a refresh runs in the
 *   background. Refreshes run every `refreshMs`, when a scrape finds the snapshot older than that, and at
 *   once after a write through this instance (`invalidate()`); there is at most one at a time
 *   (single-flight; a request for another while one runs starts one more when it ends). `store.snapshot()`
 *   is incremental (it reads what changed), and renders are redone only when its generation changed.
 * - A changed snapshot is rendered and gzipped, within its refresh, in every format scraped with gzip so
 *   far, before it replaces the served one: scrapes meanwhile get the previous bytes, so no scrape waits
 *   for a render or a gzip of a large body (the read-path bench's p99 at 100k series came from that).
 *   The exception is read-your-writes: after a push or delete through this instance, a scrape waits for
 *   the refresh that write started (as a Pushgateway user expects of push-then-scrape).
 * - A scrape waits only when there is nothing it may serve: before the first snapshot, and when the last
 *   one is older than `maxAgeMs`. `refreshMs = 0` makes every scrape wait for a refresh (tests).
 * - Accrue's own metrics change on every scrape, so they are rendered separately (small) and appended to
 *   the cached bytes; gzip output is the cached gzip member followed by a small member for them (a
 *   multi-member gzip stream, RFC 1952 §2.2, which Go's, Node's and Python's readers decode as one body).
 * - When the store can't be read, the last good snapshot is served until it is older than `maxAgeMs`;
 *   then scrapes answer 503 with the reason (stale data must not look fresh forever).
 * - What each refresh read (requests, read units, groups re-read, full or incremental) and how long it
 *   took go to Accrue's own metrics (./stats.ts), so the read cost is visible in production.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { snapshotHasUtf8Names } from '../shared/expfmt/snapshot-escaping';
import { DEFAULT_ESCAPING, type EscapingScheme } from '../shared/model/names';
import type { MetricFamily } from '../shared/model/types';
import type { Store, StoreSnapshot } from '../shared/store/types';
import { GzipRuns } from './gzip-runs';
import type { ServiceStats } from './stats';

export type Format = 'text' | 'openmetrics' | 'protobuf';
type TextFormat = Exclude<Format, 'protobuf'>;

/** The exposition writer the cache uses (shared/expfmt's renderSnapshot, adapted in ./codec). */
export interface Renderer {
  /**
   * Delimited protobuf MetricFamily messages: the stored families exactly as the text render exposes
   * them (same merge rules), or only `extraFamilies` for an empty snapshot, in pieces (concatenation =
   * body; an unchanged (group, family) chunk's piece is the same object as in the previous call).
   * Absent: protobuf is served as text.
   */
  renderProtobuf?(
    snapshot: StoreSnapshot,
    extraFamilies: readonly MetricFamily[],
    escaping?: EscapingScheme,
  ): readonly Uint8Array[];
  /** `escaping`: how names outside the legacy set are written (negotiated from Accept). */
  render(
    snapshot: StoreSnapshot,
    format: TextFormat,
    extraFamilies: readonly MetricFamily[],
    escaping?: EscapingScheme,
  ): {
    readonly body: string;
    /**
     * The body in pieces (concatenation = body), when the renderer can give them without joining: the
     * cache then gzips and serves from them and never reads `body`, so no second full copy is built.
     */
    readonly parts?: readonly string[];
    readonly duplicateSeriesDropped?: number;
    readonly conflictingSeriesDropped?: number;
  };
}

export type ScrapeResult =
  /** `body` is bytes (gzip) or a stream of the cached parts (plain: never copied whole per request). */
  | { readonly ok: true; readonly body: Buffer | Readable; readonly gzipped: boolean }
  | { readonly ok: false; readonly reason: string };

interface Current {
  readonly snapshot: StoreSnapshot;
  readonly series: number;
  confirmedAtMs: number;
  /** This snapshot's renders, by view: a render is never served for another snapshot, nor evicted by one. */
  readonly renders: Map<View, CachedBody>;
}

/**
 * A format and how names outside the legacy set are written in it (the `escaping` of Accept). Renders are
 * kept per view; a snapshot holding only legacy names is the same in every scheme, so its scrapes all use
 * the default scheme's view (docs/exposition.md "UTF-8 names").
 */
type View = `${Format}:${EscapingScheme}`;

function splitView(view: View): [Format, EscapingScheme] {
  const i = view.indexOf(':');
  return [view.slice(0, i) as Format, view.slice(i + 1) as EscapingScheme];
}

/**
 * One format's render of the stored families, held once (see docs/service.md "Memory"): `parts` are the
 * renderer's cached pieces (text: chunk strings shared with its cache; protobuf: per-chunk encodings),
 * so holding them costs only the array; gzip is computed once per snapshot, reusing the compressed runs
 * of unchanged pieces (./gzip-runs.ts), and plain bodies are assembled per request from the parts (never
 * cached: Prometheus always asks for gzip, and a cached plain copy would be ~10x the gzip).
 */
type CachedBody =
  | { readonly kind: 'text'; readonly parts: readonly string[]; gz?: Promise<Buffer> }
  | { readonly kind: 'protobuf'; readonly parts: readonly Uint8Array[]; gz?: Promise<Buffer> };

/** Plain bodies are encoded in pieces of about this many characters (small parts are batched). */
const PLAIN_WRITE_CHARS = 64 * 1024;

/**
 * The parts followed by `tail`, as a stream that encodes about PLAIN_WRITE_CHARS at a time and only as
 * fast as the client reads: ten slow plain-text scrapes hold ten small buffers, not ten copies of the body.
 */
export function streamParts(parts: readonly string[], tail: Buffer): Readable {
  function* chunks(): Generator<Buffer> {
    let i = 0;
    while (i < parts.length) {
      let batch = parts[i++]!;
      while (batch.length < PLAIN_WRITE_CHARS && i < parts.length) batch += parts[i++]!;
      yield Buffer.from(batch, 'utf8');
    }
    yield tail;
  }
  return Readable.from(chunks(), { objectMode: false });
}

const EOF_LINE = '# EOF\n';
/** The longest a scrape waits when it has nothing to serve (below Prometheus's default 10 s timeout). */
export const SCRAPE_WAIT_MS = 5_000;

export class ScrapeCache {
  private current: Current | undefined;
  /** Formats scraped with gzip since start: a new snapshot is rendered and gzipped in them before it is served. */
  private readonly warm = new Set<View>();
  /** Per view: the compressed runs of the last gzip, reused by the next (./gzip-runs.ts). */
  private readonly gzips = new Map<View, GzipRuns>();
  private inflight: Promise<void> | undefined;
  private lastError: unknown;
  /** Counts requests for a refresh; `doneEpoch` is the request count when the last finished refresh began. */
  private epoch = 0;
  private doneEpoch = 0;
  /** The request count of the last write through this instance (`invalidate()`). */
  private writeEpoch = 0;
  private again = false;
  private lastRefreshMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly renderer: Renderer,
    private readonly opts: {
      readonly refreshMs: number;
      readonly maxAgeMs: number;
      /** @default SCRAPE_WAIT_MS */
      readonly waitMs?: number;
    },
    private readonly stats: ServiceStats,
    private readonly now: () => number,
  ) {
    // The full read happens once, at start, not in the first scrape.
    if (opts.refreshMs > 0) this.kick();
  }

  /** A write went through this instance: refresh now (in the background). */
  invalidate(): void {
    this.writeEpoch = ++this.epoch;
    this.kick();
  }

  /** Stops the background refreshes (server close). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The served snapshot (status page and JSON API use it too); waits only when there is nothing to serve. */
  async snapshot(): Promise<StoreSnapshot | undefined> {
    await this.ensureServable();
    return this.current?.snapshot;
  }

  /** Age of the served snapshot in seconds (NaN before the first one). */
  snapshotAgeSeconds(): number {
    return this.current ? (this.now() - this.current.confirmedAtMs) / 1000 : Number.NaN;
  }

  private ageMs(): number {
    return this.current ? this.now() - this.current.confirmedAtMs : Number.POSITIVE_INFINITY;
  }

  private async ensureServable(): Promise<void> {
    const age = this.ageMs();
    if (this.opts.refreshMs <= 0 || age > this.opts.maxAgeMs) await this.fresh();
    else if (this.doneEpoch < this.writeEpoch) await this.ownWrites();
    else if (age >= this.opts.refreshMs) this.kick();
  }

  /**
   * Read-your-writes, as on the Pushgateway: after a push or delete through this instance, a scrape waits
   * (at most SCRAPE_WAIT_MS) for the refresh that write started. Changes made elsewhere (other instances,
   * the ingest Lambda) never make a scrape wait.
   */
  private async ownWrites(): Promise<void> {
    const want = this.writeEpoch;
    await this.atMostWaitMs(async () => {
      for (let i = 0; i < 3 && this.doneEpoch < want; i++) await (this.inflight ?? this.refresh());
    });
  }

  private async atMostWaitMs(work: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.waitMs());
      timer.unref();
    });
    await Promise.race([work(), timeout]);
    clearTimeout(timer);
  }

  private waitMs(): number {
    return this.opts.waitMs ?? SCRAPE_WAIT_MS;
  }

  /** Waits (at most SCRAPE_WAIT_MS) for a refresh that began after this call. */
  private async fresh(): Promise<void> {
    const want = ++this.epoch;
    await this.atMostWaitMs(async () => {
      for (let i = 0; i < 3 && this.doneEpoch < want; i++) await this.refresh();
    });
  }

  /** Starts a refresh unless one runs; then one more starts when it ends. */
  private kick(): void {
    if (this.inflight) this.again = true;
    else void this.refresh();
  }

  private refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    const startEpoch = this.epoch;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inflight = (async () => {
      const t0 = performance.now();
      try {
        const snapshot = await this.store.snapshot();
        this.stats.countSnapshotReads(snapshot.reads);
        const c = this.current;
        if (!c || c.snapshot.generation !== snapshot.generation || c.snapshot.groups !== snapshot.groups) {
          await this.swapIn(snapshot);
        } else {
          c.confirmedAtMs = this.now();
        }
        this.lastError = undefined;
      } catch (err) {
        this.lastError = err;
        this.stats.snapshotRefreshFailures++;
      } finally {
        this.lastRefreshMs = performance.now() - t0;
        this.stats.countRefresh(this.lastRefreshMs / 1000);
        this.doneEpoch = Math.max(this.doneEpoch, startEpoch);
        this.inflight = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          this.kick();
        } else this.schedule();
      }
    })();
    return this.inflight;
  }

  /**
   * Serves `snapshot` from now on. It is first rendered and gzipped, in the background of this refresh, in
   * every format scraped with gzip so far, while scrapes keep getting the previous bytes: no scrape waits
   * for a render or a gzip of a changed store (docs/service.md).
   */
  private async swapIn(snapshot: StoreSnapshot): Promise<void> {
    let series = 0;
    for (const g of snapshot.groups) for (const f of g.families) series += f.series.length;
    const renders = new Map<View, CachedBody>();
    try {
      for (const view of this.warm) {
        const r = this.renderStored(snapshot, view);
        r.gz = this.gzip(view, r);
        await r.gz;
        renders.set(view, r);
      }
    } catch {
      // A failed warm-up only means the first scrape renders (and reports the failure) itself.
    }
    this.current = { snapshot, series, confirmedAtMs: this.now(), renders };
  }

  /** The next refresh `refreshMs` after the start of the last one (at once when it took longer). */
  private schedule(): void {
    if (this.closed || this.opts.refreshMs <= 0 || this.timer) return;
    const wait = Math.max(0, this.opts.refreshMs - this.lastRefreshMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, wait);
    this.timer.unref();
  }

  async scrape(
    format: Format,
    acceptGzip: boolean,
    escaping: EscapingScheme = DEFAULT_ESCAPING,
  ): Promise<ScrapeResult> {
    this.stats.scrapes++;
    await this.ensureServable();
    const c = this.current;
    if (!c)
      return {
        ok: false,
        reason: `store unavailable and no snapshot yet: ${this.lastError !== undefined ? errText(this.lastError) : `first read still running after ${this.waitMs()} ms`}`,
      };
    const age = this.now() - c.confirmedAtMs;
    if (age > this.opts.maxAgeMs) {
      const why =
        this.lastError !== undefined
          ? `store unavailable (${errText(this.lastError)})`
          : `store refresh still running after ${this.waitMs()} ms`;
      return {
        ok: false,
        reason: `${why}; last good snapshot is ${Math.round(age / 1000)} s old, more than snapshotMaxAgeMs=${this.opts.maxAgeMs}`,
      };
    }
    const extra = this.stats.families(age / 1000, c.snapshot.groups.length, c.series);
    const empty: StoreSnapshot = { generation: '', takenAtMs: c.snapshot.takenAtMs, groups: [] };
    const view: View = `${format}:${snapshotHasUtf8Names(c.snapshot) ? escaping : DEFAULT_ESCAPING}`;
    if (acceptGzip) this.warm.add(view);
    const stored = this.storedRender(c, view);
    if (stored.kind === 'protobuf') {
      const own = Buffer.concat(this.renderer.renderProtobuf!(empty, extra));
      if (!acceptGzip) return { ok: true, body: Buffer.concat([...stored.parts, own]), gzipped: false };
      stored.gz ??= this.gzip(view, stored);
      return { ok: true, body: Buffer.concat([await stored.gz, gzipSync(own)]), gzipped: true };
    }
    const own = Buffer.from(this.renderer.render(empty, textFormatOf(format), extra).body, 'utf8');
    if (!acceptGzip) return { ok: true, body: streamParts(stored.parts, own), gzipped: false };
    stored.gz ??= this.gzip(view, stored);
    return { ok: true, body: Buffer.concat([await stored.gz, gzipSync(own)]), gzipped: true };
  }

  private storedRender(c: Current, view: View): CachedBody {
    let r = c.renders.get(view);
    if (r === undefined) {
      r = this.renderStored(c.snapshot, view);
      c.renders.set(view, r);
    }
    return r;
  }

  private gzip(view: View, r: CachedBody): Promise<Buffer> {
    let runs = this.gzips.get(view);
    if (runs === undefined) {
      runs = new GzipRuns();
      this.gzips.set(view, runs);
    }
    return runs.gzip(r.parts);
  }

  /** The stored families (without Accrue's own) in `format`; protobuf falls back to text without a writer. */
  private renderStored(snapshot: StoreSnapshot, view: View): CachedBody {
    const t0 = performance.now();
    const [format, escaping] = splitView(view);
    const stored = withoutOwnNames(snapshot, this.stats.ownNames);
    let r: CachedBody;
    if (format === 'protobuf' && this.renderer.renderProtobuf) {
      r = { kind: 'protobuf', parts: this.renderer.renderProtobuf(stored, [], escaping) };
    } else {
      const text = this.renderer.render(stored, textFormatOf(format), [], escaping);
      this.stats.duplicateSeriesDropped = text.duplicateSeriesDropped ?? 0;
      this.stats.conflictingSeriesDropped = text.conflictingSeriesDropped ?? 0;
      let parts: readonly string[] = text.parts ?? [text.body];
      const last = parts[parts.length - 1];
      if (format === 'openmetrics' && last !== undefined && last.endsWith(EOF_LINE))
        parts = [...parts.slice(0, -1), last.slice(0, -EOF_LINE.length)];
      r = { kind: 'text', parts };
    }
    this.stats.renderSeconds = (performance.now() - t0) / 1000;
    this.stats.renders++;
    return r;
  }
}

/** Protobuf without a protobuf writer (test renderers) is served as text. */
function textFormatOf(format: Format): TextFormat {
  return format === 'protobuf' ? 'text' : format;
}

/**
 * The snapshot without stored families that carry one of Accrue's own metric names (pushes of `accrue_*`
 * are refused, so this only guards against other writers); unchanged groups keep their identity, which
 * the render cache relies on.
 */
function withoutOwnNames(snapshot: StoreSnapshot, own: ReadonlySet<string>): StoreSnapshot {
  if (!snapshot.groups.some((g) => g.families.some((f) => own.has(f.name)))) return snapshot;
  return {
    ...snapshot,
    groups: snapshot.groups.map((g) =>
      g.families.some((f) => own.has(f.name))
        ? { ...g, families: g.families.filter((f) => !own.has(f.name)) }
        : g,
    ),
  };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
