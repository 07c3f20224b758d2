/**
 * Snappy push bodies: bodies compressed by the real libsnappy (test/fixtures/snappy, python-snappy),
 * raw block and framed, decode to the original; the size limit holds before allocation and across frames;
 * malformed and hostile input is refused with a typed error.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePushBody } from '../../../shared/push/body';
import {
  decodeBlock,
  maskedCrc32c,
  SnappyError,
  SnappyTooLargeError,
  snappyDecompress,
} from '../../../shared/push/snappy';

const DIR = join(__dirname, '../../fixtures/snappy');
const fixture = (name: string) => readFileSync(join(DIR, name));
const MiB = 1024 * 1024;

/** A framed stream: the identifier, then the given chunks (type, data with checksum prepended). */
function framed(...chunks: [number, Buffer][]): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 6, 0, 0, ...Buffer.from('sNaPpY')])];
  for (const [type, data] of chunks) {
    const h = Buffer.alloc(4);
    h[0] = type;
    h.writeUIntLE(data.length, 1, 3);
    parts.push(h, data);
  }
  return Buffer.concat(parts);
}

function withCrc(plain: Buffer, payload = plain): Buffer {
  const c = Buffer.alloc(4);
  c.writeUInt32LE(maskedCrc32c(plain));
  return Buffer.concat([c, payload]);
}

describe('snappy bodies compressed by libsnappy', () => {
  it.each([
    ['small text', 'small', 'small.txt'],
    ['incompressible bytes', 'random', 'random.raw'],
  ])('%s: block and framed decode to the original', (_n, name, plainFile) => {
    const plain = fixture(plainFile);
    expect(snappyDecompress(fixture(`${name}.block.sz`), MiB).equals(plain)).toBe(true);
    expect(snappyDecompress(fixture(`${name}.framed.sz`), MiB).equals(plain)).toBe(true);
  });

  it('200 KB over several frames (and long overlapping copies) decodes to the original', () => {
    const want = fixture('large.sha256').toString('utf8').trim();
    for (const f of ['large.block.sz', 'large.framed.sz']) {
      const out = snappyDecompress(fixture(f), MiB);
      expect(createHash('sha256').update(out).digest('hex')).toBe(want);
    }
  });

  it('through decodePushBody: Content-Encoding snappy, text parsed as UTF-8', () => {
    const body = decodePushBody(fixture('small.framed.sz'), { contentEncoding: 'Snappy', maxBytes: MiB });
    expect(body).toEqual({ kind: 'text', text: fixture('small.txt').toString('utf8') });
  });
});

describe('limits', () => {
  it('a block declaring more than the limit is refused before allocating', () => {
    // varint 0xffffffff: 4 GiB declared, a few bytes of input.
    const bomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61]);
    expect(() => decodeBlock(bomb, MiB)).toThrow(SnappyTooLargeError);
  });

  it('frames that together pass the limit are refused (same limit as gzip: 413)', () => {
    const block = fixture('large.framed.sz');
    expect(() => snappyDecompress(block, 100_000)).toThrow(SnappyTooLargeError);
    expect(() => decodePushBody(block, { contentEncoding: 'snappy', maxBytes: 100_000 })).toThrow(
      expect.objectContaining({
        reason: 'too_large',
        message: expect.stringMatching(/exceeds the limit of 100000/),
      }),
    );
    expect(() =>
      decodePushBody(fixture('large.block.sz'), { contentEncoding: 'snappy', maxBytes: 100_000 }),
    ).toThrow(expect.objectContaining({ reason: 'too_large' }));
  });

  it('a highly repetitive body (1 MiB from 48 KiB of copies) decodes within the limit and stops past it', () => {
    // 64 literal "a", then 16383 copies of 64 bytes at offset 1 (overlapping): exactly 1 MiB.
    const parts = [Buffer.from([0x80, 0x80, 0x40]), Buffer.from([60 << 2, 63]), Buffer.alloc(64, 0x61)];
    for (let i = 0; i < 16383; i++) parts.push(Buffer.from([(63 << 2) | 2, 1, 0]));
    const body = Buffer.concat(parts);
    const out = decodeBlock(body, MiB);
    expect(out.length).toBe(MiB);
    expect(out.every((b) => b === 0x61)).toBe(true);
    expect(() => decodeBlock(body, MiB - 1)).toThrow(SnappyTooLargeError);
  });
});

describe('malformed input', () => {
  const plain = Buffer.from('m 1\n');
  it.each<[string, Buffer]>([
    ['empty body', Buffer.alloc(0)],
    ['truncated length varint', Buffer.from([0x80])],
    ['length varint over 32 bits', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['literal past the end', Buffer.from([0x04, 0x0c, 0x61])],
    ['literal past the declared length', Buffer.from([0x01, 0x04, 0x61, 0x62])],
    ['copy before any output', Buffer.from([0x04, 0x01, 0x01])],
    ['copy offset 0', Buffer.from([0x08, 0x00, 0x61, 0x0d, 0x00, 0x00])],
    ['shorter than declared', Buffer.from([0x05, 0x00, 0x61])],
    ['truncated copy', Buffer.from([0x08, 0x00, 0x61, 0x0e])],
    ['bad chunk checksum', framed([0x01, Buffer.concat([Buffer.alloc(4), plain])])],
    ['reserved unskippable chunk', framed([0x02, Buffer.from('x')])],
    ['chunk past the end', Buffer.concat([framed(), Buffer.from([0x01, 0x10, 0x00, 0x00, 0x00])])],
    ['data chunk without checksum', framed([0x01, Buffer.from([1, 2])])],
    [
      'bad stream identifier',
      Buffer.from([0xff, 6, 0, 0, ...Buffer.from('sNaPpY'), 0xff, 6, 0, 0, ...Buffer.from('sNaPpX')]),
    ],
  ])('%s is refused as invalid snappy data', (_name, input) => {
    expect(() => snappyDecompress(input, MiB)).toThrow(SnappyError);
    expect(() => decodePushBody(input, { contentEncoding: 'snappy', maxBytes: MiB })).toThrow(
      expect.objectContaining({
        reason: 'decode',
        message: expect.stringMatching(/^body: invalid snappy data/),
      }),
    );
  });

  it('skippable chunks (padding, reserved 0x80-0xfe) are skipped; uncompressed chunks are checked', () => {
    const s = framed([0xfe, Buffer.alloc(3)], [0x01, withCrc(plain)], [0x80, Buffer.from('skip')]);
    expect(snappyDecompress(s, MiB).toString()).toBe('m 1\n');
  });

  it('the CRC-32C is the standard one (check value of "123456789")', () => {
    // masked(0xE3069283) per the framing format
    const crc = 0xe3069283;
    expect(maskedCrc32c(Buffer.from('123456789'))).toBe((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0);
  });
});
