import { metricFamiliesToOpenMetrics } from '../../../shared/expfmt/openmetrics-create';
import { metricFamiliesToText } from '../../../shared/expfmt/text-create';
import { parseText } from '../../../shared/expfmt/text-parse';
import type { MetricFamily } from '../../../shared/model/types';
import { promtoolCheckMetrics } from '../../support/promtool';
import { ariaFamilies, counter, gauge, histogram, summary, untyped } from './fixtures';
import { checkOpenMetricsStructure } from './openmetrics-check';

const scenarios: [string, MetricFamily[], string][] = [
  ['empty', [], ''],
  [
    'counter with _total',
    [counter('orders_total', [{ labels: { symbol: 'BTC' }, value: 1 }])],
    '# HELP orders_total Help of orders_total.\n# TYPE orders_total counter\norders_total{symbol="BTC"} 1\n',
  ],
  [
    'gauge with special values and escaped label values',
    [
      gauge('g', [
        { labels: { v: 'a"b\\c\nd' }, value: Number.NaN },
        { labels: { v: 'p' }, value: Infinity },
        { labels: { v: 'n' }, value: -Infinity },
        { labels: { v: 'big' }, value: 1e6 },
        { labels: { v: 'small' }, value: 1e-5 },
      ]),
    ],
    '# HELP g Help of g.\n# TYPE g gauge\ng{v="a\\"b\\\\c\\nd"} NaN\ng{v="p"} +Inf\ng{v="n"} -Inf\ng{v="big"} 1e+06\ng{v="small"} 1e-05\n',
  ],
  [
    'HELP escapes only backslash and newline',
    [gauge('g', [{ labels: {}, value: 0 }], 'a "quoted" \\ back\nslash')],
    '# HELP g a "quoted" \\\\ back\\nslash\n# TYPE g gauge\ng 0\n',
  ],
  [
    'histogram with canonical le',
    [
      histogram('h', [
        {
          labels: { a: '1' },
          buckets: [
            { le: 0.005, count: 0 },
            { le: 1, count: 2 },
            { le: 1e6, count: 3 },
          ],
          sum: 2.5,
          count: 4,
        },
      ]),
    ],
    '# HELP h Help of h.\n# TYPE h histogram\nh_bucket{a="1",le="0.005"} 0\nh_bucket{a="1",le="1"} 2\nh_bucket{a="1",le="1e+06"} 3\nh_bucket{a="1",le="+Inf"} 4\nh_sum{a="1"} 2.5\nh_count{a="1"} 4\n',
  ],
  [
    'summary without labels',
    [summary('s', [{ labels: {}, quantiles: [{ quantile: 0.5, value: 1 }], sum: 1, count: 1 }])],
    '# HELP s Help of s.\n# TYPE s summary\ns{quantile="0.5"} 1\ns_sum 1\ns_count 1\n',
  ],
  [
    'untyped family; timestamps never written',
    [untyped('u', [{ labels: { constructor: 'c' }, value: 2, timestampMs: 123 }])],
    '# HELP u Help of u.\n# TYPE u untyped\nu{constructor="c"} 2\n',
  ],
];

describe('metricFamiliesToText', () => {
  it.each(scenarios)('%s', async (_name, fams, want) => {
    const text = metricFamiliesToText(fams);
    expect(text).toBe(want);
    const { code, output } = await promtoolCheckMetrics(text);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('writes HELP only when there is one (promtool reports the missing help)', async () => {
    const text = metricFamiliesToText([gauge('g', [{ labels: {}, value: 1 }], '')]);
    expect(text).toBe('# TYPE g gauge\ng 1\n');
    const { code, output } = await promtoolCheckMetrics(text);
    expect(code).not.toBe(0);
    expect(output).toContain('no help text');
  });

  it('constLabels come first and override series labels of the same name', () => {
    const text = metricFamiliesToText([gauge('g', [{ labels: { job: 'mine', a: '1' }, value: 1 }])], {
      constLabels: { job: 'grp' },
    });
    expect(text).toContain('g{job="grp",a="1"} 1\n');
  });

  it('the ARIA fixture is promtool-clean and parses back to itself', async () => {
    const fams = ariaFamilies();
    const text = metricFamiliesToText(fams);
    expect(await promtoolCheckMetrics(text)).toEqual({ code: 0, output: '' });
    const back = parseText(text);
    expect(back).toEqual(fams);
  });
});

describe('metricFamiliesToOpenMetrics', () => {
  it('counters: family without _total, samples with _total; untyped → unknown; # EOF', () => {
    const om = metricFamiliesToOpenMetrics([
      counter('a_total', [{ labels: { x: '1' }, value: 1 }]),
      counter('b', [{ labels: {}, value: 2 }]),
      untyped('u', [{ labels: {}, value: 3 }]),
    ]);
    expect(om).toBe(
      '# HELP a Help of a_total.\n# TYPE a counter\na_total{x="1"} 1\n' +
        '# HELP b Help of b.\n# TYPE b counter\nb_total 2\n' +
        '# HELP u Help of u.\n# TYPE u unknown\nu 3\n# EOF\n',
    );
  });

  it('HELP escapes the double quote too; le and quantile as in text (Go %g, 1 not 1.0)', () => {
    const om = metricFamiliesToOpenMetrics([
      histogram('h', [{ labels: {}, buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 }], 'say "hi"\n'),
      summary('s', [{ labels: {}, quantiles: [{ quantile: 1, value: 2 }], sum: 2, count: 1 }]),
    ]);
    expect(om).toContain('# HELP h say \\"hi\\"\\n\n');
    expect(om).toContain('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\n');
    expect(om).toContain('s{quantile="1"} 2\n');
  });

  it.each(scenarios)('structure of %s', (_name, fams) => {
    const om = metricFamiliesToOpenMetrics(fams);
    checkOpenMetricsStructure(om);
  });

  it('the ARIA fixture is structurally valid OpenMetrics', () => {
    checkOpenMetricsStructure(metricFamiliesToOpenMetrics(ariaFamilies()));
  });
});
