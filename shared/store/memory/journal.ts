/**
 * Write-ahead journal of the memory store: numbered append-only files `journal-<n>.log` of one record per
 * line, written with group commit (every record appended before `flush()` is written and, with `fsync`,
 * made durable with one `fdatasync` per batch before `flush()` resolves).
 *
 * `rotate()` switches appends to the next file synchronously, so that a compaction can pair "state as of
 * now" with "journal files from n+1 on". Reading tolerates a torn last line (no trailing newline): it was
 * never acknowledged. A line that does not parse anywhere else is corruption and fails the load.
 */
import { type FileHandle, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

interface Segment {
  readonly no: number;
  lines: string[];
  /** Global sequence number of the last line appended to this segment. */
  seqEnd: number;
  fh?: FileHandle;
}

const FILE_RE = /^journal-(\d{1,15})\.log$/;

export function journalPath(dir: string, no: number): string {
  return join(dir, `journal-${no}.log`);
}

/** Journal file numbers in `dir`, ascending. */
export async function listJournals(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  const out: number[] = [];
  for (const n of names) {
    const m = FILE_RE.exec(n);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

export interface ReadJournal {
  /** Complete lines (without the newline). */
  readonly lines: string[];
  /** True when the file ended in a partial line, which was ignored. */
  readonly torn: boolean;
}

/** Reads complete lines of one journal file; a trailing partial line is dropped. */
export async function readJournal(path: string): Promise<ReadJournal> {
  const text = await readFile(path, 'utf8');
  if (text === '') return { lines: [], torn: false };
  const end = text.lastIndexOf('\n');
  const torn = end !== text.length - 1;
  if (end < 0) return { lines: [], torn };
  return { lines: text.slice(0, end).split('\n'), torn };
}

export class Journal {
  private readonly segments: Segment[];
  private appendSeq = 0;
  private durableSeq = 0;
  private writing: Promise<void> | undefined;
  private waiters: Array<{ seq: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  private failed: unknown;
  /** Bytes appended since the last rotate (UTF-16 units; close enough to decide on compaction). */
  bytesSinceRotate = 0;

  constructor(
    private readonly dir: string,
    firstNo: number,
    private readonly fsync: boolean,
  ) {
    this.segments = [{ no: firstNo, lines: [], seqEnd: 0 }];
  }

  /** Number of the file new records go to. */
  get currentNo(): number {
    return this.segments[this.segments.length - 1]!.no;
  }

  /** Queues one record (a line without newline). Durable after the next `flush()` resolves. */
  append(line: string): void {
    const seg = this.segments[this.segments.length - 1]!;
    seg.lines.push(`${line}\n`);
    seg.seqEnd = ++this.appendSeq;
    this.bytesSinceRotate += line.length + 1;
  }

  /** Makes later appends go to the next file; returns the number of the file just closed for appends. */
  rotate(): number {
    const last = this.segments[this.segments.length - 1]!;
    this.segments.push({ no: last.no + 1, lines: [], seqEnd: this.appendSeq });
    this.bytesSinceRotate = 0;
    return last.no;
  }

  /** Resolves when every record appended before this call is written (and fsynced when enabled). */
  flush(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    const target = this.appendSeq;
    if (this.durableSeq >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq: target, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = this.loop()
      .catch((e: unknown) => {
        this.failed = e;
        const w = this.waiters;
        this.waiters = [];
        for (const x of w) x.reject(e);
      })
      .finally(() => {
        this.writing = undefined;
        if (this.failed === undefined && this.waiters.length > 0) this.kick();
      });
  }

  private async loop(): Promise<void> {
    for (;;) {
      const seg = this.segments[0]!;
      if (seg.lines.length > 0) {
        const data = seg.lines.join('');
        const upto = seg.seqEnd;
        seg.lines = [];
        seg.fh ??= await open(journalPath(this.dir, seg.no), 'a');
        await seg.fh.write(data);
        if (this.fsync) await seg.fh.datasync();
        this.durableSeq = Math.max(this.durableSeq, upto);
        this.release();
        continue;
      }
      if (this.segments.length > 1) {
        // Everything of this segment is written; later appends go to the next one.
        this.durableSeq = Math.max(this.durableSeq, seg.seqEnd);
        await seg.fh?.close();
        this.segments.shift();
        continue;
      }
      this.release();
      return;
    }
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.seq <= this.durableSeq) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Flushes and closes the current file. */
  async close(): Promise<void> {
    if (this.failed === undefined) await this.flush();
    for (const s of this.segments) await s.fh?.close();
    this.segments.splice(0, this.segments.length - 1);
    const last = this.segments[0]!;
    last.fh = undefined;
  }

  /** Deletes journal files numbered <= `no`. */
  static async removeUpTo(dir: string, no: number): Promise<void> {
    for (const n of await listJournals(dir)) if (n <= no) await unlink(journalPath(dir, n));
  }
}
