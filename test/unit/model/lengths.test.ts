/**
 * String lengths in limits count code points (shared/model/lengths.ts), on every path. Before the rule had
 * one home, the SQS decoder counted label values in code points (as the published JSON Schema's
 * `maxLength` does) while the decoder's group check, the store (`labelLimitErrorCounted`,
 * `groupLimitError`) and the client counted UTF-16 units: a counter event whose label value was 600 emoji
 * passed the decoder, then the store refused the op with `limit`; a group value of 600 emoji made the
 * message undecodable although the schema allows it. The table sends each boundary case down every path
 * (SQS decode → memory store apply, HTTP text push, HTTP protobuf push, client validation) and expects
 * one decision.
 */
import type { FastifyInstance } from 'fastify';
import { createCodec } from '../../../service/codec';
import { buildServer } from '../../../service/server';
import { eventProblems } from '../../../shared/client/validate';
import { DecodeError } from '../../../shared/ingest/errors';
import { codePointLength, longerThan, shorterThan } from '../../../shared/model/lengths';
import { loneSurrogateProblem, MAX_NAME_LENGTH, type NameValidation } from '../../../shared/model/names';
import { ARIA_PROFILE } from '../../../shared/profiles/load';
import { MemoryStore } from '../../../shared/store/memory';
import { DEFAULT_LIMITS } from '../../../shared/store/types';
import { clientModelRoot } from '../../support/client-model';
import { decode, T0 } from '../ingest/helpers';

const MAX = DEFAULT_LIMITS.maxLabelValueLength;
const EMOJI = '😀'; // U+1F600: one code point, two UTF-16 units
const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');
const PROTOBUF =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

type Outcome = 'ok' | 'limit' | 'invalid' | 'invalid_name';

/** UTF-8 as WTF-8: a lone surrogate becomes its 3-byte form (ED A0 80), which no valid UTF-8 has. */
function wtf8(s: string): Buffer {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Buffer.from(out);
}

const escapeText = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A service over a real memory store and the real codec, listening on 127.0.0.1 (real HTTP). */
async function service(names: NameValidation = 'legacy'): Promise<{ app: FastifyInstance; base: string }> {
  const store = await MemoryStore.open();
  const app = await buildServer({
    store,
    codec: createCodec({ names }),
    config: {
      host: '127.0.0.1',
      port: 0,
      adminApi: false,
      utf8Names: names === 'utf8',
      maxBodyBytes: 1 << 20,
      snapshotRefreshMs: 0,
      snapshotMaxAgeMs: 60_000,
    },
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base };
}

/**
 * The decision of an HTTP PUT: `ok`, or the status and the rule its message names (the answer is one line
 * of text; the reason is what the service counts, mapped from the same error).
 */
async function httpOutcome(base: string, path: string, body: Buffer, type: string): Promise<string> {
  const r = await fetch(`${base}${path}`, { method: 'PUT', body, headers: { 'content-type': type } });
  const text = await r.text();
  if (r.status === 200) return 'ok';
  const rule = text.includes('maxLabelValueLength')
    ? 'limit'
    : / name .*must be at most \d+ characters/.test(text)
      ? 'invalid_name'
      : /UTF-8|utf-8/.test(text)
        ? 'decode'
        : text;
  return `${r.status} ${rule}`;
}

function textPush(name: string, labelValue: string): Buffer {
  return Buffer.concat([
    Buffer.from(`# TYPE ${name} counter\n${name}{v="`),
    wtf8(escapeText(labelValue)),
    Buffer.from('"} 1\n'),
  ]);
}

/**
 * protobufjs writes a lone surrogate in a long string as U+FFFD: such a value's bytes go in as WTF-8, over a
 * placeholder of as many \x01 bytes (at least 3: nothing else in the message has three in a row).
 */
function protobufPush(name: string, labelValue: string): Buffer {
  const wellFormed = loneSurrogateProblem(labelValue) === undefined;
  const bytes = wtf8(labelValue);
  const value = wellFormed ? labelValue : '\u0001'.repeat(bytes.length);
  const msg = MF.fromObject({
    name,
    type: 0,
    metric: [{ label: [{ name: 'v', value }], counter: { value: 1 } }],
  });
  const out = Buffer.from(MF.encodeDelimited(msg).finish());
  if (!wellFormed) bytes.copy(out, out.indexOf(Buffer.from(value)));
  return out;
}

/** SQS: decode one counter event, then apply what the decoder accepted to a memory store. */
async function sqsOutcome(name: string, labelValue: string): Promise<string> {
  const r = decode([{ kind: 'counter', time: T0, name, labels: { v: labelValue } }]);
  if (r.rejected.length > 0) return r.rejected[0]!.reason;
  const store = await MemoryStore.open();
  try {
    const [res] = await store.apply([r.apply]);
    if (res!.status === 'failed') return res!.error.reason;
    return res!.rejected.length > 0 ? res!.rejected[0]!.error.reason : 'ok';
  } finally {
    await store.close();
  }
}

/** The client has no reasons: its message names the rule. */
function clientOutcome(name: string, labelValue: string): string {
  const problems = eventProblems(
    { kind: 'counter', time: T0, name, labels: { v: labelValue } },
    ARIA_PROFILE,
  );
  if (problems.length === 0) return 'ok';
  const m = problems.map((p) => p.message).join('; ');
  if (/at most \d+ characters/.test(m)) return /^label value/.test(m) ? 'limit' : 'invalid_name';
  if (/lone UTF-16 surrogate/.test(m)) return 'invalid';
  return m;
}

const VALUE_CASES: [name: string, value: string, outcome: Outcome][] = [
  ['ASCII at the limit', 'a'.repeat(MAX), 'ok'],
  ['ASCII one over', 'a'.repeat(MAX + 1), 'limit'],
  ['600 emoji (1,200 UTF-16 units)', EMOJI.repeat(600), 'ok'],
  ['emoji at the limit', EMOJI.repeat(MAX), 'ok'],
  ['emoji one over', EMOJI.repeat(MAX + 1), 'limit'],
  ['astral plane (U+10FFFF) at the limit', '\u{10ffff}'.repeat(MAX), 'ok'],
  ['ASCII and one emoji at the limit', `${'a'.repeat(MAX - 1)}${EMOJI}`, 'ok'],
  ['ASCII and one emoji, one over', `${'a'.repeat(MAX)}${EMOJI}`, 'limit'],
  ['BMP (é) at the limit', 'é'.repeat(MAX), 'ok'],
  ['BMP (é) one over', 'é'.repeat(MAX + 1), 'limit'],
  ['quotes, backslashes, newlines at the limit', '"\\\n'.repeat(MAX / 4).padEnd(MAX, 'x'), 'ok'],
  ['a lone surrogate', `A\ud800B`, 'invalid'],
  ['a lone surrogate after emoji at the limit', `${EMOJI.repeat(MAX - 1)}\ud83d`, 'invalid'],
];

/** HTTP bodies must be valid UTF-8: a lone surrogate is refused while the body is decoded (docs/security.md). */
const HTTP_DECODE_REFUSAL: Record<Outcome, string> = {
  ok: 'ok',
  limit: '400 limit',
  invalid: '400 decode',
  invalid_name: '400 invalid_name',
};

describe('label value length: one rule (code points) on every path', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app, base } = await service());
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(VALUE_CASES)('%s', async (_n, value, outcome) => {
    expect({
      sqsThenStore: await sqsOutcome('c_total', value),
      client: clientOutcome('c_total', value),
      text: await httpOutcome(base, '/metrics/job/j', textPush('c_total', value), 'text/plain'),
      protobuf: await httpOutcome(base, '/metrics/job/j', protobufPush('c_total', value), PROTOBUF),
    }).toEqual({
      sqsThenStore: outcome,
      client: outcome,
      text: HTTP_DECODE_REFUSAL[outcome],
      protobuf: HTTP_DECODE_REFUSAL[outcome],
    });
  });

  it.each(VALUE_CASES.filter(([, v]) => loneSurrogateProblem(v) === undefined))(
    'grouping label value: %s',
    async (_n, value, outcome) => {
      let sqs = 'ok';
      try {
        decode([{ kind: 'counter', time: T0, name: 'c_total' }], { group: { job: 'j', g: value } });
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        sqs = /at most \d+ characters \(maxLabelValueLength\)/.test(e.message) ? 'limit' : e.message;
      }
      const path = `/metrics/job/j/g@base64/${Buffer.from(value).toString('base64url')}`;
      expect({
        sqs,
        http: await httpOutcome(base, path, Buffer.from('# TYPE c_total counter\nc_total 1\n'), 'text/plain'),
      }).toEqual({ sqs: outcome, http: HTTP_DECODE_REFUSAL[outcome] });
    },
  );
});

describe('name length: one rule (code points) on every path', () => {
  const ascii: [string, string, Outcome][] = [
    ['ASCII name at the cap', 'n'.repeat(MAX_NAME_LENGTH), 'ok'],
    ['ASCII name one over', 'n'.repeat(MAX_NAME_LENGTH + 1), 'invalid_name'],
  ];
  it.each(ascii)('%s (legacy names: SQS, client, text, protobuf)', async (_n, name, outcome) => {
    const { app, base } = await service();
    try {
      expect({
        sqsThenStore: await sqsOutcome(name, 'v'),
        client: clientOutcome(name, 'v'),
        text: await httpOutcome(base, '/metrics/job/j', textPush(name, 'v'), 'text/plain'),
        protobuf: await httpOutcome(base, '/metrics/job/j', protobufPush(name, 'v'), PROTOBUF),
      }).toEqual({
        sqsThenStore: outcome,
        client: outcome,
        text: HTTP_DECODE_REFUSAL[outcome],
        protobuf: HTTP_DECODE_REFUSAL[outcome],
      });
    } finally {
      await app.close();
    }
  });

  const utf8: [string, string, Outcome][] = [
    ['emoji name at the cap', EMOJI.repeat(MAX_NAME_LENGTH), 'ok'],
    ['emoji name one over', EMOJI.repeat(MAX_NAME_LENGTH + 1), 'invalid_name'],
    ['ASCII and one emoji, one over', `${'n'.repeat(MAX_NAME_LENGTH)}${EMOJI}`, 'invalid_name'],
  ];
  it.each(utf8)('%s (UTF-8 names: text, protobuf)', async (_n, name, outcome) => {
    const { app, base } = await service('utf8');
    const quoted = `"${name}"`;
    const text = Buffer.from(`# TYPE ${quoted} counter\n{${quoted}} 1\n`);
    try {
      expect({
        text: await httpOutcome(base, '/metrics/job/j', text, 'text/plain'),
        protobuf: await httpOutcome(base, '/metrics/job/j', protobufPush(name, 'v'), PROTOBUF),
      }).toEqual({ text: HTTP_DECODE_REFUSAL[outcome], protobuf: HTTP_DECODE_REFUSAL[outcome] });
    } finally {
      await app.close();
    }
  });
});

describe('lengths.ts', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    [EMOJI, 1],
    [`a${EMOJI}b`, 3],
    ['\ud800', 1],
    ['\udc00\ud800', 2],
    [`\ud83d${EMOJI}`, 2],
  ])('codePointLength(%j) = %d', (s, n) => {
    expect(codePointLength(s)).toBe(n);
    expect(longerThan(s, n)).toBe(false);
    expect(longerThan(s, n - 1)).toBe(true);
    expect(shorterThan(s, n)).toBe(false);
    expect(shorterThan(s, n + 1)).toBe(true);
  });

  it('decides huge strings without counting them', () => {
    const huge = EMOJI.repeat(1_000_000);
    expect(longerThan(huge, 1024)).toBe(true);
    expect(shorterThan(huge, 1024)).toBe(false);
  });
});
