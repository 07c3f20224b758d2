import { gzipSync } from 'node:zlib';
import { AccrueError, RejectReason } from '../../../shared/model/errors';
import { decodePushBody, isProtobufContentType } from '../../../shared/push/body';

const PB = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

describe('isProtobufContentType', () => {
  it.each<[string | undefined, boolean]>([
    [PB, true],
    ['application/vnd.google.protobuf; encoding=delimited; proto=io.prometheus.client.MetricFamily', true],
    [
      'APPLICATION/VND.GOOGLE.PROTOBUF; proto="io.prometheus.client.MetricFamily"; encoding="delimited"',
      true,
    ],
    ['application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text', false],
    ['application/vnd.google.protobuf; proto=other.Type; encoding=delimited', false],
    ['application/vnd.google.protobuf', false],
    ['text/plain; version=0.0.4', false],
    ['', false],
    [undefined, false],
    ['application/vnd.google.protobuf; proto; encoding', false],
  ])('%j -> %s', (ct, expected) => {
    expect(isProtobufContentType(ct)).toBe(expected);
  });
});

describe('decodePushBody', () => {
  const max = 1024;
  it('reads text as UTF-8', () => {
    expect(decodePushBody(Buffer.from('m{a="ü"} 1\n'), { maxBytes: max })).toEqual({
      kind: 'text',
      text: 'm{a="ü"} 1\n',
    });
  });
  it('passes protobuf bytes through', () => {
    const b = Buffer.from([1, 2, 3]);
    expect(decodePushBody(b, { contentType: PB, maxBytes: max })).toEqual({ kind: 'protobuf', bytes: b });
  });
  it.each(['gzip', 'GZIP', ' x-gzip '])('gunzips Content-Encoding %j', (enc) => {
    expect(decodePushBody(gzipSync('m 1\n'), { contentEncoding: enc, maxBytes: max })).toEqual({
      kind: 'text',
      text: 'm 1\n',
    });
  });
  it.each(['', 'identity'])('Content-Encoding %j is plain', (enc) => {
    expect(decodePushBody(Buffer.from('m 1\n'), { contentEncoding: enc, maxBytes: max }).kind).toBe('text');
  });

  const cases: [string, Buffer, { contentType?: string; contentEncoding?: string }, string, RegExp][] = [
    [
      'zip bomb',
      gzipSync(Buffer.alloc(1024 * 1024)),
      { contentEncoding: 'gzip' },
      RejectReason.tooLarge,
      /decompressed size exceeds the limit of 1024/,
    ],
    [
      'oversize plain body',
      Buffer.alloc(2000, 0x20),
      {},
      RejectReason.tooLarge,
      /size 2000 exceeds the limit of 1024/,
    ],
    [
      'oversize protobuf body',
      Buffer.alloc(2000),
      { contentType: PB },
      RejectReason.tooLarge,
      /exceeds the limit/,
    ],
    ['not gzip', Buffer.from('plain'), { contentEncoding: 'gzip' }, RejectReason.decode, /invalid gzip/],
    [
      'truncated gzip',
      gzipSync('m 1\n').subarray(0, 12),
      { contentEncoding: 'gzip' },
      RejectReason.decode,
      /invalid gzip/,
    ],
    [
      'unsupported encoding',
      Buffer.from('m 1\n'),
      { contentEncoding: 'br' },
      RejectReason.decode,
      /not supported/,
    ],
    ['invalid UTF-8', Buffer.from([0x6d, 0x20, 0xc3, 0x28]), {}, RejectReason.decode, /UTF-8/],
    ['lone surrogate bytes', Buffer.from([0xed, 0xa0, 0x80]), {}, RejectReason.decode, /UTF-8/],
  ];
  it.each(cases)('refuses %s', (_name, raw, opts, reason, message) => {
    let err: unknown;
    try {
      decodePushBody(raw, { ...opts, maxBytes: max });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AccrueError);
    expect((err as AccrueError).reason).toBe(reason);
    expect((err as AccrueError).message).toMatch(message);
  });
});
