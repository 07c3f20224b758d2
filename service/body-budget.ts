/**
 * A bound on push bodies in memory (docs/security.md "Limits"): every push holds a share of one budget
 * (`ACCRUE_MAX_INFLIGHT_BODY_BYTES`) for as long as it is in flight — its declared `Content-Length` up
 * front, bytes beyond that (chunked bodies) as they arrive, and the inflated size of a gzip body. A push
 * that would overdraw the budget is refused at once with 503 `overloaded` and `Retry-After`, before its
 * body is read, so stalled and slow uploads can never hold more than the budget; small pushes keep a
 * reserve of their own, so a few large stalled uploads can't lock out normal pushes.
 *
 * Parsing is bounded separately: at most `maxLargeParses` bodies over `LARGE_BODY_BYTES` are parsed at
 * once (their parsed objects are several times their size); others wait their turn.
 */
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

export class BodyBudget {
  private used = 0;
  private smallUsed = 0;
  private largeParses = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly maxBytes: number,
    /** Extra bytes only small pushes may use (default: an eighth of the budget, at least 1 MiB). */
    readonly smallReserveBytes = Math.max(1024 * 1024, Math.floor(maxBytes / 8)),
    readonly maxLargeParses = 2,
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

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.main, this.small);
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
        const extra = Math.max(0, seen - Math.max(covered, before));
        try {
          this.add(extra);
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
