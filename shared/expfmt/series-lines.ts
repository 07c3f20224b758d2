/**
 * The sample lines of one series, shared by the text and OpenMetrics writers and the snapshot renderer.
 *
 * Assumptions (not checked here; the parser and the store guarantee them): names are valid, each label
 * set is unique within its family, histogram buckets are cumulative with `le` strictly ascending and
 * without `+Inf` (the `+Inf` bucket is written from `count`), summaries' quantiles ascending.
 */
import type { HistogramSeries, Labels, MetricFamily, ScalarSeries, SummarySeries } from '../model/types';
import { escapeLabelValue } from './escape';
import { formatFloat, formatOpenMetricsFloat } from './float';

/** `a="1",b="2"` for the given labels, in their own key order (empty string for no labels). */
export function labelsText(labels: Labels): string {
  let s = '';
  for (const k in labels) {
    if (!Object.hasOwn(labels, k)) continue;
    s += (s === '' ? '' : ',') + k + '="' + escapeLabelValue(labels[k]!) + '"';
  }
  return s;
}

/** Sample name used for a counter's samples: text keeps the family name, OpenMetrics needs `_total`. */
export function counterSampleName(name: string, openMetrics: boolean): string {
  if (!openMetrics || name.endsWith('_total')) return name;
  return name + '_total';
}

/** OpenMetrics family name: counters lose their `_total` suffix. */
export function openMetricsFamilyName(f: MetricFamily): string {
  return f.type === 'counter' && f.name.endsWith('_total') ? f.name.slice(0, -6) : f.name;
}

/**
 * Appends the lines of one series. `lt` is the series' rendered label text (`labelsText`, possibly with
 * more labels), `sample` the sample name for scalars (see counterSampleName).
 */
export function seriesLines(
  f: MetricFamily,
  sample: string,
  s: ScalarSeries | HistogramSeries | SummarySeries,
  lt: string,
  openMetrics: boolean,
): string {
  const name = f.name;
  if (f.type === 'histogram') {
    const h = s as HistogramSeries;
    const pre = name + '_bucket{' + (lt === '' ? 'le="' : lt + ',le="');
    let out = '';
    const bs = h.buckets;
    for (let i = 0; i < bs.length; i++) {
      const b = bs[i]!;
      out +=
        pre +
        (openMetrics ? formatOpenMetricsFloat(b.le) : formatFloat(b.le)) +
        '"} ' +
        formatFloat(b.count) +
        '\n';
    }
    const c = formatFloat(h.count);
    out += pre + '+Inf"} ' + c + '\n';
    if (lt === '') out += name + '_sum ' + formatFloat(h.sum) + '\n' + name + '_count ' + c + '\n';
    else
      out += name + '_sum{' + lt + '} ' + formatFloat(h.sum) + '\n' + name + '_count{' + lt + '} ' + c + '\n';
    return out;
  }
  if (f.type === 'summary') {
    const m = s as SummarySeries;
    const pre = name + '{' + (lt === '' ? 'quantile="' : lt + ',quantile="');
    let out = '';
    const qs = m.quantiles;
    for (let i = 0; i < qs.length; i++) {
      const q = qs[i]!;
      out +=
        pre +
        (openMetrics ? formatOpenMetricsFloat(q.quantile) : formatFloat(q.quantile)) +
        '"} ' +
        formatFloat(q.value) +
        '\n';
    }
    if (lt === '')
      out += name + '_sum ' + formatFloat(m.sum) + '\n' + name + '_count ' + formatFloat(m.count) + '\n';
    else {
      out +=
        name +
        '_sum{' +
        lt +
        '} ' +
        formatFloat(m.sum) +
        '\n' +
        name +
        '_count{' +
        lt +
        '} ' +
        formatFloat(m.count) +
        '\n';
    }
    return out;
  }
  const v = (s as ScalarSeries).value;
  return (lt === '' ? sample + ' ' : sample + '{' + lt + '} ') + formatFloat(v) + '\n';
}
