/**
 * gzip of a rendered body that follows the change, not the body's size: the body's parts (the renderer's
 * cached per-(group, family) strings, or the protobuf encoder's cached per-family pieces) are cut into runs of at least RUN_MIN_CHARS, each run is compressed
 * as its own gzip member, and a run whose parts are the same strings as in the previous call reuses its
 * member. The body is the members concatenated: a multi-member gzip stream (RFC 1952 §2.2), which Go's
 * (Prometheus'), Node's and Python's readers decode as one body.
 *
 * Why it pays: at 100k series the body is ~5.7 MB of text; compressing all of it took ~170 ms of CPU per
 * refresh (and a refresh waits for it before it serves the change), although a refresh that brings 10
 * changed groups changes ~1% of it. Compression ratio: deflate looks back only 32 KiB, so runs of at least
 * that size lose nothing but the context at their first bytes and 18 bytes of member framing each.
 *
 * Parts of one call are all strings or all bytes. Run boundaries depend only on the parts near them (a cut after a part at least RUN_MIN_CHARS into the run
 * whose length is a multiple of CUT_EVERY, or once the run reaches RUN_MAX_CHARS), so a changed part moves
 * at most the cuts until the next one both versions share, not every cut after it.
 */
import { gzip, gzipSync } from 'node:zlib';

const RUN_MIN_CHARS = 64 * 1024;
const RUN_MAX_CHARS = 512 * 1024;
const CUT_EVERY = 4;
const EMPTY_GZIP = gzipSync(Buffer.alloc(0));

/** A piece of a body: text (the text formats) or bytes (protobuf); compared by `===`. */
export type Piece = string | Uint8Array;

interface Run {
  readonly parts: readonly Piece[];
  readonly gz: Promise<Buffer>;
}

export class GzipRuns {
  /** Runs of the last call, by their first part. */
  private runs = new Map<Piece, Run[]>();
  /** Members compressed since creation (the rest were reused), for tests and the bench. */
  compressedRuns = 0;
  reusedRuns = 0;

  /** The gzip (multi-member) of the parts' concatenation; runs unchanged since the last call are reused. */
  async gzip(parts: readonly Piece[]): Promise<Buffer> {
    const next = new Map<Piece, Run[]>();
    const members: Promise<Buffer>[] = [];
    for (const run of cutRuns(parts)) {
      const r = this.reuse(run) ?? this.compress(run);
      const same = next.get(run[0]!);
      if (same) same.push(r);
      else next.set(run[0]!, [r]);
      members.push(r.gz);
    }
    this.runs = next;
    // An empty body is still one (empty) gzip member, so that the result is always a gzip stream.
    return members.length === 0 ? EMPTY_GZIP : Buffer.concat(await Promise.all(members));
  }

  private reuse(parts: readonly Piece[]): Run | undefined {
    for (const r of this.runs.get(parts[0]!) ?? []) {
      if (r.parts.length === parts.length && r.parts.every((p, i) => p === parts[i])) {
        this.reusedRuns++;
        return r;
      }
    }
    return undefined;
  }

  private compress(parts: readonly Piece[]): Run {
    this.compressedRuns++;
    const input =
      typeof parts[0] === 'string'
        ? Buffer.from((parts as readonly string[]).join(''), 'utf8')
        : Buffer.concat(parts as readonly Uint8Array[]);
    const gz = new Promise<Buffer>((resolve, reject) =>
      gzip(input, (err, out) => (err ? reject(err) : resolve(out))),
    );
    return { parts, gz };
  }
}

/** The parts cut into runs (see the module comment); empty parts are left out. */
export function cutRuns<P extends Piece>(parts: readonly P[]): P[][] {
  const out: P[][] = [];
  let run: P[] = [];
  let chars = 0;
  for (const p of parts) {
    if (p.length === 0) continue;
    run.push(p);
    chars += p.length;
    if ((chars >= RUN_MIN_CHARS && p.length % CUT_EVERY === 0) || chars >= RUN_MAX_CHARS) {
      out.push(run);
      run = [];
      chars = 0;
    }
  }
  if (run.length > 0) out.push(run);
  return out;
}
