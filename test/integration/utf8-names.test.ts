/**
 * UTF-8 metric and label names end to end over real HTTP (ACCRUE_UTF8_NAMES): pushed as quoted names in
 * text, as they are in protobuf, with `U__` label names in the grouping path; served in every format with
 * each `escaping` of Accept; the default output stays what legacy scrapers (promtool 2.42) accept.
 */
import { parseProtobufDelimited, parseText } from '../../shared/expfmt';
import { metricFamiliesToProtobufDelimited } from '../../shared/expfmt/protobuf-create';
import type { MetricFamily } from '../../shared/model/types';
import { http, promtool, type Running, startService } from './service-support';

const PB = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
const TEXT_BODY = [
  '# HELP "my.metric" A UTF-8 counter',
  '# TYPE "my.metric" counter',
  '{"my.metric", "my.label"="x", plain="p"} 3',
  '# TYPE "lat.seconds" histogram',
  '{"lat.seconds_bucket", "z.one"="1", le="0.5"} 1',
  '{"lat.seconds_bucket", "z.one"="1", le="+Inf"} 2',
  '{"lat.seconds_sum", "z.one"="1"} 0.9',
  '{"lat.seconds_count", "z.one"="1"} 2',
  '# TYPE "tricky \\"q\\"\\nname" gauge',
  '{"tricky \\"q\\"\\nname"} 4',
  'legacy_gauge{a="1"} 5',
  '',
].join('\n');

const PROTO_FAMILIES: MetricFamily[] = [
  {
    name: '温度.celsius',
    help: 'temp',
    type: 'gauge',
    series: [{ labels: { 'sensor.id': 'ä' }, value: 21 }],
  },
];

/** One gauge family whose name holds U+D800 encoded as UTF-8 bytes (ED A0 80): not valid UTF-8. */
const SURROGATE_PB = Buffer.from([
  22, 0x0a, 5, 0x61, 0xed, 0xa0, 0x80, 0x62, 0x18, 1, 0x22, 11, 0x12, 9, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
]);

function accept(format: 'text' | 'openmetrics' | 'protobuf', escaping?: string): string {
  const esc = escaping ? `;escaping=${escaping}` : '';
  if (format === 'text') return `text/plain;version=${escaping ? '1.0.0' : '0.0.4'}${esc}`;
  if (format === 'openmetrics') return `application/openmetrics-text;version=1.0.0${esc}`;
  return `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited${esc}`;
}

async function scrape(base: string, format: 'text' | 'openmetrics' | 'protobuf', escaping?: string) {
  const r = await http(base, 'GET', '/metrics', undefined, { accept: accept(format, escaping) });
  expect(r.status).toBe(200);
  return r;
}

/** Family names and their series' label names, from any format's body. */
function names(format: string, body: Buffer): Map<string, string[]> {
  const fams =
    format === 'protobuf'
      ? parseProtobufDelimited(body, { names: 'utf8' })
      : parseText(format === 'openmetrics' ? fromOpenMetrics(body.toString('utf8')) : body.toString('utf8'), {
          names: 'utf8',
        });
  const out = new Map<string, string[]>();
  for (const f of fams) {
    const ls = new Set<string>();
    for (const s of f.series) for (const n of Object.keys(s.labels)) ls.add(n);
    out.set(f.name, [...ls].sort());
  }
  return out;
}

/** OpenMetrics → text the 0.0.4 parser reads: no `# EOF`, counters' family name with `_total`. */
function fromOpenMetrics(om: string): string {
  return om
    .replace(/# EOF\n$/, '')
    .replace(/^# (HELP|TYPE) ("?)([^ "]*?)("?) (.*)$/gm, (line, kw, q1, n, q2, rest) =>
      kw === 'TYPE' && rest === 'counter' ? `# ${kw} ${q1}${n}_total${q2} ${rest}` : line,
    )
    .replace(/^# HELP ("?)([^ "]*?)("?) /gm, (line) => line)
    .replace(/^# TYPE ("?)([^ "]*?)("?) unknown$/gm, '# TYPE $1$2$3 untyped');
}

describe('UTF-8 names over HTTP (ACCRUE_UTF8_NAMES=true)', () => {
  let svc: Running;
  beforeAll(async () => {
    svc = await startService({ utf8Names: true, maxBodyBytes: 4 * 1024 * 1024 });
    const t = await http(svc.base, 'PUT', '/metrics/job/j/U__my_2e_group/g1', TEXT_BODY);
    expect([t.status, t.text]).toEqual([200, '']);
    const p = await http(
      svc.base,
      'PUT',
      '/metrics/job/j/instance/i2',
      Buffer.from(metricFamiliesToProtobufDelimited(PROTO_FAMILIES)),
      { 'content-type': PB },
    );
    expect([p.status, p.text]).toEqual([200, '']);
  });
  afterAll(() => svc.stop());

  it.each(['text', 'openmetrics', 'protobuf'] as const)(
    'allow-utf-8 in %s: every name as pushed',
    async (format) => {
      const r = await scrape(svc.base, format, 'allow-utf-8');
      expect(String(r.headers['content-type'])).toContain('escaping=allow-utf-8');
      const n = names(format, r.body);
      const counter = format === 'openmetrics' ? 'my.metric_total' : 'my.metric';
      // (instance="" is written but read back as no label)
      expect(n.get(counter)).toEqual(['job', 'my.group', 'my.label', 'plain']);
      expect(n.get('lat.seconds')).toEqual(['job', 'my.group', 'z.one']);
      expect(n.get('tricky "q"\nname')).toEqual(['job', 'my.group']);
      expect(n.get('温度.celsius')).toEqual(['instance', 'job', 'sensor.id']);
      expect(n.get('legacy_gauge')).toEqual(['a', 'job', 'my.group']);
      if (format === 'text') {
        expect(r.text).toContain(
          '{"my.metric",instance="",job="j","my.group"="g1","my.label"="x",plain="p"} 3\n',
        );
        expect(r.text).toContain('# TYPE "tricky \\"q\\"\\nname" gauge\n');
      }
    },
  );

  it.each<[string, string, string, string]>([
    ['underscores', 'my_metric', 'my_group', 'lat_seconds'],
    ['dots', 'my_dot_metric', 'my_dot_group', 'lat_dot_seconds'],
    ['values', 'U__my_2e_metric', 'U__my_2e_group', 'U__lat_2e_seconds'],
  ])('escaping=%s: legacy names in every format', async (scheme, metric, group, hist) => {
    for (const format of ['text', 'openmetrics', 'protobuf'] as const) {
      const r = await scrape(svc.base, format, scheme);
      expect(String(r.headers['content-type'])).toContain(`escaping=${scheme}`);
      const n = names(format, r.body);
      const counter = format === 'openmetrics' ? `${metric}_total` : metric;
      expect(n.get(counter)).toContain(group);
      expect(n.has(hist)).toBe(true);
      expect(n.get('legacy_gauge')).toEqual(['a', 'job', group].sort());
      for (const name of n.keys()) expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    }
  });

  it('a scraper that does not ask gets underscores and the old content type; promtool 2.42 reads it', async () => {
    const r = await http(svc.base, 'GET', '/metrics');
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.text).toContain('my_metric{instance="",job="j",my_group="g1",my_label="x",plain="p"} 3\n');
    expect(r.text).not.toContain('"my.metric"');
    const check = promtool(r.text);
    expect(check.output).not.toMatch(/error while linting|parse error|unexpected/i);
    const prom2 = await http(svc.base, 'GET', '/metrics', undefined, {
      accept:
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    });
    expect(prom2.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(prom2.text).toContain('my_metric_total{');
  });

  it('the U__ path addresses the group for DELETE too', async () => {
    await http(svc.base, 'PUT', '/metrics/job/del/U__a_2e_b/v', 'x 1\n');
    expect((await http(svc.base, 'GET', '/metrics')).text).toContain('x{a_b="v",instance="",job="del"} 1');
    expect((await http(svc.base, 'DELETE', '/metrics/job/del/U__a_2e_b/v')).status).toBe(202);
    expect((await http(svc.base, 'GET', '/metrics')).text).not.toContain('job="del"');
  });

  it('label names whose escape would start with "__" are served unreserved; promtool reads every scheme', async () => {
    // Prometheus' EscapeName would write __name__ (underscores, dots), __x and __dot_x: reserved names, and
    // `__name__` makes the text parser refuse the whole scrape (docs/exposition.md "UTF-8 names").
    const body = 'esc_g{"..name.."="n", "üüx"="u", "ü.y"="d"} 1\n';
    expect((await http(svc.base, 'PUT', '/metrics/job/esc', body)).status).toBe(200);
    try {
      const expected: Record<string, string> = {
        underscores: 'esc_g{_name__="n",_x="u",_y="d",instance="",job="esc"} 1\n',
        dots: 'esc_g{_dot__dot_name_dot__dot_="n",_dot_y="d",_x="u",instance="",job="esc"} 1\n',
      };
      for (const [scheme, line] of Object.entries(expected)) {
        const r = await scrape(svc.base, 'text', scheme);
        expect(r.text).toContain(line);
        expect(r.text).not.toMatch(/[{,]__/);
        // promtool 2.42 reads text 0.0.4: the same body under the old content type.
        expect(promtool(r.text).output).not.toMatch(/error while linting|parse error|is reserved/i);
      }
      const plain = await http(svc.base, 'GET', '/metrics');
      expect(plain.text).toContain(expected['underscores']!);
      expect(promtool(plain.text).output).not.toMatch(/error while linting|parse error|is reserved/i);
    } finally {
      await http(svc.base, 'DELETE', '/metrics/job/esc');
    }
  });

  it.each<[string, string | Buffer, Record<string, string>, RegExp]>([
    [
      'invalid UTF-8 in a quoted name',
      Buffer.from([...Buffer.from('{"a'), 0xff, ...Buffer.from('"} 1\n')]),
      {},
      /UTF-8/i,
    ],
    ['unterminated quoted name', '{"a.b} 1\n', {}, /unterminated quoted string/],
    ['a bad escape in a quoted name', '{"a\\tb"} 1\n', {}, /invalid escape sequence/],
    ['a 2 MB name', `{"${'n'.repeat(2 * 1024 * 1024)}"} 1\n`, {}, /at most 256 characters/],
    ['a reserved quoted label name', '{"m", "__x"="1"} 1\n', {}, /reserved/],
    ['an empty quoted name', '{""} 1\n', {}, /must not be empty/],
    ['a surrogate encoded in a protobuf name', SURROGATE_PB, { 'content-type': PB }, /UTF-8/i],
  ])('refuses %s with 400 naming the problem, storing nothing', async (_t, body, headers, msg) => {
    const r = await http(svc.base, 'PUT', '/metrics/job/hostile', body, headers);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(msg);
    const m = await http(svc.base, 'GET', '/metrics', undefined, { accept: accept('text', 'allow-utf-8') });
    const stored = m.text.split('\n').filter((l) => l.includes('job="hostile"') && !l.startsWith('push_'));
    expect(stored).toEqual([]);
    expect(m.text).toContain('legacy_gauge'); // good data beside it unaffected
  });
});

describe('UTF-8 names when not enabled (the default)', () => {
  let svc: Running;
  beforeAll(async () => {
    svc = await startService({});
  });
  afterAll(() => svc.stop());

  it('a quoted UTF-8 name is refused, naming the setting', async () => {
    const r = await http(svc.base, 'PUT', '/metrics/job/j', '{"my.metric"} 1\n');
    expect(r.status).toBe(400);
    expect(r.text).toContain('ACCRUE_UTF8_NAMES');
  });

  it('a quoted legacy name is accepted (text 1.0.0 syntax) and U__ in a path is a literal label name', async () => {
    const r = await http(svc.base, 'PUT', '/metrics/job/j/U__a_2e_b/v', '{"ok_name", a="1"} 1\n');
    expect(r.status).toBe(200);
    const m = await http(svc.base, 'GET', '/metrics');
    expect(m.text).toContain('ok_name{U__a_2e_b="v",a="1",instance="",job="j"} 1');
  });
});
