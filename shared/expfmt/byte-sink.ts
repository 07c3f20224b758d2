/**
 * A growable UTF-8 byte buffer for the writers. Building a large exposition body with `+=` creates one
 * V8 cons-string node per piece (millions for 100k series), which all survive until the body is
 * flattened and dominate the time in garbage collection; writing bytes into one buffer avoids that.
 * ASCII is copied with a `charCodeAt` loop; other text goes through Buffer's UTF-8 encoder.
 */
export class ByteSink {
  private buf: Buffer;
  pos = 0;
  /** True while everything written is ASCII (then `toString` can use the cheaper latin1 decoding). */
  private ascii = true;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + need) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  /** Appends a string. */
  str(s: string): void {
    const n = s.length;
    if (this.pos + n * 3 > this.buf.length) this.grow(n * 3);
    const end = writeUtf8(this.buf, this.pos, s);
    if (end - this.pos !== n) this.ascii = false;
    this.pos = end;
  }

  /** Appends one ASCII character code. */
  byte(c: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** Appends a non-negative integer below 1e15 (written like Go's %g for values < 1e6 only: caller checks). */
  uint(v: number): void {
    if (this.pos + 16 > this.buf.length) this.grow(16);
    const b = this.buf;
    if (v < 10) {
      b[this.pos++] = 48 + v;
      return;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    let t = v;
    while (t >= 10) {
      const q = Math.floor(t / 10);
      b[--p] = 48 + (t - q * 10);
      t = q;
    }
    b[--p] = 48 + t;
  }

  /** Appends a copy of bytes [start, end) already written. */
  repeat(start: number, end: number): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.copyWithin(this.pos, start, end);
    this.pos += n;
  }

  toString(): string {
    return this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.pos);
  }

  /** The bytes written (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Writes `s` as UTF-8 into `b` at `p` (room for 3 bytes per UTF-16 unit is the caller's) and returns the
 * end: ASCII with a `charCodeAt` loop, the rest through Buffer's encoder (lone surrogates become U+FFFD).
 */
export function writeUtf8(b: Buffer, p: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) return p + b.write(i === 0 ? s : s.slice(i), p, 'utf8');
    b[p++] = c;
  }
  return p;
}
