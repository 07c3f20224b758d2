/**
 * AccruePublisher: the producer side of Accrue. Trading code calls `publisher.execution({...})`,
 * `publisher.counter({...})`, … ; the publisher batches events into envelope v1 messages (at most
 * `maxMessageBytes`, measured in encoded UTF-8 bytes), messages into SendMessageBatch calls (at most 10
 * entries and `maxBatchBytes`), and sends them on size and on an interval.
 *
 * Delivery rules (docs/client.md):
 * - Every message gets a random idempotency key (`id`, a UUID) when it is sealed; its body never changes
 *   afterwards. A retry re-sends the SAME body, so Accrue counts it once however often SQS delivers it.
 * - A failed call is retried for transient errors (throttling, 5xx, network); a partially failed batch
 *   retries ONLY its `Failed` entries (SenderFault entries are permanent). Backoff is full-jitter
 *   exponential. After `maxAttempts`, or on a permanent error, the messages are reported to `onError`
 *   as a `PublishError` carrying their bodies, and counted in `stats().eventsFailed` — never dropped silently.
 * - The buffer is bounded (`maxBufferedEvents`, `maxBufferedBytes`); when full, a call returns false
 *   (or throws, `whenFull: 'throw'`) and the event is counted in `stats().eventsDropped`.
 * - Invalid events throw `ValidationError` at the call site (with the field and the rule) and are not
 *   accepted: nothing half applied.
 * - `close()` seals and sends everything, then resolves with the final stats.
 *
 * Invariant: eventsAccepted = eventsSent + eventsFailed + eventsBuffered.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type AccrueError, RejectReason, ValidationError } from '../model/errors';
import { ARIA_PROFILE } from '../profiles/load';
import type { CompiledProfile } from '../profiles/types';
import { normalizeGroupingKey } from '../store/grouping';
import { BufferFullError, type FailedMessage, PublishError, PublisherClosedError } from './errors';
import {
  backoffMs,
  buildBody,
  type EncodedEvent,
  encodeEvent,
  envelopeOverhead,
  ID_LENGTH,
  isTransientError,
  packBatches,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_BYTES,
} from './packing';
import type {
  ConnectionEvent,
  CounterInput,
  ErrorEvent,
  ExecutionEvent,
  GaugeAddInput,
  GaugeSetInput,
  HistogramInput,
  KillSwitchEvent,
  PerformanceEvent,
  PnlEvent,
  PublishableEvent,
  PublisherOptions,
  PublisherStats,
} from './types';
import { eventProblems } from './validate';

interface Message {
  readonly seq: number;
  readonly id: string;
  readonly body: string;
  readonly bytes: number;
  readonly events: number;
  /** Bytes of the encoded events (what the buffer bound counts). */
  readonly eventBytes: number;
  attempts: number;
  notBefore: number;
}

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
}

const DEFAULTS = {
  flushIntervalMs: 1000,
  maxBufferedEvents: 100_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxAttempts: 10,
  backoffBaseMs: 100,
  backoffMaxMs: 20_000,
  maxConcurrentSends: 4,
} as const;

function positive(
  problems: { path: string; message: string }[],
  name: string,
  v: number | undefined,
  max = Infinity,
) {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v <= 0 || v > max)
    problems.push({ path: name, message: `must be a number > 0${max < Infinity ? ` and <= ${max}` : ''}` });
}

export class AccruePublisher {
  readonly queueUrl: string;
  readonly group: Readonly<Record<string, string>>;
  private readonly sqs: SQSClient;
  private readonly ownsClient: boolean;
  private readonly profile: CompiledProfile;
  private readonly groupJson: string;
  private readonly overhead: number;
  private readonly maxMessageBytes: number;
  private readonly maxBatchBytes: number;
  private readonly maxBufferedEvents: number;
  private readonly maxBufferedBytes: number;
  private readonly whenFull: 'drop' | 'throw';
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxConcurrentSends: number;
  private readonly onError: (e: AccrueError) => void;
  private readonly now: () => number;
  private readonly random: () => number;

  private current: EncodedEvent[] = [];
  private currentBytes = 0;
  private readonly ready: Message[] = [];
  private readonly outstanding = new Set<Message>();
  private waiters: Waiter[] = [];
  private seq = 0;
  private inflightCalls = 0;
  private closing = false;
  private closed: Promise<PublisherStats> | undefined;
  private fullEpisode = false;
  /** Set when close() timed out: failures are reported at once instead of retried. */
  private givenUp = false;
  private readonly interval: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Infinity;

  private s = {
    eventsAccepted: 0,
    eventsSent: 0,
    eventsFailed: 0,
    eventsDropped: 0,
    eventsBuffered: 0,
    bytesBuffered: 0,
    messagesSent: 0,
    messagesFailed: 0,
    messagesRetried: 0,
    sendCalls: 0,
    failedCalls: 0,
  };

  /** Gauge operations: `set` (last writer wins by event time), `inc` / `dec` (added exactly once). */
  readonly gauge = {
    set: (i: GaugeSetInput): boolean => this.publish({ ...i, kind: 'gauge', op: 'set' }),
    inc: (i: GaugeAddInput): boolean => this.publish({ ...i, kind: 'gauge', op: 'inc' }),
    dec: (i: GaugeAddInput): boolean => this.publish({ ...i, kind: 'gauge', op: 'dec' }),
  };

  /** Histogram observation with its bucket layout (one layout per family). */
  readonly histogram = {
    observe: (i: HistogramInput): boolean =>
      this.publish({
        ...i,
        kind: 'histogram',
        buckets: Array.isArray(i.buckets) ? [...i.buckets] : i.buckets,
      }),
  };

  constructor(options: PublisherOptions) {
    const problems: { path: string; message: string }[] = [];
    if (typeof options.queueUrl !== 'string' || !/^https?:\/\//.test(options.queueUrl)) {
      problems.push({ path: 'queueUrl', message: 'must be the http(s) URL of the SQS queue' });
    }
    positive(problems, 'maxMessageBytes', options.maxMessageBytes, SQS_MAX_BYTES);
    positive(problems, 'maxBatchBytes', options.maxBatchBytes, SQS_MAX_BYTES);
    positive(problems, 'flushIntervalMs', options.flushIntervalMs);
    positive(problems, 'maxBufferedEvents', options.maxBufferedEvents);
    positive(problems, 'maxBufferedBytes', options.maxBufferedBytes);
    positive(problems, 'maxAttempts', options.maxAttempts);
    positive(problems, 'maxConcurrentSends', options.maxConcurrentSends);
    if (options.whenFull !== undefined && options.whenFull !== 'drop' && options.whenFull !== 'throw') {
      problems.push({ path: 'whenFull', message: 'must be "drop" or "throw"' });
    }
    let group: Readonly<Record<string, string>> = {};
    try {
      group = normalizeGroupingKey(options.group ?? {}, 'legacy');
    } catch (e) {
      if (e instanceof ValidationError) problems.push(...e.problems);
      else throw e;
    }
    if (problems.length > 0) throw new ValidationError(problems);

    this.queueUrl = options.queueUrl;
    this.group = group;
    this.groupJson = JSON.stringify(Object.fromEntries(Object.entries(group)));
    this.overhead = envelopeOverhead(this.groupJson, ID_LENGTH);
    this.maxMessageBytes = options.maxMessageBytes ?? SQS_MAX_BYTES;
    this.maxBatchBytes = Math.max(options.maxBatchBytes ?? SQS_MAX_BYTES, this.maxMessageBytes);
    if (this.overhead + 2 > this.maxMessageBytes) {
      throw new ValidationError([
        {
          path: 'maxMessageBytes',
          message: `must leave room for events: the envelope alone is ${this.overhead} bytes`,
        },
      ]);
    }
    this.maxBufferedEvents = options.maxBufferedEvents ?? DEFAULTS.maxBufferedEvents;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes;
    this.whenFull = options.whenFull ?? 'drop';
    this.maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts;
    this.backoffBaseMs = options.backoffBaseMs ?? DEFAULTS.backoffBaseMs;
    this.backoffMaxMs = options.backoffMaxMs ?? DEFAULTS.backoffMaxMs;
    this.maxConcurrentSends = options.maxConcurrentSends ?? DEFAULTS.maxConcurrentSends;
    this.profile = options.profile ?? ARIA_PROFILE;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    const onError = options.onError;
    this.onError = (e) => {
      if (!onError) return;
      try {
        onError(e);
      } catch {
        // A throwing callback must not break delivery bookkeeping.
      }
    };
    if (options.sqs) {
      this.sqs = options.sqs;
      this.ownsClient = false;
    } else {
      // maxAttempts 1: the publisher retries itself (per entry, same body), with its own backoff.
      this.sqs = new SQSClient({
        region: options.region ?? 'us-east-1',
        maxAttempts: 1,
        // Bounded calls, so that close({ timeoutMs }) can't hang on a dead connection.
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
      this.ownsClient = true;
    }
    this.interval = setInterval(() => this.seal(), options.flushIntervalMs ?? DEFAULTS.flushIntervalMs);
    this.interval.unref();
  }

  // ---- typed ARIA events ----

  /** One order execution: latency and slippage histograms, traded volume. */
  execution(e: ExecutionEvent): boolean {
    return this.publish({ ...e, kind: 'execution' });
  }
  /** A trading error (`aria_errors_total{error_type, symbol}`). */
  error(e: ErrorEvent): boolean {
    return this.publish({ ...e, kind: 'error' });
  }
  /** A P&L reading (`aria_pnl_dollars{type}`, last writer wins by time). */
  pnl(e: PnlEvent): boolean {
    return this.publish({ ...e, kind: 'pnl' });
  }
  /** Win rate (0..1) and drawdown (percent). */
  performance(e: PerformanceEvent): boolean {
    return this.publish({ ...e, kind: 'performance' });
  }
  /** MT5 connection state. */
  connection(e: ConnectionEvent): boolean {
    return this.publish({ ...e, kind: 'connection' });
  }
  /** Kill switch state. */
  killSwitch(e: KillSwitchEvent): boolean {
    return this.publish({ ...e, kind: 'kill_switch' });
  }

  // ---- generic operations ----

  /** Counter increment (`value` >= 0, default 1). */
  counter(i: CounterInput): boolean {
    return this.publish({ ...i, kind: 'counter' });
  }

  /** A Pushgateway-style push of the publisher's group through the queue (text format 0.0.4 body). */
  push(method: 'PUT' | 'POST' | 'DELETE', body?: string): boolean {
    return this.publish(body === undefined ? { kind: 'push', method } : { kind: 'push', method, body });
  }

  /**
   * Any envelope event (generic, push, or a domain event of the profile). `time` defaults to now.
   * Returns true when accepted, false when dropped because the buffer is full (whenFull 'drop').
   * Throws ValidationError for an invalid event, BufferFullError (whenFull 'throw'), PublisherClosedError.
   */
  publish(event: PublishableEvent): boolean {
    if (this.closing) throw new PublisherClosedError();
    const now = this.now();
    const withTime = event.time === undefined ? { ...event, time: now } : event;
    const problems = eventProblems(withTime, this.profile, now);
    if (problems.length > 0) throw new ValidationError(problems);
    const enc = encodeEvent(withTime);
    if (this.overhead + enc.bytes > this.maxMessageBytes) {
      throw new ValidationError(
        [
          {
            path: 'event',
            message: `is ${enc.bytes} bytes encoded; a message holds at most ${this.maxMessageBytes - this.overhead} bytes of events`,
          },
        ],
        RejectReason.tooLarge,
      );
    }
    if (
      this.s.eventsBuffered + 1 > this.maxBufferedEvents ||
      this.s.bytesBuffered + enc.bytes > this.maxBufferedBytes
    ) {
      const err = new BufferFullError(
        this.s.eventsBuffered,
        this.s.bytesBuffered,
        this.maxBufferedEvents,
        this.maxBufferedBytes,
      );
      this.s.eventsDropped++;
      if (this.whenFull === 'throw') throw err;
      if (!this.fullEpisode) {
        this.fullEpisode = true;
        this.onError(err);
      }
      return false;
    }
    this.fullEpisode = false;
    if (this.current.length > 0 && this.overhead + this.currentBytes + 1 + enc.bytes > this.maxMessageBytes)
      this.seal();
    this.currentBytes += enc.bytes + (this.current.length > 0 ? 1 : 0);
    this.current.push(enc);
    this.s.eventsAccepted++;
    this.s.eventsBuffered++;
    this.s.bytesBuffered += enc.bytes;
    return true;
  }

  /** Seals the partial message and resolves when every event accepted before the call is sent or reported failed. */
  flush(): Promise<void> {
    this.seal();
    const target = this.seq;
    return new Promise((resolve) => {
      this.waiters.push({ seq: target, resolve });
      this.settleWaiters();
    });
  }

  /**
   * Stops accepting events, sends everything buffered, and resolves with the final stats. With
   * `timeoutMs`, messages still unsent when it elapses are reported to onError as failed (with their
   * bodies) instead of being retried further. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<PublisherStats> {
    if (this.closed) return this.closed;
    this.closing = true;
    // A retry already waiting must now keep the process alive until close() is done.
    this.retryTimer?.ref();
    this.closed = (async () => {
      clearInterval(this.interval);
      let timer: NodeJS.Timeout | undefined;
      const done = this.flush();
      if (options.timeoutMs !== undefined) {
        await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, options.timeoutMs)))]);
        clearTimeout(timer);
        this.giveUp('close() timed out before the messages could be sent');
      }
      await done;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      if (this.ownsClient) this.sqs.destroy();
      return this.stats();
    })();
    return this.closed;
  }

  stats(): PublisherStats {
    return { ...this.s };
  }

  // ---- internals ----

  private seal(): void {
    if (this.current.length === 0) return;
    const events = this.current;
    const id = randomUUID();
    const body = buildBody(id, this.groupJson, events);
    let eventBytes = 0;
    for (const e of events) eventBytes += e.bytes;
    const msg: Message = {
      seq: ++this.seq,
      id,
      body,
      bytes: Buffer.byteLength(body, 'utf8'),
      events: events.length,
      eventBytes,
      attempts: 0,
      notBefore: 0,
    };
    this.current = [];
    this.currentBytes = 0;
    this.ready.push(msg);
    this.outstanding.add(msg);
    this.pump();
  }

  private pump(): void {
    while (this.inflightCalls < this.maxConcurrentSends && this.ready.length > 0) {
      const now = Date.now();
      const due: Message[] = [];
      for (const m of this.ready) if (m.notBefore <= now) due.push(m);
      if (due.length === 0) break;
      const batch = packBatches(due, SQS_MAX_BATCH_ENTRIES, this.maxBatchBytes)[0]!;
      for (const m of batch) this.ready.splice(this.ready.indexOf(m), 1);
      this.inflightCalls++;
      void this.send(batch).finally(() => {
        this.inflightCalls--;
        this.pump();
        this.settleWaiters();
      });
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.ready.length === 0) return;
    let next = Infinity;
    for (const m of this.ready) next = Math.min(next, m.notBefore);
    if (this.retryTimer && next >= this.retryAt) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = next;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.retryAt = Infinity;
        this.pump();
      },
      Math.max(0, next - Date.now()),
    );
    // While close() waits for retries the process must stay alive; otherwise don't hold it open.
    if (!this.closing) this.retryTimer.unref();
  }

  private async send(batch: Message[]): Promise<void> {
    this.s.sendCalls++;
    try {
      const res = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((m, i) => ({ Id: `m${i}`, MessageBody: m.body })),
        }),
      );
      const ok = new Set((res.Successful ?? []).map((s) => s.Id));
      const failed = new Map((res.Failed ?? []).map((f) => [f.Id, f]));
      const permanent: Message[] = [];
      let permanentDetail = '';
      batch.forEach((m, i) => {
        const f = failed.get(`m${i}`);
        if (f) {
          if (f.SenderFault) {
            permanent.push(m);
            permanentDetail = `entry refused (SenderFault): ${f.Code ?? ''} ${f.Message ?? ''}`.trim();
          } else this.retry(m, `${f.Code ?? 'failed entry'}`);
        } else if (ok.has(`m${i}`)) this.succeeded(m);
        else this.retry(m, 'entry missing from the SendMessageBatch response');
      });
      if (permanent.length > 0) this.fail(permanent, permanentDetail, true);
    } catch (err) {
      this.s.failedCalls++;
      if (isTransientError(err)) for (const m of batch) this.retry(m, String(err), err);
      else
        this.fail(
          batch,
          `${(err as Error).name ?? 'Error'}: ${(err as Error).message ?? String(err)}`,
          true,
          err,
        );
    }
  }

  private succeeded(m: Message): void {
    this.outstanding.delete(m);
    this.s.messagesSent++;
    this.s.eventsSent += m.events;
    this.s.eventsBuffered -= m.events;
    this.s.bytesBuffered -= m.eventBytes;
  }

  private retry(m: Message, detail: string, cause?: unknown): void {
    m.attempts++;
    if (m.attempts >= this.maxAttempts || this.givenUp) {
      this.fail([m], `gave up after ${m.attempts} attempt(s): ${detail}`, false, cause);
      return;
    }
    this.s.messagesRetried++;
    m.notBefore = Date.now() + backoffMs(m.attempts - 1, this.backoffBaseMs, this.backoffMaxMs, this.random);
    this.ready.push(m);
  }

  private fail(ms: Message[], detail: string, permanent: boolean, cause?: unknown): void {
    const failed: FailedMessage[] = [];
    for (const m of ms) {
      if (!this.outstanding.delete(m)) continue;
      this.s.messagesFailed++;
      this.s.eventsFailed += m.events;
      this.s.eventsBuffered -= m.events;
      this.s.bytesBuffered -= m.eventBytes;
      failed.push({ id: m.id, body: m.body, events: m.events, attempts: m.attempts });
    }
    if (failed.length > 0) this.onError(new PublishError(failed, detail, permanent, cause));
  }

  /** close() timed out: report what is still waiting, and let in-flight calls finish without retrying. */
  private giveUp(detail: string): void {
    this.givenUp = true;
    const waiting = this.ready.splice(0, this.ready.length);
    if (waiting.length > 0) this.fail(waiting, detail, false);
    this.settleWaiters();
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    let minSeq = Infinity;
    for (const m of this.outstanding) if (m.seq < minSeq) minSeq = m.seq;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq < minSeq) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
