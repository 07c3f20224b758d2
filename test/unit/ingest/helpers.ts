import { type DecodedMessage, type DecodeOptions, decodeMessage } from '../../../shared/ingest/decode';
import { ARIA_PROFILE } from '../../../shared/profiles/load';
import type { CompiledProfile } from '../../../shared/profiles/types';

export const T0 = 1_767_225_600_000;
/** The decoder's clock in tests: a fixed time after every T0-based event. */
export const NOW = T0 + 3_600_000;

export type Json = Record<string, unknown>;

export function envelope(
  events: unknown[],
  group: Json = { job: 'aria', instance: 'eu-1' },
  extra: Json = {},
): Json {
  return { v: 1, group, events, ...extra };
}

export function execution(over: Json = {}): Json {
  return {
    kind: 'execution',
    time: T0,
    symbol: 'EURUSD',
    action: 'BUY',
    status: 'success',
    regime: 'T',
    latency_seconds: 0.02,
    slippage_pips: 0.3,
    ...over,
  };
}

/** Decodes a message built from `events` (or a raw body string). */
export function decode(
  events: unknown[] | string,
  opts: DecodeOptions & { group?: Json; profile?: CompiledProfile } = {},
): DecodedMessage {
  const body = typeof events === 'string' ? events : JSON.stringify(envelope(events, opts.group));
  return decodeMessage(body, 'sqs-message-id', opts.profile ?? ARIA_PROFILE, { nowMs: NOW, ...opts });
}

/** Decodes one event; returns the rejection (or undefined when accepted). */
export function rejectionOf(event: unknown, opts: Parameters<typeof decode>[1] = {}) {
  const r = decode([event], opts);
  return r.rejected[0];
}

/** Builds a JSON text from parts where some values can't be written by JSON.stringify (1e400, __proto__). */
export function rawEvent(fields: string): string {
  return `{"v":1,"group":{"job":"aria"},"events":[${fields}]}`;
}
