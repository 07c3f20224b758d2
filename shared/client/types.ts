/** Options, statistics and the typed ARIA event inputs of `AccruePublisher`. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AnyEvent } from '../ingest/envelope';
import type { AccrueError } from '../model/errors';
import type { CompiledProfile } from '../profiles/types';

export interface PublisherOptions {
  /** URL of the ingest queue. */
  readonly queueUrl: string;
  /** Grouping key of every message, like the Pushgateway's `/metrics/job/<job>/<label>/<value>`. */
  readonly group: { readonly job: string } & Readonly<Record<string, string>>;
  /** An SQS client to use (e.g. with your credentials, or test middleware). Built from the fields below when absent. */
  readonly sqs?: SQSClient;
  /** Endpoint override (emulators, LocalStack). */
  readonly endpoint?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Credentials for the built client. @default the SDK's default chain (env, profile, role) */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Profile for validating domain events. @default the built-in ARIA profile */
  readonly profile?: CompiledProfile;
  /** Largest message body in bytes (UTF-8). @default 262144 (SQS's 256 KiB) */
  readonly maxMessageBytes?: number;
  /** Largest SendMessageBatch payload in bytes (sum of bodies). @default 262144 */
  readonly maxBatchBytes?: number;
  /** Partial messages are sealed and sent at least this often. @default 1000 */
  readonly flushIntervalMs?: number;
  /** Buffer bound, in events (pending + sealed + in flight). @default 100000 */
  readonly maxBufferedEvents?: number;
  /** Buffer bound, in bytes of encoded events. @default 64 MiB */
  readonly maxBufferedBytes?: number;
  /**
   * What happens when the buffer is full: 'drop' — the call returns false, the event is counted in
   * `stats().eventsDropped` and `onError` receives a `BufferFullError` (once per full episode);
   * 'throw' — the call throws `BufferFullError`. @default 'drop'
   */
  readonly whenFull?: 'drop' | 'throw';
  /** Attempts per message (first send + retries) before it is reported failed. @default 10 */
  readonly maxAttempts?: number;
  /** Backoff base and cap; delays are full-jitter exponential: random(0, min(cap, base·2^attempt)). @default 100 / 20000 */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Concurrent SendMessageBatch calls. @default 4 */
  readonly maxConcurrentSends?: number;
  /** Receives every error that is not thrown at a call site: failed sends, buffer-full episodes. */
  readonly onError?: (error: AccrueError) => void;
  /** Clock for default event times and validation (scheduling uses the real clock) and randomness (jitter); injectable for tests. */
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface PublisherStats {
  /** Events accepted into the buffer. accepted = sent + failed + buffered (always). */
  readonly eventsAccepted: number;
  readonly eventsSent: number;
  /** Events in messages that could not be sent (reported through onError with their bodies). */
  readonly eventsFailed: number;
  /** Events refused because the buffer was full (never accepted). */
  readonly eventsDropped: number;
  /** Events still buffered or in flight. */
  readonly eventsBuffered: number;
  readonly bytesBuffered: number;
  readonly messagesSent: number;
  readonly messagesFailed: number;
  /** Message re-sends after a failed call or a Failed batch entry. */
  readonly messagesRetried: number;
  readonly sendCalls: number;
  readonly failedCalls: number;
}

/** Fields of an ARIA domain event, without `kind`; `time` defaults to now. Names as in the envelope. */
export interface ExecutionEvent {
  readonly symbol: string;
  readonly action: 'BUY' | 'SELL';
  readonly status: 'success' | 'failed';
  readonly regime: 'T' | 'R' | 'B';
  readonly latency_seconds: number;
  readonly slippage_pips: number;
  readonly volume?: number;
  readonly time?: number;
}
export interface ErrorEvent {
  readonly error_type: string;
  readonly symbol: string;
  readonly time?: number;
}
export interface PnlEvent {
  readonly type: 'real_time' | 'daily';
  readonly value: number;
  readonly time?: number;
}
export interface PerformanceEvent {
  readonly win_rate: number;
  readonly drawdown_percent: number;
  readonly time?: number;
}
export interface ConnectionEvent {
  readonly connected: boolean;
  readonly time?: number;
}
export interface KillSwitchEvent {
  readonly active: boolean;
  readonly time?: number;
}

interface GenericBase {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly help?: string;
  readonly time?: number;
}
export interface CounterInput extends GenericBase {
  /** >= 0. @default 1 */
  readonly value?: number;
}
export interface GaugeSetInput extends GenericBase {
  readonly value: number;
}
export interface GaugeAddInput extends GenericBase {
  /** @default 1 */
  readonly value?: number;
}
export interface HistogramInput extends GenericBase {
  readonly value: number;
  /** Finite upper bounds, strictly ascending (one layout per family). */
  readonly buckets: readonly number[];
}

/**
 * Any envelope event (generic or a domain event of the profile), as in `AnyEvent`; `time` may be left
 * out (defaults to now). Checked at runtime against the envelope's rules and the profile.
 */
export type PublishableEvent = Readonly<Record<string, unknown>> & {
  readonly kind: AnyEvent['kind'];
  readonly time?: number;
};
