/**
 * gzip of a rendered body whose cost follows the change, not the body's size. The body's parts (the
 * renderer's cached per-(group, family) pieces: strings for the text formats, bytes for protobuf) are cut
 * into runs; each run is deflated on its own and kept, and the next call re-deflates only the runs whose
 * input changed. The result is ONE gzip member (RFC 1952) whose deflate stream is the runs' streams
 * concatenated, as pigz builds it:
 * - each run is raw deflate ended by a sync flush (an empty stored block), so the next run starts on a
 *   byte boundary; a final empty block closes the stream;
 * - each run is deflated with the DICT_BYTES bytes before it as its dictionary, so it may refer back into
 *   them as a single deflate of the whole body would: the output is as small as one gzip of the body
 *   (independent members lost 15% at 16 KiB runs, 5% at 64 KiB on the 100k bench body);
 * - the trailer's CRC-32 is combined from the runs' CRCs (crc32Combine), never recomputed over the body.
 * A run is reused when its parts and the parts its dictionary comes from are the same as last time.
 *
 * Cuts: a run ends after a part once it holds at least RUN_MIN_CHARS and the part's fingerprint (its length
 * and a sample of its characters, hashed) is even, or once it reaches RUN_MAX_CHARS. A cut so depends
 * only on the part it follows, so a changed part moves at most the cut right after it: the runs after
 * it line up with last time's again. (The former rule, `length % 4 === 0`, cut rarely: the chunks of one
 * family have near-equal lengths, ~95% of them 2 or 3 mod 4 on the bench body, so runs grew to 232 KB and
 * 10 changed groups of 1,000 recompressed ~40% of the body.)
 *
 * Why it pays: at 100k series the text body is ~5.4 MB; compressing all of it costs ~130 ms of CPU per
 * refresh on a quiet machine, although a refresh that brings 10 changed groups changes ~1% of it.
 */
import * as zlib from 'node:zlib';

const RUN_MIN_CHARS = 16 * 1024;
const RUN_MAX_CHARS = 64 * 1024;
/** How far back a run's deflate may refer (at most deflate's 32 KiB window; 8 KiB keeps the size). */
const DICT_BYTES = 8 * 1024;
/** Byte pieces up to this size are compared by content (fresh headers of unchanged families). */
const SMALL_BYTES = 1024;
/** gzip header: magic, deflate, no flags, no mtime, no extra flags, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
/** A final, empty, fixed-Huffman deflate block. */
const FINAL_BLOCK = Buffer.from([3, 0]);

/** A piece of a body: text (the text formats) or bytes (protobuf). */
export type Piece = string | Uint8Array;

interface Deflated {
  readonly data: Buffer;
  readonly crc: number;
  /** Uncompressed bytes. */
  readonly bytes: number;
}

interface Run {
  readonly parts: readonly Piece[];
  /** The parts before the run that its dictionary is taken from (the last DICT_BYTES of them). */
  readonly dict: readonly Piece[];
  readonly out: Promise<Deflated>;
}

export class GzipRuns {
  /** Runs of the last call, by the key of their first part. */
  private runs = new Map<Piece, Run[]>();
  /** Runs deflated since creation (the rest were reused), for tests and the bench. */
  compressedRuns = 0;
  reusedRuns = 0;
  /** Input bytes of the runs deflated since creation. */
  compressedBytes = 0;

  /** The gzip of the parts' concatenation; runs unchanged since the last call are reused. */
  async gzip(parts: readonly Piece[]): Promise<Buffer> {
    const next = new Map<Piece, Run[]>();
    const outs: Promise<Deflated>[] = [];
    let start = 0;
    for (const end of cutRuns(parts)) {
      const run = { parts: parts.slice(start, end), dict: dictParts(parts, start) };
      const r = this.reuse(run) ?? this.compress(run);
      const key = keyOf(run.parts[0]!);
      const same = next.get(key);
      if (same) same.push(r);
      else next.set(key, [r]);
      outs.push(r.out);
      start = end;
    }
    this.runs = next;
    return assemble(await Promise.all(outs));
  }

  private reuse(run: Pick<Run, 'parts' | 'dict'>): Run | undefined {
    for (const r of this.runs.get(keyOf(run.parts[0]!)) ?? []) {
      if (samePieces(r.parts, run.parts) && samePieces(r.dict, run.dict)) {
        this.reusedRuns++;
        return r;
      }
    }
    return undefined;
  }

  private compress(run: Pick<Run, 'parts' | 'dict'>): Run {
    this.compressedRuns++;
    const input = bytesOf(run.parts);
    this.compressedBytes += input.length;
    const dictionary = run.dict.length === 0 ? undefined : bytesOf(run.dict).subarray(-DICT_BYTES);
    const out = new Promise<Deflated>((resolve, reject) =>
      zlib.deflateRaw(
        input,
        { finishFlush: zlib.constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) },
        (err, data) => (err ? reject(err) : resolve({ data, crc: crc32(input), bytes: input.length })),
      ),
    );
    return { ...run, out };
  }
}

/** Header, the runs' deflate streams, the final block, then CRC-32 and size (mod 2^32) of the whole. */
function assemble(runs: readonly Deflated[]): Buffer {
  let crc = 0;
  let size = 0;
  for (const r of runs) {
    crc = crc32Combine(crc, r.crc, r.bytes);
    size = (size + r.bytes) % 0x1_0000_0000;
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size, 4);
  return Buffer.concat([GZIP_HEADER, ...runs.map((r) => r.data), FINAL_BLOCK, trailer]);
}

/**
 * Where the runs end: indexes into `parts`, one past each run's last part (see the module comment).
 * Empty parts never start a run.
 */
export function cutRuns(parts: readonly Piece[]): number[] {
  const ends: number[] = [];
  let chars = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    chars += p.length;
    if (chars === 0) continue;
    if ((chars >= RUN_MIN_CHARS && (fingerprint(p) & 1) === 0) || chars >= RUN_MAX_CHARS) {
      ends.push(i + 1);
      chars = 0;
    }
  }
  if (chars > 0) ends.push(parts.length);
  return ends;
}

/** The parts before `start` whose last DICT_BYTES a run starting there uses as its dictionary. */
function dictParts(parts: readonly Piece[], start: number): Piece[] {
  let i = start;
  let chars = 0;
  while (i > 0 && chars < DICT_BYTES) chars += parts[--i]!.length;
  return parts.slice(i, start);
}

/** A hash of a piece's length and up to 16 of its code units (the last 8 and 8 spread over it). */
function fingerprint(p: Piece): number {
  const n = p.length;
  let h = Math.imul(n, 0x9e3779b1);
  const at = (i: number) => (typeof p === 'string' ? p.charCodeAt(i) : p[i]!);
  for (let k = 1; k <= 8 && k <= n; k++) h = Math.imul(h ^ at(n - k), 0x85ebca6b);
  for (let k = 0; k < 8 && n > 0; k++) h = Math.imul(h ^ at(Math.floor((k * n) / 8)), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** The map key a run is found by: strings and large byte pieces as they are, small bytes by content. */
function keyOf(p: Piece): Piece {
  return typeof p !== 'string' && p.length <= SMALL_BYTES ? `\0b${Buffer.from(p).toString('latin1')}` : p;
}

function samePiece(a: Piece, b: Piece): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof b === 'string') return false;
  return a.length === b.length && a.length <= SMALL_BYTES && Buffer.from(a).equals(b);
}

function samePieces(a: readonly Piece[], b: readonly Piece[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!samePiece(a[i]!, b[i]!)) return false;
  return true;
}

function bytesOf(parts: readonly Piece[]): Buffer {
  return typeof parts[0] === 'string'
    ? Buffer.from((parts as readonly string[]).join(''), 'utf8')
    : Buffer.concat(parts as readonly Uint8Array[]);
}

// ---------------------------------------------------------------------------------------------- CRC-32

const POLY = 0xedb88320;
const TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 (gzip's): Node's native one where it has it (20.15+, 22.2+). */
function crc32(data: Buffer): number {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data);
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** a·b modulo the CRC polynomial (bit-reflected, as zlib's multmodp). */
function multmodp(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N = new Uint32Array(32);
X2N[0] = 0x40000000; // x^1
for (let k = 1; k < 32; k++) X2N[k] = multmodp(X2N[k - 1]!, X2N[k - 1]!);

/** x^(n·2^k) modulo the polynomial. */
function x2nmodp(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multmodp(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** The CRC-32 of A followed by B, from crc(A), crc(B) and B's length (zlib's crc32_combine). */
export function crc32Combine(crcA: number, crcB: number, bytesB: number): number {
  return (multmodp(x2nmodp(bytesB, 3), crcA) ^ crcB) >>> 0;
}
