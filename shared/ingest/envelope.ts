/**
 * Envelope v1: the JSON body of one SQS message = one producer batch.
 *
 * ```json
 * { "v": 1, "id": "batch-0001", "group": { "job": "aria-pro", "instance": "eu-1" },
 *   "events": [ { "kind": "execution", "time": 1767225600000, "symbol": "EURUSD", ... }, ... ] }
 * ```
 *
 * This file is the ONE source of the envelope's shape (its constants live in `constants.ts`, which the
 * decoder imports without TypeBox; they are re-exported here): the TypeBox schemas below give the TypeScript types
 * (`Static<>`), and `envelopeSchema(profile)` assembles the JSON Schema that `npm run schema` writes to
 * `schema/envelope-v1.schema.json` (domain events come from the profile). The decoder checks the envelope
 * itself and push events with code generated from these schemas (`envelope.generated.ts`, `npm run
 * schema`; docs/architecture.md "Generated validators"), and takes the generic events' field lists and gauge
 * operations from it; the per-event value rules are the `shared/model` rules and `ENVELOPE_LIMITS` these
 * schemas are built from, and tests keep the decoder's decisions equal to this schema's
 * (test/unit/ingest/equivalence.test.ts). Rules a JSON Schema can't express (strictly ascending
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
import {
  ENVELOPE_LIMITS,
  ENVELOPE_VERSION,
  ID_PATTERN,
  LABEL_NAME_PATTERN,
  LABEL_VALUE_PATTERN,
  METRIC_NAME_PATTERN,
} from '../model/envelope-constants';
import { RULE_NOTE } from '../model/shape-check';
import type { CompiledKind, CompiledProfile } from '../profiles/types';
import { FieldType } from '../profiles/types';
import { DEFAULT_LIMITS } from '../store/types';

export {
  ENVELOPE_LIMITS,
  ENVELOPE_VERSION,
  GENERIC_KINDS,
  ID_PATTERN,
  LABEL_NAME_PATTERN,
  LABEL_VALUE_PATTERN,
  METRIC_NAME_PATTERN,
  RESERVED_PREFIX,
} from '../model/envelope-constants';

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
    'Metric name [a-zA-Z_:][a-zA-Z0-9_:]*; the prefixes "__" and "accrue_", push_time_seconds and push_failure_time_seconds are reserved.',
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

const EnvelopeVersion = Type.Literal(ENVELOPE_VERSION, { description: 'Envelope version.' });
const EnvelopeId = Type.String({
  minLength: 1,
  maxLength: ENVELOPE_LIMITS.maxIdLength,
  pattern: ID_PATTERN,
  description: "Idempotency key of the batch (exactly once per key). Default: the SQS message id. No '#'.",
  [RULE_NOTE]: "'#' is reserved for the store's part keys",
});

/**
 * The envelope as the decoder checks it (generated into `envelope.generated.ts`): the events are checked
 * one by one, and the group by the grouping-key rule it shares with HTTP pushes (`decodeGroup`, with the
 * configured label limits), so both are any value here.
 */
export const EnvelopeShell = Type.Object(
  {
    v: EnvelopeVersion,
    id: Type.Optional(EnvelopeId),
    group: Type.Optional(Type.Unknown()),
    events: Type.Array(Type.Unknown()),
  },
  { additionalProperties: false },
);

/** A domain event of the active profile: `kind` names the event type, the other fields are the profile's. */
export type DomainEvent = { kind: string; time: number } & { [field: string]: string | number | boolean };

export type GenericEvent = CounterEvent | GaugeEvent | HistogramEvent | PushEvent;
export type AnyEvent = GenericEvent | DomainEvent;

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

/** The JSON Schema of one domain event of a profile, built from its compiled kind. */
export function domainEventSchema(kind: CompiledKind): TSchema {
  const properties: Record<string, TSchema> = { kind: Type.Literal(kind.name), time: EventTime };
  for (const f of kind.fields) {
    const description = f.description ? { description: f.description } : {};
    let s: TSchema;
    switch (f.type) {
      case FieldType.string:
        s = Type.String({
          minLength: f.minLength,
          maxLength: f.maxLength,
          pattern: LABEL_VALUE_PATTERN,
          ...description,
        });
        break;
      case FieldType.enum:
        s = Type.Union(
          f.valueList.map((v) => Type.Literal(v)),
          description,
        );
        break;
      case FieldType.number: {
        const opts = { minimum: f.minimum, maximum: f.maximum, ...description };
        s = f.integer ? Type.Integer(opts) : Type.Number(opts);
        break;
      }
      default:
        s = Type.Boolean(description);
    }
    properties[f.name] = f.optional ? Type.Optional(s) : s;
  }
  return Type.Object(properties, { additionalProperties: false, description: kind.description });
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
  const domain = [...profile.kinds.values()].map(domainEventSchema);
  return Type.Object(
    {
      v: EnvelopeVersion,
      id: Type.Optional(EnvelopeId),
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
