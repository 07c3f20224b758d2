/**
 * A growable byte buffer that writes the protobuf wire format (varints, fixed 64-bit doubles, strings,
 * length-delimited nested messages), for the protobuf exposition writers. Building messages into one
 * buffer, instead of one JavaScript array per nested message, is what makes encoding 100k series cheap.
 *
 * Nested messages: `open()` reserves one length byte and returns the mark to pass to `close()`, which
 * writes the length and, when it needs more than one byte, moves the body up to make room. The output is
 * the canonical encoding (shortest varint lengths), the same bytes a two-pass encoder writes.
 */

import { writeUtf8 } from './byte-sink';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;

export class ProtoSink {
  private buf: Buffer;
  pos = 0;

  /**
   * `canonicalNaN`: every NaN is written as the one quiet NaN the text format's `NaN` reads back as, so
   * that no payload (such as Prometheus's staleness marker) passes through (the exposition's rule).
   */
  constructor(
    initial = 1 << 16,
    private readonly canonicalNaN = false,
  ) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(need: number): void {
    if (this.pos + need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + need) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  /** Empties the sink (its buffer is kept for the next message). */
  reset(): void {
    this.pos = 0;
  }

  /** A non-negative integer up to 2^53 as a varint. */
  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.pos++] = v;
  }

  /** An int64 varint: negative values as their 64-bit two's complement (10 bytes). */
  int64(v: number): void {
    if (v >= 0) {
      this.varint(v);
      return;
    }
    this.ensure(10);
    let big = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  /** A zigzag varint (sint32 / sint64), exact up to 2^52 in magnitude. */
  sint(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** Field `field` as a varint. */
  uintField(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  /** Field `field` as a double. */
  double(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.f64le(v);
  }

  /** A bare little-endian double (an element of a packed repeated double). */
  f64le(v: number): void {
    if (this.canonicalNaN && Number.isNaN(v)) v = Number.NaN;
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A count: a varint in `intField` when it is a safe non-negative integer, else a double in `floatField`. */
  count(intField: number, floatField: number, v: number): void {
    if (Number.isSafeInteger(v) && v >= 0) this.uintField(intField, v);
    else this.double(floatField, v);
  }

  /** Field `field` as a UTF-8 string (lone surrogates become U+FFFD, as TextEncoder writes them). */
  string(field: number, s: string): void {
    const mark = this.open(field);
    this.ensure(s.length * 3);
    this.pos = writeUtf8(this.buf, this.pos, s);
    this.close(mark);
  }

  /** Bytes already encoded, as they are. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Starts nested message `field` (or, without a field, a length-delimited message); see close(). */
  open(field?: number): number {
    if (field !== undefined) this.tag(field, WIRE_LEN);
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the message started at `mark`: writes its length in front of it. */
  close(mark: number): void {
    const len = this.pos - mark - 1;
    if (len < 0x80) {
      this.buf[mark] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    this.pos += extra;
    const end = this.pos;
    this.pos = mark;
    this.varint(len);
    this.pos = end;
  }

  /** A copy of the bytes written since `from` (the sink's buffer is reused). */
  copy(from = 0): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, from, this.pos);
  }
}

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
