/**
 * Snappy decompression of push bodies (`Content-Encoding: snappy`), bounded like gzip: the output never
 * grows past `maxBytes`, and a block whose declared length is over the limit is refused before anything is
 * allocated.
 *
 * Two formats arrive under the same header, and both are accepted:
 * - the framing format (google/snappy `framing_format.txt`): a stream identifier chunk, then compressed or
 *   uncompressed chunks of at most 64 KiB, each with a masked CRC-32C of its data, which is checked. This
 *   is what the Pushgateway reads (1.6+, Go's `snappy.NewReader`) and what `snzip` writes;
 * - the raw block format (`format_description.txt`), what Prometheus remote write and most HTTP clients
 *   mean by `Content-Encoding: snappy` (Go's `snappy.Encode`, python-snappy's `compress`).
 * A body is framed when it starts with the stream identifier chunk, else it is one block.
 *
 * Errors: `SnappyError` for malformed input, `SnappyTooLargeError` past the limit (the caller maps them
 * to its own typed errors).
 */

export class SnappyError extends Error {}

export class SnappyTooLargeError extends Error {}

const STREAM_IDENTIFIER = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
const MAX_CHUNK_DATA = 65536;
/** Literals and copies up to this length are moved byte by byte (cheaper than a native call). */
const SHORT = 16;

/** Decompresses a snappy body (framed or raw block); at most `maxBytes` of output. */
export function snappyDecompress(input: Uint8Array, maxBytes: number): Buffer {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (
    buf.length >= STREAM_IDENTIFIER.length &&
    buf.subarray(0, STREAM_IDENTIFIER.length).equals(STREAM_IDENTIFIER)
  )
    return decodeFramed(buf, maxBytes);
  return decodeBlock(buf, maxBytes);
}

/** The raw block format: a varint of the decompressed length, then literals and back-references. */
export function decodeBlock(src: Buffer, maxBytes: number): Buffer {
  const { value: length, next } = readLength(src);
  if (length > maxBytes)
    throw new SnappyTooLargeError(
      `declares ${length} decompressed bytes, more than the limit of ${maxBytes}`,
    );
  const out = Buffer.allocUnsafe(length);
  let s = next;
  let d = 0;
  while (s < src.length) {
    const tag = src[s++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (s + extra > src.length) throw new SnappyError('literal length runs past the end of the input');
        len = 0;
        for (let i = 0; i < extra; i++) len += src[s + i]! * 2 ** (8 * i);
        s += extra;
      }
      len += 1;
      if (s + len > src.length) throw new SnappyError('literal runs past the end of the input');
      if (d + len > length) throw new SnappyError('literal runs past the declared length');
      if (len <= SHORT) for (let i = 0; i < len; i++) out[d + i] = src[s + i]!;
      else src.copy(out, d, s, s + len);
      s += len;
      d += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (s + 1 > src.length) throw new SnappyError('copy runs past the end of the input');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[s]!;
      s += 1;
    } else if (kind === 2) {
      if (s + 2 > src.length) throw new SnappyError('copy runs past the end of the input');
      len = (tag >>> 2) + 1;
      offset = src.readUInt16LE(s);
      s += 2;
    } else {
      if (s + 4 > src.length) throw new SnappyError('copy runs past the end of the input');
      len = (tag >>> 2) + 1;
      offset = src.readUInt32LE(s);
      s += 4;
    }
    if (offset === 0 || offset > d) throw new SnappyError(`copy offset ${offset} outside the output so far`);
    if (d + len > length) throw new SnappyError('copy runs past the declared length');
    if (len <= SHORT || offset === 1) {
      // Short copies, and overlapping ones (a run repeating the last `offset` bytes), byte by byte.
      for (const end = d + len; d < end; d++) out[d] = out[d - offset]!;
    } else if (offset >= len) {
      out.copyWithin(d, d - offset, d - offset + len);
      d += len;
    } else {
      // Overlapping: the repeated pattern doubles with each native copy.
      const end = d + len;
      let step = offset;
      while (d < end) {
        const n = Math.min(step, end - d);
        out.copyWithin(d, d - step, d - step + n);
        d += n;
        step += n;
      }
    }
  }
  if (d !== length) throw new SnappyError(`decompressed to ${d} bytes, the block declares ${length}`);
  return out;
}

/** The little-endian base-128 varint (at most 32 bits) that starts a block. */
function readLength(src: Buffer): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= src.length) throw new SnappyError('truncated length header');
    const b = src[i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (value > 0xffffffff) throw new SnappyError('length header over 32 bits');
      return { value, next: i + 1 };
    }
  }
  throw new SnappyError('length header over 32 bits');
}

/** The framing format: chunks of type, 24-bit length and data; checksums verified. */
function decodeFramed(src: Buffer, maxBytes: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let s = 0;
  while (s < src.length) {
    if (s + 4 > src.length) throw new SnappyError('truncated chunk header');
    const type = src[s]!;
    const len = src[s + 1]! | (src[s + 2]! << 8) | (src[s + 3]! << 16);
    s += 4;
    if (s + len > src.length) throw new SnappyError(`chunk of ${len} bytes runs past the end of the input`);
    const chunk = src.subarray(s, s + len);
    s += len;
    if (type === 0xff) {
      if (!chunk.equals(STREAM_IDENTIFIER.subarray(4))) throw new SnappyError('bad stream identifier');
      continue;
    }
    if (type === 0x00 || type === 0x01) {
      if (len < 4) throw new SnappyError('data chunk without checksum');
      const data = type === 0x00 ? chunkBlock(chunk.subarray(4)) : chunk.subarray(4);
      if (data.length > MAX_CHUNK_DATA) throw new SnappyError('chunk data over 64 KiB');
      if (total + data.length > maxBytes)
        throw new SnappyTooLargeError(`decompressed size exceeds the limit of ${maxBytes} bytes`);
      if (maskedCrc32c(data) !== chunk.readUInt32LE(0)) throw new SnappyError('chunk checksum mismatch');
      parts.push(data);
      total += data.length;
      continue;
    }
    // 0x02-0x7f are reserved and must not be skipped; 0x80-0xfe (padding, reserved) are skipped.
    if (type < 0x80) throw new SnappyError(`reserved unskippable chunk type 0x${type.toString(16)}`);
  }
  return Buffer.concat(parts, total);
}

/** A compressed chunk's block: its data is at most 64 KiB, whatever the body's limit. */
function chunkBlock(block: Buffer): Buffer {
  try {
    return decodeBlock(block, MAX_CHUNK_DATA);
  } catch (err) {
    if (err instanceof SnappyTooLargeError) throw new SnappyError('chunk data over 64 KiB');
    throw err;
  }
}

/** CRC-32C tables for slicing by 8 (eight bytes per step): table k maps a byte k positions back. */
const CRC32C_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++)
    for (let k = 1; k < 8; k++)
      t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  return t;
})();

/** CRC-32C (Castagnoli) of `data`, masked as the framing format stores it. */
export function maskedCrc32c(data: Uint8Array): number {
  const t = CRC32C_TABLES;
  let c = ~0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const lo = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[7 * 256 + (lo & 0xff)]! ^
      t[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      t[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      t[4 * 256 + (lo >>> 24)]! ^
      t[3 * 256 + data[i + 4]!]! ^
      t[2 * 256 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  c = ~c >>> 0;
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}
