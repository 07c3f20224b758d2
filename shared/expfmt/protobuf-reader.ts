/**
 * The protobuf wire reader of ./protobuf-parse.ts: varints (32- and 64-bit, signed), doubles,
 * length-delimited fields and strings (UTF-8 checked), sub-messages, skipping unknown fields, and packed or
 * unpacked repeated scalars. Malformed bytes throw `Truncated`, which the parser turns into a
 * ProtobufParseError naming the message.
 */

/** Internal: malformed bytes; turned into a ProtobufParseError naming the message. */
export class Truncated extends Error {}

/** Minimal protobuf reader over a byte range. */
export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    private readonly view: DataView,
  ) {
    this.pos = start;
  }
  uint32(): number {
    // varint up to 32 bits (tags, lengths)
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Truncated('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else if (shift < 64) result += (b & 0x7f) * 2 ** shift;
      else throw new Truncated('varint too long');
      if (b < 0x80) return result >>> 0 === result ? result : result >>> 0;
      shift += 7;
    }
  }
  /** uint64 / int64 varint as a JS number (exact up to 2^53). */
  varint64(signed: boolean): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Truncated('truncated varint');
      if (shift >= 70) throw new Truncated('varint too long');
      const b = this.buf[this.pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) break;
      shift += 7;
    }
    lo >>>= 0;
    hi >>>= 0;
    if (signed && hi & 0x80000000) {
      const nlo = (~lo >>> 0) + 1;
      const nhi = ~hi >>> 0;
      return -(nhi * 4294967296 + nlo);
    }
    return hi * 4294967296 + lo;
  }
  double(): number {
    if (this.pos + 8 > this.end) throw new Truncated('truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  bytesEnd(): number {
    const len = this.uint32();
    const e = this.pos + len;
    if (e > this.end) throw new Truncated('length-delimited field runs past its message');
    return e;
  }
  string(): string {
    const e = this.bytesEnd();
    let s: string;
    try {
      s = decoder.decode(this.buf.subarray(this.pos, e));
    } catch {
      throw new Truncated('invalid UTF-8 in a string field');
    }
    this.pos = e;
    return s;
  }
  sub(): Reader {
    const e = this.bytesEnd();
    const r = new Reader(this.buf, this.pos, e, this.view);
    this.pos = e;
    return r;
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint64(false);
        return;
      case 1:
        if (this.pos + 8 > this.end) throw new Truncated('truncated fixed64');
        this.pos += 8;
        return;
      case 2:
        this.pos = this.bytesEnd();
        return;
      case 5:
        if (this.pos + 4 > this.end) throw new Truncated('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new Truncated(`unsupported wire type ${wire}`);
    }
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function expectWire(wire: number, want: number, field: string): void {
  if (wire !== want) throw new Truncated(`field ${field} has wire type ${wire}, expected ${want}`);
}

/** A zigzag-encoded sint32/sint64 varint as a number (exact up to 2^53). */
export function zigzag(r: Reader): number {
  const n = r.varint64(false);
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** A repeated scalar field, packed (wire 2) or one element (its own wire type). */
export function readRepeated(r: Reader, wire: number, one: (r: Reader) => number, into: number[]): void {
  if (wire !== 2) {
    into.push(one(r));
    return;
  }
  const pr = r.sub();
  while (pr.pos < pr.end) into.push(one(pr));
}
