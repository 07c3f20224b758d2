/**
 * The envelope's runtime constants, free of any schema library: the decoder (shared/ingest/decode.ts, map.ts) imports
 * these, so the ingest Lambda bundle doesn't carry TypeBox. `shared/ingest/envelope.ts` builds the JSON Schema from the
 * same constants and re-exports them.
 */

import { RESERVED_NAME_LOOKAHEAD } from './exposed-names';
import { MAX_NAME_LENGTH } from './names';

/** The only envelope version this decoder accepts. */
export const ENVELOPE_VERSION = 1;

/** Bounds of the envelope; the label limits come from `StoreLimits` (configurable), these don't. */
export const ENVELOPE_LIMITS = {
  /** SQS's message size limit (256 KiB); the decoder refuses larger bodies. */
  maxMessageBytes: 262_144,
  /** Characters of the producer's idempotency key. */
  maxIdLength: 128,
  /** Characters of a metric name in a generic event. */
  maxNameLength: MAX_NAME_LENGTH,
  /** Characters of HELP text in a generic event. */
  maxHelpLength: 1024,
  /** Finite bucket bounds of a generic histogram. */
  maxBuckets: 64,
  /** Largest magnitude of a generic value / observation / bucket bound (2^53): beyond it, sums lose integers. */
  maxAbsValue: 2 ** 53,
  /** Largest event time: the end of JavaScript's Date range (year 275760). */
  maxTimeMs: 8.64e15,
  /** Allowed skew: event times later than the decoder's clock plus this are clamped to it (a far-future gauge set would pin the gauge). */
  maxFutureMs: 300_000,
} as const;

/** Names starting with this prefix belong to Accrue's own metrics and are refused in events. */
export { RESERVED_PREFIX } from './exposed-names';

/** Idempotency key: URL/ID-safe characters; `#` is excluded because the store reserves `<id>#<n>`. */
export const ID_PATTERN = '^[A-Za-z0-9_.:/@+=-]+$';
export const LABEL_NAME_PATTERN = '^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$';
/** Metric names; refuses the reserved names (`reservedNameProblem`: `__`, `accrue_`, the per-group gauges). */
export const METRIC_NAME_PATTERN = `^${RESERVED_NAME_LOOKAHEAD}[a-zA-Z_:][a-zA-Z0-9_:]*$`;
/** Label values may hold anything but NUL (Accrue's identity-key separator). */
export const LABEL_VALUE_PATTERN = '^[^\\u0000]*$';

/** Kinds the envelope defines itself; a profile may not declare events with these names. */
export const GENERIC_KINDS = ['counter', 'gauge', 'histogram', 'push'] as const;
