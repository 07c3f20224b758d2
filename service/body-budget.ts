/**
 * A bound on push bodies in memory (docs/security.md "Limits"): every push holds a share of one budget
 * (`ACCRUE_MAX_INFLIGHT_BODY_BYTES`) for as long as its bytes are in memory — its declared `Content-Length`
 * up front, bytes beyond that (chunked bodies) as they arrive, and the inflated size of a gzip body. A push
 * that would overdraw the budget is refused at once with 503 `overloaded` and `Retry-After`, before its
 * body is read, so stalled and slow uploads can never hold more than the budget; small pushes keep a
 * reserve of their own, so a few large stalled uploads can't lock out normal pushes.
 *
 * A finished or refused body is not gone when its request ends: its chunks stay in memory until the
 * garbage collector runs, and V8 lets up to 64 MiB of such buffers pile up before it collects. So the
 * bytes a body received stay on the budget until the next full collection that starts after the request
 * ended (observed through `perf_hooks`), or `collectWaitMs` at most; what was reserved but never arrived
 * is given back at once. Without this, a flood of refused uploads cycled the budget several times per
 * collection, and the process kept the high-water mark (glibc does not give the freed middle of its heap
 * back to the system): `npm run hostile` measured 294–313 MiB RSS, now under the 300 MiB target
 * (docs/security.md "Memory under attack").
 *
 * Parsing is bounded separately: at most `maxLargeParses` bodies over `LARGE_BODY_BYTES` are parsed at
 * once (their parsed objects are several times their size); others wait their turn.
 */
import {
  constants as gcKinds,
  type PerformanceEntry,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks';
import { Transform, type TransformCallback } from 'node:stream';
import { AccrueError, RejectReason } from '../shared/model/errors';

export class OverloadedError extends AccrueError {
  readonly retryAfterSeconds = 1;
  constructor(what: string) {
    super(RejectReason.overloaded, `overloaded: ${what}; retry later`, false);
  }
}

/** Bodies up to this size draw on the small-push reserve when the main budget is used up. */
export const SMALL_BODY_BYTES = 64 * 1024;
/** Bodies over this size take a parse slot. */
export const LARGE_BODY_BYTES = 1024 * 1024;
/** Longest a finished body's bytes stay on the budget when no full garbage collection runs meanwhile. */
export const COLLECT_WAIT_MS = 2000;

/** Bytes of a finished body, given back once they are collected. */
interface Uncollected {
  readonly main: number;
  readonly small: number;
  /** performance.now() when the body finished. */
  readonly atMs: number;
}

/** GC kinds that free old-generation buffers (a body's chunks outlive young-generation collections). */
const FULL_GC: ReadonlySet<number> = new Set([
  gcKinds.NODE_PERFORMANCE_GC_MAJOR,
  gcKinds.NODE_PERFORMANCE_GC_INCREMENTAL,
]);

export class BodyBudget {
  private used = 0;
  private smallUsed = 0;
  private largeParses = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly uncollected: Uncollected[] = [];
  private gcWatch: PerformanceObserver | undefined;
  private gcTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly maxBytes: number,
    /** Extra bytes only small pushes may use (default: an eighth of the budget, at least 1 MiB). */
    readonly smallReserveBytes = Math.max(1024 * 1024, Math.floor(maxBytes / 8)),
    readonly maxLargeParses = 2,
    readonly collectWaitMs = COLLECT_WAIT_MS,
  ) {}

  /** Bytes held now (main budget and small reserve). */
  get inUse(): number {
    return this.used + this.smallUsed;
  }

  /** A new hold; throws OverloadedError when `initialBytes` don't fit. */
  open(initialBytes: number): BodyHold {
    const hold = new BodyHold(this);
    hold.add(initialBytes);
    return hold;
  }

  /** Takes `n` bytes for a hold that already has `held`; false when they don't fit anywhere. */
  take(n: number, held: number): 'main' | 'small' | undefined {
    if (this.used + n <= this.maxBytes) {
      this.used += n;
      return 'main';
    }
    if (held + n <= SMALL_BODY_BYTES && this.smallUsed + n <= this.smallReserveBytes) {
      this.smallUsed += n;
      return 'small';
    }
    return undefined;
  }

  give(main: number, small: number): void {
    this.used -= main;
    this.smallUsed -= small;
  }

  /** Gives `main`/`small` back once a full collection has run since now (or after `collectWaitMs`). */
  giveWhenCollected(main: number, small: number): void {
    if (main + small <= 0) return;
    this.uncollected.push({ main, small, atMs: performance.now() });
    this.gcWatch ??= this.watchCollections();
    this.gcTimer ??= this.waitAtMost();
  }

  /** Gives back now whatever waits for a collection (the server is closing). */
  close(): void {
    this.giveBack(Number.POSITIVE_INFINITY);
  }

  private watchCollections(): PerformanceObserver {
    const watch = new PerformanceObserver((list) => {
      for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[])
        if (FULL_GC.has(e.detail?.kind ?? 0)) this.giveBack(e.startTime);
    });
    watch.observe({ entryTypes: ['gc'] });
    return watch;
  }

  private waitAtMost(): NodeJS.Timeout | undefined {
    const first = this.uncollected[0];
    if (!first) return undefined;
    const t = setTimeout(
      () => {
        this.gcTimer = undefined;
        this.giveBack(performance.now() - this.collectWaitMs + 1);
        // libuv's cached loop time can fire a timer a little early: nothing was due yet, so wait again.
        this.gcTimer ??= this.waitAtMost();
      },
      Math.max(0, first.atMs + this.collectWaitMs - performance.now()),
    );
    t.unref();
    return t;
  }

  /** Gives back the bodies that finished before `beforeMs` (a collection that started then freed them). */
  private giveBack(beforeMs: number): void {
    let n = 0;
    while (n < this.uncollected.length && this.uncollected[n]!.atMs < beforeMs) {
      const u = this.uncollected[n++]!;
      this.give(u.main, u.small);
    }
    if (n === 0) return;
    this.uncollected.splice(0, n);
    clearTimeout(this.gcTimer);
    this.gcTimer = this.waitAtMost();
    if (this.uncollected.length === 0) {
      this.gcWatch?.disconnect();
      this.gcWatch = undefined;
    }
  }

  /** Runs `fn` holding a parse slot when `bytes` is large (waits for one). */
  async parse<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    if (bytes <= LARGE_BODY_BYTES) return fn();
    while (this.largeParses >= this.maxLargeParses) await new Promise<void>((r) => this.waiting.push(r));
    this.largeParses++;
    try {
      return await fn();
    } finally {
      this.largeParses--;
      this.waiting.shift()?.();
    }
  }
}

/** One request's share of the budget; `release()` (idempotent) gives it all back. */
export class BodyHold {
  private main = 0;
  private small = 0;
  /** Bytes of this body that reached memory (chunks read, the inflated body); the rest was only reserved. */
  private received = 0;
  private released = false;

  constructor(private readonly budget: BodyBudget) {}

  get bytes(): number {
    return this.main + this.small;
  }

  /** Takes `n` more bytes; throws OverloadedError when they don't fit. */
  add(n: number): void {
    if (n <= 0 || this.released) return;
    const where = this.budget.take(n, this.bytes);
    if (where === undefined)
      throw new OverloadedError(
        `push bodies in memory would exceed ${this.budget.maxBytes} bytes (ACCRUE_MAX_INFLIGHT_BODY_BYTES)`,
      );
    if (where === 'main') this.main += n;
    else this.small += n;
  }

  /** `n` bytes of the body are now in memory; the first `covered` of them were reserved already. */
  take(n: number, covered: number): void {
    this.add(Math.max(0, n - Math.max(0, covered)));
    this.received += n;
  }

  /**
   * The request is over: what was reserved but never arrived is given back now, what arrived once the
   * garbage collector has had a chance to free it.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    const inMemory = Math.min(this.received, this.main + this.small);
    const main = Math.min(this.main, inMemory);
    const small = Math.min(this.small, inMemory - main);
    this.budget.give(this.main - main, this.small - small);
    this.budget.giveWhenCollected(main, small);
    this.main = 0;
    this.small = 0;
  }

  /**
   * A pass-through for the request body that takes budget for every byte past `covered` (what the
   * declared Content-Length already reserved) and fails the stream when the budget is exhausted.
   */
  meter(covered: number): Transform {
    let seen = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) => {
        const before = seen;
        seen += chunk.length;
        try {
          this.take(chunk.length, covered - before);
        } catch (err) {
          cb(err as Error);
          return;
        }
        cb(null, chunk);
      },
    });
  }
}

const holds = new WeakMap<object, BodyHold>();

/** The request's hold (after `budgetHooks.onRequest`), to add the inflated size of a gzip body. */
export function holdOf(req: { readonly raw: object }): BodyHold | undefined {
  return holds.get(req.raw);
}

/**
 * Route hooks that put a push on the budget: `onRequest` reserves the declared `Content-Length` (refused
 * before anything is read when it doesn't fit; a declared size over the body limit is left to fastify's
 * 413), `preParsing` meters bytes past it, and the hold is released when the response is done or the
 * connection is gone.
 */
export function budgetHooks(budget: BodyBudget, maxBodyBytes: number) {
  return {
    onRequest: async (
      req: {
        readonly raw: import('node:http').IncomingMessage;
        readonly headers: import('node:http').IncomingHttpHeaders;
      },
      reply: { readonly raw: import('node:http').ServerResponse },
    ) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      const initial = Number.isFinite(declared) && declared > 0 && declared <= maxBodyBytes ? declared : 0;
      const hold = budget.open(initial);
      holds.set(req.raw, hold);
      reply.raw.once('close', () => hold.release());
    },
    preParsing: async (
      req: { readonly raw: object; readonly headers: import('node:http').IncomingHttpHeaders },
      _reply: unknown,
      payload: NodeJS.ReadableStream,
    ) => {
      const hold = holds.get(req.raw);
      if (hold === undefined) return payload;
      const meter = hold.meter(hold.bytes);
      // fastify stops listening once it has refused the body (e.g. 413); a later error (the budget, an
      // abort) must not become an uncaught 'error' event that ends the process.
      meter.on('error', () => undefined);
      payload.on('error', (err: Error) => meter.destroy(err));
      payload.on('aborted', () => meter.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
      return payload.pipe(meter);
    },
  };
}
