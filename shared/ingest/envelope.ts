/**
 * Envelope v1: the JSON body of one SQS message = one producer batch.
 *
 * ```json
 * { "v": 1, "id": "batch-0001", "group": { "job": "aria", "instance": "eu-1" },
 *   "events": [ { "kind": "execution", "time": 1767225600000, "symbol": "EURUSD", ... }, ... ] }
 * ```
 *
 * This file is the ONE source of the envelope's shape: the TypeBox schemas below give the TypeScript types
 * (`Static<>`), and `envelopeSchema(profile)` assembles the JSON Schema that `npm run schema` writes to
 * `schema/envelope-v1.schema.json` (domain events come from the profile). The hot path (decode.ts) does not
 * run a schema validator per event; it is a hand-written validator kept equivalent to this schema by
 * tests (test/unit/ingest/equivalence.test.ts). Rules a JSON Schema can't express (strictly ascending
 * buckets, event time not too far in the future, family consistency inside a message, labels colliding
 * with the group) are checked by the decoder only and documented in docs/events.md.
 *
 * Decisions (see docs/events.md):
 * - `time` is milliseconds since the Unix epoch, an integer: no date parsing on the hot path, no time
 *   zone ambiguity, and it is what `Date.now()` gives every JavaScript producer.
 * - Unknown fields are REJECTED (`additionalProperties: false`): a typo such as `latency_second` must not
 *   silently drop data. An unknown field on the envelope makes the whole message undecodable; on an event
 *   it rejects that event alone.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { CompiledProfile } from '../profiles/types';
import { DEFAULT_LIMITS } from '../store/types';

/** The only envelope version this decoder accepts. */
export const ENVELOPE_VERSION = 1;

/** Bounds of the envelope; the label limits come from `StoreLimits` (configurable), these don't. */
export const ENVELOPE_LIMITS = {
  /** SQS's message size limit (256 KiB); the decoder refuses larger bodies. */
  maxMessageBytes: 262_144,
  /** Characters of the producer's idempotency key. */
  maxIdLength: 128,
  /** Characters of a metric name in a generic event. */
  maxNameLength: 256,
  /** Characters of HELP text in a generic event. */
  maxHelpLength: 1024,
  /** Finite bucket bounds of a generic histogram. */
  maxBuckets: 64,
  /** Largest magnitude of a generic value / observation / bucket bound (2^53): beyond it, sums lose integers. */
  maxAbsValue: 2 ** 53,
  /** Largest event time: the end of JavaScript's Date range (year 275760). */
  maxTimeMs: 8.64e15,
  /** How far an event time may lie ahead of the decoder's clock (a far-future gauge set would pin the gauge). */
  maxFutureMs: 300_000,
} as const;

/** Names starting with this prefix belong to Accrue's own metrics and are refused in events. */
export const RESERVED_PREFIX = 'accrue_';

/** Idempotency key: URL/ID-safe characters; `#` is excluded because the store reserves `<id>#<n>`. */
export const ID_PATTERN = '^[A-Za-z0-9_.:/@+=-]+$';
export const LABEL_NAME_PATTERN = '^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$';
/** Metric names; refuses the reserved prefix and the per-group gauges the renderer adds. */
export const METRIC_NAME_PATTERN =
  '^(?!accrue_|push_time_seconds$|push_failure_time_seconds$)[a-zA-Z_:][a-zA-Z0-9_:]*$';
/** Label values may hold anything but NUL (Accrue's identity-key separator). */
export const LABEL_VALUE_PATTERN = '^[^\\u0000]*$';

export const EventTime = Type.Integer({
  minimum: 0,
  maximum: ENVELOPE_LIMITS.maxTimeMs,
  description:
    'Event time in milliseconds since the Unix epoch (integer). Gauge sets: last writer wins by this time.',
});

export const LabelValue = Type.String({
  maxLength: DEFAULT_LIMITS.maxLabelValueLength,
  pattern: LABEL_VALUE_PATTERN,
  description: 'Any text except NUL; at most maxLabelValueLength characters (1024 by default).',
});

export const LabelSet = Type.Record(Type.String({ pattern: LABEL_NAME_PATTERN }), LabelValue, {
  additionalProperties: false,
  maxProperties: DEFAULT_LIMITS.maxLabelsPerSeries,
  description:
    'Series labels (without the group labels). Names [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__".',
});

const MetricName = Type.String({
  minLength: 1,
  maxLength: ENVELOPE_LIMITS.maxNameLength,
  pattern: METRIC_NAME_PATTERN,
  description:
    'Metric name [a-zA-Z_:][a-zA-Z0-9_:]*; the prefix "accrue_", push_time_seconds and push_failure_time_seconds are reserved.',
});
const Help = Type.String({
  maxLength: ENVELOPE_LIMITS.maxHelpLength,
  description: 'HELP text; the first non-empty one wins.',
});
const Value = (description: string, minimum: number = -ENVELOPE_LIMITS.maxAbsValue) =>
  Type.Number({ minimum, maximum: ENVELOPE_LIMITS.maxAbsValue, description });

export const CounterEvent = Type.Object(
  {
    kind: Type.Literal('counter'),
    time: EventTime,
    name: MetricName,
    labels: Type.Optional(LabelSet),
    value: Type.Optional(Value('Increment, >= 0. Default 1.', 0)),
    help: Type.Optional(Help),
  },
  { additionalProperties: false, description: 'Counter increment of any metric.' },
);
export type CounterEvent = Static<typeof CounterEvent>;

export const GaugeSetEvent = Type.Object(
  {
    kind: Type.Literal('gauge'),
    time: EventTime,
    op: Type.Literal('set'),
    name: MetricName,
    labels: Type.Optional(LabelSet),
    value: Value('The new value.'),
    help: Type.Optional(Help),
  },
  { additionalProperties: false, description: 'Gauge set: last writer wins by event time.' },
);
export const GaugeAddEvent = Type.Object(
  {
    kind: Type.Literal('gauge'),
    time: EventTime,
    op: Type.Union([Type.Literal('inc'), Type.Literal('dec')]),
    name: MetricName,
    labels: Type.Optional(LabelSet),
    value: Type.Optional(Value('The amount added (inc) or subtracted (dec). Default 1.')),
    help: Type.Optional(Help),
  },
  { additionalProperties: false, description: 'Gauge inc/dec: added exactly once, like a counter.' },
);
export const GaugeEvent = Type.Union([GaugeSetEvent, GaugeAddEvent]);
export type GaugeEvent = Static<typeof GaugeEvent>;

export const HistogramEvent = Type.Object(
  {
    kind: Type.Literal('histogram'),
    time: EventTime,
    name: MetricName,
    labels: Type.Optional(LabelSet),
    value: Value('The observation.'),
    buckets: Type.Array(Value('Upper bound of a bucket.'), {
      minItems: 1,
      maxItems: ENVELOPE_LIMITS.maxBuckets,
      description: 'Finite upper bounds, strictly ascending, without +Inf (implied). One layout per family.',
    }),
    help: Type.Optional(Help),
  },
  { additionalProperties: false, description: 'One histogram observation.' },
);
export type HistogramEvent = Static<typeof HistogramEvent>;

export const PushEvent = Type.Object(
  {
    kind: Type.Literal('push'),
    time: EventTime,
    method: Type.Union([Type.Literal('PUT'), Type.Literal('POST'), Type.Literal('DELETE')]),
    body: Type.Optional(
      Type.String({
        description: 'Text exposition format 0.0.4 (no timestamps). Ignored for DELETE; default "".',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "Pushgateway PUT/POST/DELETE of the envelope's group; `time` is the push time (newer wins).",
  },
);
export type PushEvent = Static<typeof PushEvent>;

/** A domain event of the active profile: `kind` names the event type, the other fields are the profile's. */
export type DomainEvent = { kind: string; time: number } & { [field: string]: string | number | boolean };

export type GenericEvent = CounterEvent | GaugeEvent | HistogramEvent | PushEvent;
export type AnyEvent = GenericEvent | DomainEvent;

/** Kinds the envelope defines itself; a profile may not declare events with these names. */
export const GENERIC_KINDS = ['counter', 'gauge', 'histogram', 'push'] as const;

function groupSchema(): TSchema {
  // Written out (not an Intersect) so that the JSON Schema stays simple for other languages' validators.
  return Type.Unsafe<{ job: string } & Record<string, string>>({
    type: 'object',
    description:
      'Grouping key, as in the Pushgateway path /metrics/job/<job>/<label>/<value>. Labels with empty values are dropped.',
    required: ['job'],
    properties: {
      job: {
        type: 'string',
        minLength: 1,
        maxLength: DEFAULT_LIMITS.maxLabelValueLength,
        pattern: LABEL_VALUE_PATTERN,
      },
    },
    patternProperties: { [LABEL_NAME_PATTERN]: LabelValue },
    additionalProperties: false,
    maxProperties: DEFAULT_LIMITS.maxLabelsPerSeries,
  });
}

/** The envelope with generic events only (domain events are typed by the profile). */
export interface EnvelopeV1<E = AnyEvent> {
  v: 1;
  /** Producer's idempotency key; the SQS message id is used when absent. */
  id?: string;
  group: { job: string } & Record<string, string>;
  events: E[];
}

/** The full envelope JSON Schema for a profile: generic events plus the profile's domain events. */
export function envelopeSchema(profile: CompiledProfile): TSchema {
  const domain = [...profile.kinds.values()].map((k) => k.schema);
  return Type.Object(
    {
      v: Type.Literal(ENVELOPE_VERSION, { description: 'Envelope version.' }),
      id: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: ENVELOPE_LIMITS.maxIdLength,
          pattern: ID_PATTERN,
          description:
            "Idempotency key of the batch (exactly once per key). Default: the SQS message id. No '#'.",
        }),
      ),
      group: groupSchema(),
      events: Type.Array(
        Type.Union([CounterEvent, GaugeSetEvent, GaugeAddEvent, HistogramEvent, PushEvent, ...domain]),
        {
          description:
            'Events in producer order. An invalid event is rejected alone; the others are applied.',
        },
      ),
    },
    {
      $id: `https://accrue.dev/schema/envelope-v1.${profile.name}.schema.json`,
      title: `Accrue envelope v1 (profile ${profile.name})`,
      description:
        'One SQS message = one producer batch. Unknown fields are rejected. The body must be at most 256 KiB.',
      additionalProperties: false,
    },
  );
}
