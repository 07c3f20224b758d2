/** Family factories shared by the expfmt tests. */
import type { HistogramFamily, MetricFamily, ScalarFamily, SummaryFamily } from '../../../shared/model/types';

export function counter(
  name: string,
  series: ScalarFamily['series'],
  help = `Help of ${name}.`,
): ScalarFamily {
  return { name, help, type: 'counter', series };
}
export function gauge(name: string, series: ScalarFamily['series'], help = `Help of ${name}.`): ScalarFamily {
  return { name, help, type: 'gauge', series };
}
export function untyped(
  name: string,
  series: ScalarFamily['series'],
  help = `Help of ${name}.`,
): ScalarFamily {
  return { name, help, type: 'untyped', series };
}
export function histogram(
  name: string,
  series: HistogramFamily['series'],
  help = `Help of ${name}.`,
): HistogramFamily {
  return { name, help, type: 'histogram', series };
}
export function summary(
  name: string,
  series: SummaryFamily['series'],
  help = `Help of ${name}.`,
): SummaryFamily {
  return { name, help, type: 'summary', series };
}

/** A trading-flavoured set of families touching every type and the escaping rules. */
export function ariaFamilies(): MetricFamily[] {
  return [
    counter('aria_orders_total', [
      { labels: { symbol: 'BTCUSD', action: 'buy', status: 'filled' }, value: 10 },
      { labels: { symbol: 'ETHUSD', action: 'sell', status: 'rejected' }, value: 1234567 },
    ]),
    gauge('aria_position', [
      { labels: { symbol: 'BTCUSD', regime: 'trend' }, value: -0.5 },
      { labels: { symbol: 'a"b\\c\nd' }, value: Number.NaN },
      { labels: { symbol: 'inf' }, value: Infinity },
      { labels: { symbol: 'neginf' }, value: -Infinity },
    ]),
    histogram('aria_latency_seconds', [
      {
        labels: { venue: 'x' },
        buckets: [
          { le: 0.005, count: 1 },
          { le: 0.01, count: 2 },
          { le: 1, count: 5 },
          { le: 1e6, count: 6 },
        ],
        sum: 12.5,
        count: 7,
      },
      { labels: {}, buckets: [{ le: 1e-5, count: 0 }], sum: 0, count: 0 },
    ]),
    summary('aria_fill_ratio', [
      {
        labels: { symbol: 'BTCUSD' },
        quantiles: [
          { quantile: 0.5, value: 0.9 },
          { quantile: 0.99, value: 1 },
        ],
        sum: 5,
        count: 6,
      },
    ]),
    untyped(
      'aria_legacy',
      [{ labels: { constructor: 'x', valueof: 'y' }, value: 1e-7 }],
      'Legacy \\ value\nwith newline.',
    ),
  ];
}
