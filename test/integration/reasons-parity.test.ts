/**
 * One refusal, one reason, on every path: the same bad name, value or series pushed as a text body and as a
 * protobuf body over real HTTP, and sent to the SQS decoder as a generic event and as a push event, is
 * counted under the reason the docs' tables give (docs/service.md "Status codes and errors", docs/events.md
 * "Errors", docs/security.md "Limits"). An over-long metric name once counted `invalid` on SQS but
 * `invalid_name` on HTTP, and protobuf bodies counted bad names as `decode`: this table catches such drift.
 */
import { metricFamiliesToProtobufDelimited } from '../../shared/expfmt';
import { RejectReason } from '../../shared/model/errors';
import type { MetricFamily } from '../../shared/model/types';
import { decode, T0 } from '../unit/ingest/helpers';
import { http, type Running, startService } from './service-support';

const PROTOBUF =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
const long = `n${'x'.repeat(256)}`;
const huge = `n${'x'.repeat(2 * 1024 * 1024)}`;
const longValue = 'v'.repeat(1025);

interface Case {
  readonly name: string;
  readonly labels: Record<string, string>;
  /** The series twice. */
  readonly twice?: boolean;
  /** The reason of the docs' tables. */
  readonly reason: string;
  /** Paths where the rule is the store's, not the decoder's (checked by the store contract instead). */
  readonly notDecoder?: boolean;
}

// biome-ignore format: a table
const CASES: [string, Case][] = [
  ['metric name over 256 characters', { name: long, labels: {}, reason: RejectReason.invalidName }],
  ['2 MB metric name',                { name: huge, labels: {}, reason: RejectReason.invalidName }],
  ['label name over 256 characters',  { name: 'm', labels: { [long]: 'v' }, reason: RejectReason.invalidName }],
  ['label name starting with __',     { name: 'm', labels: { __x: 'v' }, reason: RejectReason.invalidName }],
  ['reserved metric name accrue_*',   { name: 'accrue_x', labels: {}, reason: RejectReason.invalidName }],
  ['reserved push_time_seconds',      { name: 'push_time_seconds', labels: {}, reason: RejectReason.invalidName }],
  ['label value over 1024 characters', { name: 'm', labels: { a: longValue }, reason: RejectReason.limit, notDecoder: true }],
  ['the same series twice',           { name: 'm', labels: { a: '1' }, twice: true, reason: RejectReason.duplicateSeries }],
];

function text(c: Case): string {
  const ls = Object.entries(c.labels).map(([k, v]) => `${k}="${v}"`);
  const line = `${c.name}${ls.length ? `{${ls.join(',')}}` : ''} 1\n`;
  return c.twice ? line + line : line;
}

function protobuf(c: Case): Buffer {
  const one = { labels: c.labels, value: 1 };
  const family = { name: c.name, help: '', type: 'gauge', series: c.twice ? [one, one] : [one] };
  return Buffer.from(metricFamiliesToProtobufDelimited([family as unknown as MetricFamily]));
}

function counted(scrape: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of scrape.matchAll(/^accrue_push_rejected_total\{reason="([a-z_]+)"\} (\d+)$/gm))
    out.set(m[1]!, Number(m[2]));
  return out;
}

/** The reasons counted by one HTTP push (the counter's increase). */
async function httpReasons(svc: Running, body: string | Buffer, headers: Record<string, string> = {}) {
  const before = counted((await http(svc.base, 'GET', '/metrics')).text);
  const r = await http(svc.base, 'PUT', '/metrics/job/parity', body, headers);
  const after = counted((await http(svc.base, 'GET', '/metrics')).text);
  const grew = [...after].filter(([k, n]) => n > (before.get(k) ?? 0)).map(([k]) => k);
  return { status: r.status, size: r.body.length, reasons: grew };
}

describe('a refusal has the documented reason on every path', () => {
  let svc: Running;
  beforeAll(async () => {
    svc = await startService({ maxBodyBytes: 8 * 1024 * 1024 });
  });
  afterAll(async () => {
    await svc.stop();
  });

  it.each(CASES)('%s: HTTP text body', async (_n, c) => {
    const r = await httpReasons(svc, text(c));
    expect(r).toEqual({ status: 400, size: expect.any(Number), reasons: [c.reason] });
    expect(r.size).toBeLessThan(4096);
  });

  it.each(CASES)('%s: HTTP protobuf body', async (_n, c) => {
    const r = await httpReasons(svc, protobuf(c), { 'content-type': PROTOBUF });
    expect(r).toEqual({ status: 400, size: expect.any(Number), reasons: [c.reason] });
    expect(r.size).toBeLessThan(4096);
  });

  const big = { maxMessageBytes: 8 * 1024 * 1024 };

  it.each(CASES.filter(([, c]) => !c.twice && !c.notDecoder))('%s: SQS generic event', (_n, c) => {
    const r = decode([{ kind: 'gauge', op: 'set', value: 1, time: T0, name: c.name, labels: c.labels }], big);
    expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([[0, c.reason]]);
    expect(r.rejected[0]!.message.length).toBeLessThan(4096);
  });

  it.each(CASES.filter(([, c]) => !c.notDecoder))('%s: SQS push event', (_n, c) => {
    const r = decode([{ kind: 'push', time: T0, method: 'PUT', body: text(c) }], big);
    expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([[0, c.reason]]);
  });
});
