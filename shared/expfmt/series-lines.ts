/**
 * The sample lines of one series, shared by the text and OpenMetrics writers and the snapshot renderer.
 *
 * Assumptions (not checked here; the parser and the store guarantee them): names are valid, each label
 * set is unique within its family, histogram buckets are cumulative with `le` strictly ascending and
 * without `+Inf` (the `+Inf` bucket is written from `count`), summaries' quantiles ascending.
 */

import { createdSampleName } from '../model/exposed-names';
import { isLegacyMetricName } from '../model/names';
import type { HistogramSeries, Labels, MetricFamily, ScalarSeries, SummarySeries } from '../model/types';
import type { ByteSink } from './byte-sink';
import { escapeLabelValue, labelPrefix } from './escape';
import { canonicalBound, formatFloat } from './float';

/** `a="1",b="2"` for the given labels, in their own key order (empty string for no labels). */
export function labelsText(labels: Labels): string {
  let s = '';
  for (const k in labels) {
    if (!Object.hasOwn(labels, k)) continue;
    s += (s === '' ? '' : ',') + labelPrefix(k) + escapeLabelValue(labels[k]!) + '"';
  }
  return s;
}

/**
 * Per-call cache of formatted `le`/`quantile` values (bucket layouts repeat across series). Both formats
 * write them as Go's %g (`1`, not client_golang's OpenMetrics `1.0`), so that a series keeps its identity
 * whichever format Prometheus negotiates: Prometheus 2.x keeps `le` as a string, and the Pushgateway
 * (text only) wrote `1`, which is what existing series of migrating users carry.
 */
export type BoundCache = Map<number, string>;

function bound(cache: BoundCache, v: number, _openMetrics: boolean): string {
  // The cache, a Map, treats -0 and 0 as one key; both are written `0` (canonicalBound).
  let s = cache.get(v);
  if (s === undefined) {
    s = formatFloat(canonicalBound(v));
    cache.set(v, s);
  }
  return s;
}

/** Writes a value like formatFloat, without allocating for small non-negative integers. */
export function writeValue(out: ByteSink, v: number): void {
  if (v >= 0 && v < 1e6 && Number.isInteger(v) && !Object.is(v, -0)) out.uint(v);
  else out.str(formatFloat(v));
}

/** Writes `a="1",b="2"` from a labels object (no braces). Returns whether anything was written. */
function writeLabels(out: ByteSink, labels: Labels): boolean {
  let first = true;
  for (const k in labels) {
    if (!Object.hasOwn(labels, k)) continue;
    if (!first) out.byte(44);
    first = false;
    out.str(labelPrefix(k));
    out.str(escapeLabelValue(labels[k]!));
    out.byte(34);
  }
  return !first;
}

/** Where the current series' label bytes were first written (later lines copy them). */
const H = { ls: -1, le: -1, any: false };

/** Writes `prefix` and the series' labels: the first time from the source, then as a copy of those bytes. */
function head(out: ByteSink, prefix: string, labels: Labels, lt: string | undefined): void {
  out.str(prefix);
  if (H.ls < 0) {
    H.ls = out.pos;
    if (lt === undefined) H.any = writeLabels(out, labels);
    else {
      H.any = lt !== '';
      out.str(lt);
    }
    H.le = out.pos;
  } else out.repeat(H.ls, H.le);
}

/** Last family name checked by `quoted` (a family's series share it: one check per family). */
let lastName = '';
let lastQuoted = false;

/** True when `name` must be quoted (not a legacy name: only with `escaping=allow-utf-8`). */
function quoted(name: string): boolean {
  if (name !== lastName) {
    lastName = name;
    lastQuoted = !isLegacyMetricName(name);
  }
  return lastQuoted;
}

/** The start of a sample line up to its labels: `name{`, or `{"name",` for a quoted name. */
function open(sampleName: string, q: boolean): string {
  return q ? '{"' + escapeLabelValue(sampleName) + '",' : sampleName + '{';
}

/** Ends a `_sum`/`_count` line's label set: `}`, or drops the open `{` / turns the `,` into `}`. */
function close(out: ByteSink, q: boolean): void {
  if (H.any) out.byte(125);
  else if (q) {
    out.pos--;
    out.byte(125);
  } else out.pos--;
}

/**
 * Writes the lines of one series. `lt` is the series' rendered label text (without braces); when it is
 * undefined the labels are written from the series' own labels. `sample` is the sample name for scalars
 * (see counterSampleName). With `created` (OpenMetrics only), a counter, histogram or summary series whose
 * start is known (`createdMs`) also gets its `<family>_created` line, last among its samples, in seconds.
 */
export function writeSeries(
  out: ByteSink,
  f: MetricFamily,
  sample: string,
  s: ScalarSeries | HistogramSeries | SummarySeries,
  lt: string | undefined,
  openMetrics: boolean,
  bounds: BoundCache,
  created = false,
): void {
  const name = f.name;
  const q = quoted(name);
  const start = created ? s.createdMs : undefined;
  if (f.type === 'histogram' || f.type === 'summary') {
    const hist = f.type === 'histogram';
    const h = s as HistogramSeries;
    const m = s as SummarySeries;
    H.ls = -1;
    const pre = open(hist ? name + '_bucket' : name, q);
    const special = hist ? 'le="' : 'quantile="';
    const n = hist ? h.buckets.length : m.quantiles.length;
    for (let i = 0; i < n; i++) {
      head(out, pre, s.labels, lt);
      if (H.any) out.byte(44);
      out.str(special);
      if (hist) {
        const b = h.buckets[i]!;
        out.str(bound(bounds, b.le, openMetrics));
        out.str('"} ');
        writeValue(out, b.count);
      } else {
        const q = m.quantiles[i]!;
        out.str(bound(bounds, q.quantile, openMetrics));
        out.str('"} ');
        writeValue(out, q.value);
      }
      out.byte(10);
    }
    if (hist) {
      head(out, pre, s.labels, lt);
      if (H.any) out.byte(44);
      out.str('le="+Inf"} ');
      writeValue(out, h.count);
      out.byte(10);
    }
    suffixLine(out, name + '_sum', q, s.labels, lt, hist ? h.sum : m.sum);
    suffixLine(out, name + '_count', q, s.labels, lt, hist ? h.count : m.count);
    if (start !== undefined) suffixLine(out, createdSampleName(name, f.type), q, s.labels, lt, start / 1000);
    return;
  }
  scalarLine(out, sample, q, s.labels, lt, (s as ScalarSeries).value);
  if (start !== undefined && f.type === 'counter')
    scalarLine(out, createdSampleName(name, f.type), q, s.labels, lt, start / 1000);
}

/** A `_sum`/`_count`/`_created` line of a histogram or summary (labels copied from its first line). */
function suffixLine(
  out: ByteSink,
  sampleName: string,
  q: boolean,
  labels: Labels,
  lt: string | undefined,
  v: number,
): void {
  head(out, open(sampleName, q), labels, lt);
  close(out, q);
  out.byte(32);
  writeValue(out, v);
  out.byte(10);
}

/** One sample line of a counter, gauge or untyped series. */
function scalarLine(
  out: ByteSink,
  sample: string,
  q: boolean,
  labels: Labels,
  lt: string | undefined,
  v: number,
): void {
  if (q) {
    // {"name"} or {"name",labels}
    out.str(open(sample, true));
    if (lt === undefined) {
      if (!writeLabels(out, labels)) out.pos--;
    } else if (lt !== '') out.str(lt);
    else out.pos--;
    out.byte(125);
  } else {
    out.str(sample);
    if (lt === undefined) {
      out.byte(123);
      const p = out.pos;
      if (!writeLabels(out, labels)) out.pos = p - 1;
      else out.byte(125);
    } else if (lt !== '') {
      out.byte(123);
      out.str(lt);
      out.byte(125);
    }
  }
  out.byte(32);
  writeValue(out, v);
  out.byte(10);
}
