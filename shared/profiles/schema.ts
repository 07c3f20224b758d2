/**
 * TypeBox schemas of a profile definition, the one source of its structure: the structural validation of
 * the full loader (`shape.ts`, errors with a path and the rule), the ingest Lambda's generated check
 * (`shape.generated.ts`, written by `npm run schema`; regenerate after editing this file) and the
 * documentation of the file format. Not imported by the ingest Lambda's decode path (see docs/deploy.md,
 * "Profiles in the Lambda").
 */
import { type Static, Type } from '@sinclair/typebox';
import type * as Model from './types';

const Optional = Type.Optional(Type.Boolean({ description: 'The field may be absent. Default false.' }));
const Description = Type.Optional(Type.String());

export const FieldDefinition = Type.Union([
  Type.Object(
    {
      type: Type.Literal('string'),
      minLength: Type.Optional(Type.Integer({ minimum: 0 })),
      maxLength: Type.Optional(Type.Integer({ minimum: 1 })),
      optional: Optional,
      description: Description,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('enum'),
      values: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      optional: Optional,
      description: Description,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('number'),
      minimum: Type.Optional(Type.Number()),
      maximum: Type.Optional(Type.Number()),
      integer: Type.Optional(Type.Boolean()),
      optional: Optional,
      description: Description,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('boolean'), optional: Optional, description: Description },
    { additionalProperties: false },
  ),
]);

export const MetricDefinition = Type.Object(
  {
    type: Type.Union([Type.Literal('counter'), Type.Literal('gauge'), Type.Literal('histogram')]),
    help: Type.String({ minLength: 1 }),
    labels: Type.Optional(Type.Array(Type.String())),
    buckets: Type.Optional(Type.Array(Type.Number(), { minItems: 1 })),
    native: Type.Optional(
      Type.Object(
        {
          schema: Type.Integer({ minimum: -4, maximum: 8 }),
          zeroThreshold: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const EmitDefinition = Type.Object(
  {
    metric: Type.String(),
    op: Type.Union([Type.Literal('inc'), Type.Literal('dec'), Type.Literal('set'), Type.Literal('observe')]),
    /** A field name, or a constant number. Default: the constant 1 (inc/dec only). */
    value: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    /** Used when `value` names an optional field that is absent; without it the operation is skipped. */
    default: Type.Optional(Type.Number()),
    /** Label name → field name, or `{ value: "constant" }`. Labels not listed take the field of the same name. */
    labels: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Union([Type.String(), Type.Object({ value: Type.String() }, { additionalProperties: false })]),
      ),
    ),
  },
  { additionalProperties: false },
);

export const EventDefinition = Type.Object(
  {
    description: Description,
    fields: Type.Record(Type.String(), FieldDefinition),
    emit: Type.Array(EmitDefinition),
  },
  { additionalProperties: false },
);

export const ProfileDefinition = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_-]*$', maxLength: 64 }),
    description: Description,
    metrics: Type.Record(Type.String(), MetricDefinition),
    events: Type.Record(Type.String(), EventDefinition),
  },
  { additionalProperties: false },
);

/**
 * The profile and an event checked shallowly (their metrics, fields and emits as any value): the loaders
 * check those one by one, so that each message points at the metric, field or emit it is about.
 */
export const ProfileShallow = Type.Object(
  {
    ...ProfileDefinition.properties,
    metrics: Type.Record(Type.String(), Type.Unknown()),
    events: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export const EventShallow = Type.Object(
  {
    ...EventDefinition.properties,
    fields: Type.Record(Type.String(), Type.Unknown()),
    emit: Type.Array(Type.Unknown()),
  },
  { additionalProperties: false },
);

// The interfaces in types.ts and these schemas must describe the same shape: each line fails to compile
// when one side gains or loses a property or changes a type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: [
  Same<Static<typeof FieldDefinition>, Model.FieldDefinition>,
  Same<Static<typeof MetricDefinition>, Model.MetricDefinition>,
  Same<Static<typeof EmitDefinition>, Model.EmitDefinition>,
  Same<Static<typeof EventDefinition>, Model.EventDefinition>,
  Same<Static<typeof ProfileDefinition>, Model.ProfileDefinition>,
] = [true, true, true, true, true];
void sameShape;
