/**
 * Differential test: the same client actions against the real Pushgateway (Debian's
 * /usr/bin/prometheus-pushgateway) and Accrue's service, side by side, one step after the other. After
 * every step both must have answered the same status, and hold the same groups and series — compared
 * field by field through `/api/v1/metrics` (the Pushgateway's JSON shape, which Accrue serves too) and
 * through the series each exposes on `/metrics`.
 *
 * A step with `differs` is an intended difference (docs/service.md "Differences from the Pushgateway"):
 * both sides' statuses are asserted as they are, and the step's job is left out of later comparisons.
 */
import { gzipSync } from 'node:zlib';
import { metricFamiliesToProtobufDelimited, PROTOBUF_EXPOSITION_CONTENT_TYPE } from '../../shared/expfmt';
import { parseText } from '../../shared/expfmt/text-parse';
import type { MetricFamily } from '../../shared/model/types';
import { type RunningPushgateway, startPushgateway } from './pushgateway-support';
import { http, type Running, startService } from './service-support';

interface Step {
  readonly name: string;
  readonly method: 'PUT' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** The status both answer. */
  readonly status?: number;
  /** An intended difference: each side's status, and why. */
  readonly differs?: { readonly pushgateway: number; readonly accrue: number; readonly why: string };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const PROTOBUF = { 'content-type': PROTOBUF_EXPOSITION_CONTENT_TYPE };

const ALL_TYPES = [
  '# HELP g A gauge.',
  '# TYPE g gauge',
  'g{k="v"} 0.1',
  '# TYPE c_total counter',
  'c_total 1e6',
  'u_untyped{path="/a b",q="x\\"y\\\\z\\nw"} -3.5',
  '# HELP h Request latency.',
  '# TYPE h histogram',
  'h_bucket{le="0.5"} 1',
  'h_bucket{le="1e6"} 2',
  'h_bucket{le="+Inf"} 3',
  'h_sum 1234567.5',
  'h_count 3',
  '# TYPE s summary',
  's{quantile="0.5"} 1e-5',
  's{quantile="0.99"} NaN',
  's_sum 3',
  's_count 2',
  '',
].join('\n');

const protoFamilies: MetricFamily[] = [
  {
    name: 'pb_total',
    help: 'From the Go client.',
    type: 'counter',
    series: [{ labels: { r: 'x' }, value: 7 }],
  },
  {
    name: 'pb_h',
    help: '',
    type: 'histogram',
    series: [
      {
        labels: {},
        buckets: [
          { le: 0.1, count: 1 },
          { le: 1, count: 4 },
        ],
        sum: 2.5,
        count: 5,
      },
    ],
  },
];

const STEPS: readonly Step[] = [
  {
    name: 'PUT every family type',
    method: 'PUT',
    path: '/metrics/job/a/instance/i1',
    body: ALL_TYPES,
    status: 200,
  },
  {
    name: 'POST replaces one family, keeps the others',
    method: 'POST',
    path: '/metrics/job/a/instance/i1',
    body: '# TYPE g gauge\ng{k="w"} 2\n',
    status: 200,
  },
  { name: 'a group without instance', method: 'PUT', path: '/metrics/job/b', body: 'm 1\n', status: 200 },
  {
    name: "grouping key with other label names than another job's (Python's path=/var/log)",
    method: 'PUT',
    path: `/metrics/job/py/path@base64/${b64('/var/log')}/instance/py-2`,
    body: 'm 2\n',
    status: 200,
  },
  {
    name: 'one push with two label-name sets in a family',
    method: 'PUT',
    path: '/metrics/job/mixed',
    body: 'm{a="1"} 1\nm 2\n',
    status: 200,
  },
  {
    name: 'a histogram with another bucket layout in another group',
    method: 'PUT',
    path: '/metrics/job/layout',
    body: '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    status: 200,
  },
  {
    name: 'POST a third bucket layout, two layouts in one push',
    method: 'POST',
    path: '/metrics/job/layout',
    body: [
      '# TYPE h histogram',
      'h_bucket{v="1",le="0.1"} 0',
      'h_bucket{v="1",le="+Inf"} 2',
      'h_sum{v="1"} 3',
      'h_count{v="1"} 2',
      'h_bucket{v="2",le="5"} 1',
      'h_bucket{v="2",le="10"} 1',
      'h_bucket{v="2",le="+Inf"} 1',
      'h_sum{v="2"} 4',
      'h_count{v="2"} 1',
      '',
    ].join('\n'),
    status: 200,
  },
  {
    name: 'type conflict with another group (failure recorded on a new group)',
    method: 'PUT',
    path: '/metrics/job/conflict',
    body: '# TYPE g counter\ng 1\n',
    status: 400,
  },
  {
    name: 'type conflict on an existing group keeps its series',
    method: 'POST',
    path: '/metrics/job/b',
    body: '# TYPE g counter\ng 1\n',
    status: 400,
  },
  {
    name: 'text syntax error: no group, no failure record',
    method: 'PUT',
    path: '/metrics/job/syntax',
    body: 'm{a="1} 1\n',
    status: 400,
  },
  {
    name: 'CR line endings: no group',
    method: 'PUT',
    path: '/metrics/job/crlf',
    body: 'm 1\r\n',
    status: 400,
  },
  {
    name: 'invalid UTF-8 in a label value: no group',
    method: 'PUT',
    path: '/metrics/job/utf8',
    body: Buffer.concat([Buffer.from('m{a="'), Buffer.from([0xff]), Buffer.from('"} 1\n')]),
    status: 400,
  },
  {
    name: 'bad protobuf: no group',
    method: 'PUT',
    path: '/metrics/job/badpb',
    body: Buffer.from([0x05, 0x0a, 0xff, 0xff]),
    headers: PROTOBUF,
    status: 400,
  },
  {
    name: 'metric name starting with a digit: no group',
    method: 'PUT',
    path: '/metrics/job/digit',
    body: '0m 1\n',
    status: 400,
  },
  {
    name: 'invalid character in a metric name: no group',
    method: 'PUT',
    path: '/metrics/job/dash',
    body: 'm-x 1\n',
    status: 400,
  },
  {
    name: 'invalid character in a label name: no group',
    method: 'PUT',
    path: '/metrics/job/labeldash',
    body: 'm{a-b="1"} 1\n',
    status: 400,
  },
  {
    name: '__name__ as a label: no group',
    method: 'PUT',
    path: '/metrics/job/dunder',
    body: 'm{__name__="x"} 1\n',
    status: 400,
  },
  {
    name: 'timestamped sample: failure recorded',
    method: 'PUT',
    path: '/metrics/job/ts',
    body: 'm 1 1700000000000\n',
    status: 400,
  },
  {
    name: 'duplicate series in one push: failure recorded',
    method: 'PUT',
    path: '/metrics/job/dup',
    body: 'm{a="1"} 1\nm{a="1"} 2\n',
    status: 400,
  },
  {
    name: 'reserved __ label name in the body: failure recorded',
    method: 'PUT',
    path: '/metrics/job/reserved',
    body: 'm{__x="1"} 1\n',
    status: 400,
  },
  { name: 'DELETE a group that has only a failure', method: 'DELETE', path: '/metrics/job/ts', status: 202 },
  { name: 'DELETE a group that does not exist', method: 'DELETE', path: '/metrics/job/nothing', status: 202 },
  {
    name: 'job and values in base64, with / in them',
    method: 'PUT',
    path: `/metrics/job@base64/${b64('a/b')}/dir@base64/${b64('/var/tmp')}`,
    body: 'b64_m 3\n',
    status: 200,
  },
  {
    name: 'instance in the body, none in the path',
    method: 'PUT',
    path: '/metrics/job/bodyinst',
    body: 'bi_m{instance="from-body"} 4\n',
    status: 200,
  },
  {
    name: 'a path label overrides the same label in the body',
    method: 'PUT',
    path: '/metrics/job/override/k/path',
    body: 'ov_m{k="body",job="body"} 5\n',
    status: 200,
  },
  {
    name: 'gzip body',
    method: 'PUT',
    path: '/metrics/job/gz',
    body: gzipSync('# TYPE z gauge\nz 6\n'),
    headers: { 'content-encoding': 'gzip' },
    status: 200,
  },
  {
    name: 'protobuf body (Go client), gzip',
    method: 'PUT',
    path: '/metrics/job/pb/instance/go-1',
    body: gzipSync(metricFamiliesToProtobufDelimited(protoFamilies)),
    headers: { ...PROTOBUF, 'content-encoding': 'gzip' },
    status: 200,
  },
  {
    name: 'PUT with an empty body empties the group',
    method: 'PUT',
    path: '/metrics/job/b',
    body: '',
    status: 200,
  },
  {
    name: 'POST with an empty body changes nothing',
    method: 'POST',
    path: '/metrics/job/gz',
    body: '',
    status: 200,
  },
  {
    name: 'bad base64 in the path',
    method: 'PUT',
    path: '/metrics/job/x/a@base64/%21%21',
    body: 'm 1\n',
    status: 400,
  },
  {
    name: 'odd number of path segments',
    method: 'PUT',
    path: '/metrics/job/x/a',
    body: 'm 1\n',
    status: 400,
  },
  {
    name: '__ label name in the path',
    method: 'PUT',
    path: '/metrics/job/x/__a/1',
    body: 'm 1\n',
    status: 400,
  },
  { name: 'DELETE of a whole group', method: 'DELETE', path: '/metrics/job/a/instance/i1', status: 202 },
  // --- intended differences (docs/service.md) -------------------------------------------------------
  {
    name: 'truncated gzip body',
    method: 'PUT',
    path: '/metrics/job/diff_truncated',
    body: gzipSync('m 1\n').subarray(0, 10),
    headers: { 'content-encoding': 'gzip' },
    differs: {
      pushgateway: 200,
      accrue: 400,
      why: 'the Pushgateway reads a cut gzip stream as an empty body and empties the group (a PUT wipes it)',
    },
  },
  {
    name: 'unsupported Content-Encoding',
    method: 'PUT',
    path: '/metrics/job/diff_br',
    body: 'm 1\n',
    headers: { 'content-encoding': 'br' },
    differs: {
      pushgateway: 200,
      accrue: 400,
      why: 'the Pushgateway ignores the header and parses the bytes as they are',
    },
  },
  {
    name: 'invalid UTF-8 in HELP',
    method: 'PUT',
    path: '/metrics/job/diff_help',
    body: Buffer.concat([Buffer.from('# HELP m x'), Buffer.from([0xff]), Buffer.from('\nm 1\n')]),
    differs: {
      pushgateway: 200,
      accrue: 400,
      why: 'invalid UTF-8 cannot be written in OpenMetrics, JSON or protobuf output',
    },
  },
  {
    name: 'a label named twice in the path',
    method: 'PUT',
    path: '/metrics/job/diff_twice/a/1/a/2',
    body: 'm 1\n',
    differs: { pushgateway: 200, accrue: 400, why: 'the Pushgateway keeps one value silently' },
  },
  {
    name: "Accrue's reserved metric prefix",
    method: 'PUT',
    path: '/metrics/job/diff_reserved',
    body: 'accrue_x 1\n',
    differs: { pushgateway: 200, accrue: 400, why: "accrue_* names belong to Accrue's own metrics" },
  },
  {
    name: 'a metric name of 300 characters',
    method: 'PUT',
    path: '/metrics/job/diff_long',
    body: `${'n'.repeat(300)} 1\n`,
    differs: {
      pushgateway: 200,
      accrue: 400,
      why: 'names are capped at 256 characters (docs/security.md): stored, rendered and echoed in errors',
    },
  },
  {
    name: 'instance@base64/= beside the same job: the Pushgateway makes a second group',
    method: 'PUT',
    path: '/metrics/job/diff_empty/instance@base64/=',
    body: 'm 1\n',
    differs: {
      pushgateway: 200,
      accrue: 200,
      why: 'an empty label value is no label: one group here (two on the Pushgateway, whose scrape then fails)',
    },
  },
];

/** The step's job, for excluding intended differences from comparisons. */
function jobOf(path: string): string {
  const seg = path.split('/');
  return seg[2] === 'job@base64' ? Buffer.from(seg[3]!, 'base64url').toString('utf8') : seg[3]!;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const GROUP_TIMES: ReadonlySet<string> = new Set(['push_time_seconds', 'push_failure_time_seconds']);

type Json = Record<string, unknown>;

/** The time window of each step (both sides are sent the step at once): which push set a `time_stamp`. */
type StepOf = (stamp: string) => string;

function stepTimes(steps: readonly Step[], windows: readonly { from: number; to: number }[]): StepOf {
  return (stamp) => {
    expect(stamp).toMatch(RFC3339);
    // Milliseconds are enough to place a time in a step (the Pushgateway writes nanoseconds).
    const ms = Date.parse(stamp.replace(/(\.\d{3})\d*Z$/, '$1Z'));
    const i = windows.findIndex((w) => ms >= w.from && ms <= w.to);
    return i < 0 ? `outside every step (${stamp})` : `set by step ${i}: ${steps[i]!.name}`;
  };
}

/**
 * A group of `/api/v1/metrics` with what can't be equal removed: a time becomes the step whose push set
 * it (`time_stamp`) or "is it set" (the values of push_time_seconds / push_failure_time_seconds), metrics
 * are sorted. Every other field is kept, so any extra or missing field shows in the comparison. One
 * intended difference: the `time_stamp` of `push_failure_time_seconds` in a group that never failed is the
 * group's creation there and its last change here (docs/service.md); it is not compared.
 */
function normalizeGroup(g: Json, stepOf: StepOf): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(g)) {
    if (k === 'labels' || k === 'last_push_successful') {
      out[k] = v;
      continue;
    }
    const { time_stamp, metrics, ...rest } = v as Json & { time_stamp: string; metrics: Json[] };
    const ms = metrics.map((m) =>
      GROUP_TIMES.has(k) ? { ...m, value: m['value'] === '0' ? '0' : 'set' } : m,
    );
    const neverFailed = k === 'push_failure_time_seconds' && metrics[0]?.['value'] === '0';
    expect(time_stamp).toMatch(RFC3339);
    const when = neverFailed ? 'not compared' : stepOf(time_stamp);
    out[k] = { ...rest, time_stamp: when, metrics: ms.map(canonical).sort() };
  }
  return out;
}

async function groups(
  base: string,
  excluded: ReadonlySet<string>,
  stepOf: StepOf,
): Promise<Record<string, Json>> {
  const r = await http(base, 'GET', '/api/v1/metrics');
  expect(r.status).toBe(200);
  const j = JSON.parse(r.text) as { status: string; data: Json[] };
  expect(j.status).toBe('success');
  const out: Record<string, Json> = {};
  for (const g of j.data) {
    const labels = g['labels'] as Record<string, string>;
    if (excluded.has(labels['job']!)) continue;
    out[canonical(labels)] = normalizeGroup(g, stepOf);
  }
  return out;
}

/** Series exposed on /metrics for pushed jobs: `name{labels}` → value (own metrics of either side left out). */
async function exposed(base: string, excluded: ReadonlySet<string>): Promise<Record<string, string>> {
  const r = await http(base, 'GET', '/metrics');
  expect(r.status).toBe(200);
  const out: Record<string, string> = {};
  for (const f of parseText(r.text)) {
    for (const s of f.series as readonly { labels: Record<string, string> }[]) {
      const job = s.labels['job'];
      if (job === undefined || job === 'pushgateway' || excluded.has(job)) continue;
      if (f.name.startsWith('accrue_') || f.name.startsWith('go_') || f.name.startsWith('process_')) continue;
      const value = 'value' in s ? s.value : s;
      const shown =
        f.name === 'push_time_seconds' || f.name === 'push_failure_time_seconds'
          ? (value as number) === 0
            ? '0'
            : 'set'
          : canonical(value);
      out[`${f.type} ${f.name}${canonical(s.labels)}`] = shown;
    }
  }
  return out;
}

describe('differential: the real Pushgateway and Accrue, same client actions', () => {
  let pg: RunningPushgateway;
  let svc: Running;
  beforeAll(async () => {
    [pg, svc] = await Promise.all([startPushgateway(), startService()]);
  });
  afterAll(async () => {
    await Promise.all([pg?.stop(), svc?.stop()]);
  });

  it('answers the same and holds the same series after every step', async () => {
    const excluded = new Set<string>();
    const log: string[] = [];
    const windows: { from: number; to: number }[] = [];
    const stepOf = stepTimes(STEPS, windows);
    for (const step of STEPS) {
      const differs = step.differs;
      const from = Date.now();
      const [p, a] = await Promise.all([
        http(pg.base, step.method, step.path, step.body, step.headers),
        http(svc.base, step.method, step.path, step.body, step.headers),
      ]);
      windows.push({ from, to: Date.now() });
      // Each step gets its own milliseconds, so no time can fall in two windows.
      await new Promise((r) => setTimeout(r, 2));
      log.push(`${step.name}: pushgateway ${p.status}, accrue ${a.status}`);
      const context = `${step.name}\n${log.join('\n')}\nPushgateway: ${p.text}\nAccrue: ${a.text}`;
      if (differs) {
        expect({ step: context, pushgateway: p.status, accrue: a.status }).toEqual({
          step: context,
          pushgateway: differs.pushgateway,
          accrue: differs.accrue,
        });
        excluded.add(jobOf(step.path));
      } else {
        expect({ step: context, pushgateway: p.status, accrue: a.status }).toEqual({
          step: context,
          pushgateway: step.status,
          accrue: step.status,
        });
      }
      const [pgGroups, acGroups] = await Promise.all([
        groups(pg.base, excluded, stepOf),
        groups(svc.base, excluded, stepOf),
      ]);
      expect({ step: step.name, groups: acGroups }).toEqual({ step: step.name, groups: pgGroups });
      const [pgSeries, acSeries] = await Promise.all([
        exposed(pg.base, excluded),
        exposed(svc.base, excluded),
      ]);
      expect({ step: step.name, series: acSeries }).toEqual({ step: step.name, series: pgSeries });
    }
  });

  it('instance@base64/= beside the same job: two groups and a failing scrape there, one group here', async () => {
    const jobs = async (base: string) => {
      const j = JSON.parse((await http(base, 'GET', '/api/v1/metrics')).text) as {
        data: { labels: Record<string, string>; last_push_successful: boolean }[];
      };
      return j.data
        .filter((g) => g.labels['job'] === 'twin')
        .map((g) => ({ labels: g.labels, ok: g.last_push_successful }));
    };
    const put = (base: string, path: string, body: string) => http(base, 'PUT', path, body);
    const empty = '/metrics/job/twin/instance@base64/=';
    // The Pushgateway: the second push is refused but leaves a second, failure-only group, and its
    // /metrics answers 500 until one of them is deleted.
    expect((await put(pg.base, '/metrics/job/twin', 'tw 1\n')).status).toBe(200);
    expect((await put(pg.base, empty, 'tw 2\n')).status).toBe(400);
    expect((await http(pg.base, 'GET', '/metrics')).status).toBe(500);
    expect(await jobs(pg.base)).toEqual(
      expect.arrayContaining([
        { labels: { job: 'twin' }, ok: true },
        { labels: { job: 'twin', instance: '' }, ok: false },
      ]),
    );
    expect((await http(pg.base, 'DELETE', '/metrics/job/twin')).status).toBe(202);
    expect(await jobs(pg.base)).toEqual([{ labels: { job: 'twin', instance: '' }, ok: false }]);
    expect((await http(pg.base, 'DELETE', empty)).status).toBe(202);
    expect(await jobs(pg.base)).toEqual([]);
    // Accrue: an empty value is no label, so both paths name one group; the second PUT replaces it,
    // the scrape keeps working, and DELETE by either path removes it.
    expect((await put(svc.base, '/metrics/job/twin', 'tw 1\n')).status).toBe(200);
    expect((await put(svc.base, empty, 'tw 2\n')).status).toBe(200);
    const scrape = await http(svc.base, 'GET', '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.text).toMatch(/^tw\{instance="",job="twin"\} 2$/m);
    expect(await jobs(svc.base)).toEqual([{ labels: { job: 'twin' }, ok: true }]);
    expect((await http(svc.base, 'DELETE', empty)).status).toBe(202);
    expect(await jobs(svc.base)).toEqual([]);
  });

  it('/api/v1/status carries build_information with the Pushgateway keys (nodeVersion for goVersion)', async () => {
    const [p, a] = await Promise.all([
      http(pg.base, 'GET', '/api/v1/status'),
      http(svc.base, 'GET', '/api/v1/status'),
    ]);
    const pb = JSON.parse(p.text).data.build_information as Record<string, string>;
    const ab = JSON.parse(a.text).data.build_information as Record<string, string>;
    const swap = (k: string) => (k === 'goVersion' ? 'nodeVersion' : k);
    expect(Object.keys(ab).sort()).toEqual(Object.keys(pb).map(swap).sort());
    for (const v of Object.values(ab)) expect(typeof v).toBe('string');
    expect(ab['version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(ab['nodeVersion']).toBe(process.version);
    expect(JSON.parse(a.text).data.start_time).toMatch(RFC3339);
  });
});
