import { parseText } from '../../../shared/expfmt/text-parse';
import { AccrueError } from '../../../shared/model/errors';
import { deltaRequest } from '../../../shared/push/deltas';
import { prepareTimedFamilies } from '../../../shared/push/prepare';

const group = { job: 'batch' };
const NOW = 1_700_000_000_000;
const opts = { nowMs: NOW, maxFutureMs: 300_000 };

function request(text: string) {
  return deltaRequest('k', group, prepareTimedFamilies(group, parseText(text)), opts);
}

function refusal(text: string): string {
  try {
    request(text);
  } catch (e) {
    expect(e).toBeInstanceOf(AccrueError); // ValidationError, or the parser's ParseError
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('deltaRequest: an aggregating push as store ops', () => {
  it('counters become increments, gauges sets at the arrival time, histograms per-bucket observations', () => {
    const r = request(
      [
        '# TYPE jobs_total counter',
        'jobs_total{queue="a"} 3',
        '# TYPE temp gauge',
        'temp 21.5',
        '# TYPE lat histogram',
        'lat_bucket{le="0.1"} 2',
        'lat_bucket{le="1"} 5',
        'lat_bucket{le="+Inf"} 6',
        'lat_sum 3.25',
        'lat_count 6',
        '',
      ].join('\n'),
    );
    expect(r.id).toBe('k');
    expect(r.eventTimeMs).toBeUndefined();
    const byName = Object.fromEntries(r.ops.map((o) => [o.name, o]));
    expect(byName.jobs_total).toMatchObject({ kind: 'counter_inc', value: 3, labels: { queue: 'a' } });
    expect(byName.temp).toMatchObject({ kind: 'gauge_set', value: 21.5, timeMs: NOW });
    expect(byName.lat).toMatchObject({
      kind: 'histogram_observe',
      bounds: [0.1, 1],
      counts: [2, 3, 1],
      sum: 3.25,
      count: 6,
    });
  });

  it('a sample timestamp is the gauge event time and the request event time', () => {
    const r = request('# TYPE temp gauge\ntemp 1 1699999999000\n');
    expect(r.ops[0]).toMatchObject({ kind: 'gauge_set', timeMs: 1_699_999_999_000 });
    expect(r.eventTimeMs).toBe(1_699_999_999_000);
  });

  it('a timestamp ahead of the clock by more than the skew is clamped to it (the SQS rule)', () => {
    const r = request('# TYPE temp gauge\ntemp 1 99999999999999\n');
    expect(r.ops[0]).toMatchObject({ kind: 'gauge_set', timeMs: NOW + 300_000 });
    expect(r.eventTimeMs).toBe(NOW + 300_000);
  });

  it('grouping labels in the body are overridden by the path', () => {
    const r = request('# TYPE c counter\nc{job="other",x="1"} 1\n');
    expect(r.ops[0]!.labels).toEqual({ x: '1' });
  });

  it.each<[string, string, RegExp]>([
    [
      'negative counter delta',
      '# TYPE c counter\nc -1\n',
      /c\.value: counter increment must be a finite number >= 0/,
    ],
    ['NaN counter', '# TYPE c counter\nc NaN\n', /counter increment/],
    ['infinite gauge', '# TYPE g gauge\ng +Inf\n', /gauge value must be a finite number/],
    ['summary', '# TYPE s summary\ns_sum 1\ns_count 1\n', /s: summaries are refused/],
    ['untyped', 'u 1\n', /u: untyped samples are refused/],
    [
      'fractional bucket counts',
      '# TYPE h histogram\nh_bucket{le="1"} 0.5\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /h\.counts: must be an array of non-negative integers/,
    ],
    [
      'a timestamp beyond the Date range',
      '# TYPE g gauge\ng 1 9000000000000000\n',
      /g timestamp: must be >= 0 and at most 8640000000000000/,
    ],
    ['reserved name', '# TYPE accrue_x counter\naccrue_x 1\n', /reserved/],
    ['__proto__ label', '# TYPE c counter\nc{__proto__="x"} 1\n', /__proto__/],
    [
      'newline and quote in a label value are shown quoted',
      '# TYPE c counter\nc{a="x\\n\\"y"} -2\n',
      /c\{a="x\\n\\"y"\}\.value/,
    ],
    ['duplicate series', '# TYPE c counter\nc{a="1"} 1\nc{a="1"} 2\n', /duplicate series/],
  ])('refuses %s, naming the series and the rule, nothing applied', (_what, text, rule) => {
    expect(refusal(text)).toMatch(rule);
  });

  it('refuses more than 64 finite buckets', () => {
    const lines = ['# TYPE h histogram'];
    for (let i = 1; i <= 65; i++) lines.push(`h_bucket{le="${i}"} 0`);
    lines.push('h_bucket{le="+Inf"} 0', 'h_sum 0', 'h_count 0', '');
    expect(refusal(lines.join('\n'))).toMatch(/at most 64 finite buckets/);
  });
});
