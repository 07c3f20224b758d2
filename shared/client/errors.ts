/**
 * Errors of the producer client. Invalid input throws `ValidationError` (shared/model/errors.ts) at the
 * call site; everything that goes wrong later (sending) is reported through `onError` and `stats()`.
 */
import { AccrueError, RejectReason } from '../model/errors';

/** The publisher's buffer is full: the event was NOT accepted (see `PublisherOptions.whenFull`). */
export class BufferFullError extends AccrueError {
  readonly bufferedEvents: number;
  readonly bufferedBytes: number;
  constructor(bufferedEvents: number, bufferedBytes: number, maxEvents: number, maxBytes: number) {
    super(
      RejectReason.limit,
      `publisher buffer is full (${bufferedEvents}/${maxEvents} events, ${bufferedBytes}/${maxBytes} bytes): ` +
        'the event was dropped; raise maxBufferedEvents/maxBufferedBytes or check why sending is slow (onError)',
      false,
    );
    this.bufferedEvents = bufferedEvents;
    this.bufferedBytes = bufferedBytes;
  }
}

/** An event was offered after `close()` began. */
export class PublisherClosedError extends AccrueError {
  constructor() {
    super('internal', 'publisher is closed: events can no longer be accepted (create a new AccruePublisher)');
  }
}

/** One message that could not be delivered to SQS: its body is kept so the caller can store or resend it. */
export interface FailedMessage {
  /** The envelope's idempotency key; resending the same body later is still counted once. */
  readonly id: string;
  readonly body: string;
  readonly events: number;
  readonly attempts: number;
}

/**
 * Messages that could not be sent: a permanent SQS error (e.g. the queue doesn't exist, access denied,
 * an entry refused with SenderFault) or a transient one that outlived `maxAttempts`, or `close()` timed out.
 */
export class PublishError extends AccrueError {
  readonly messages: readonly FailedMessage[];
  readonly events: number;
  constructor(messages: readonly FailedMessage[], detail: string, permanent: boolean, cause?: unknown) {
    const events = messages.reduce((n, m) => n + m.events, 0);
    super(
      permanent ? 'internal' : 'transient',
      `could not send ${messages.length} message(s) with ${events} event(s) to SQS: ${detail}`,
      permanent,
    );
    this.messages = messages;
    this.events = events;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}
