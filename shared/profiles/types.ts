/**
 * Profiles: a declarative mapping from domain events to metric operations (docs/events.md, "Writing a
 * profile"). The file format is described by the TypeBox schema `ProfileDefinition` below (so the load
 * errors cite a path and a rule), then `compileProfile` checks what a schema can't (names, references,
 * label sets, buckets) and compiles it into the `CompiledProfile` the decoder runs.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

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
export type FieldDefinition = Static<typeof FieldDefinition>;

export const MetricDefinition = Type.Object(
  {
    type: Type.Union([Type.Literal('counter'), Type.Literal('gauge'), Type.Literal('histogram')]),
    help: Type.String({ minLength: 1 }),
    labels: Type.Optional(Type.Array(Type.String())),
    buckets: Type.Optional(Type.Array(Type.Number(), { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type MetricDefinition = Static<typeof MetricDefinition>;

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
export type EmitDefinition = Static<typeof EmitDefinition>;

export const EventDefinition = Type.Object(
  {
    description: Description,
    fields: Type.Record(Type.String(), FieldDefinition),
    emit: Type.Array(EmitDefinition),
  },
  { additionalProperties: false },
);
export type EventDefinition = Static<typeof EventDefinition>;

export const ProfileDefinition = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_-]*$', maxLength: 64 }),
    description: Description,
    metrics: Type.Record(Type.String(), MetricDefinition),
    events: Type.Record(Type.String(), EventDefinition),
  },
  { additionalProperties: false },
);
export type ProfileDefinition = Static<typeof ProfileDefinition>;

// ---- compiled form (what the decoder runs) ----

export const FieldType = { string: 0, enum: 1, number: 2, boolean: 3 } as const;
export type FieldType = (typeof FieldType)[keyof typeof FieldType];

export interface CompiledField {
  readonly name: string;
  readonly type: FieldType;
  readonly optional: boolean;
  readonly minLength: number;
  readonly maxLength: number;
  /** Enum values (null-prototype lookup). */
  readonly values: ReadonlySet<string> | undefined;
  readonly valueList: readonly string[];
  readonly minimum: number;
  readonly maximum: number;
  readonly integer: boolean;
}

export const EmitOp = { counterInc: 0, gaugeAdd: 1, gaugeSub: 2, gaugeSet: 3, observe: 4 } as const;
export type EmitOp = (typeof EmitOp)[keyof typeof EmitOp];

export interface CompiledMetric {
  /** Index into `CompiledProfile.metrics`. */
  readonly id: number;
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  /** Label names in declared order: series keys join label values in this order. */
  readonly labelNames: readonly string[];
  /** Sorted label names joined with ',' (family shape). */
  readonly shape: string;
  /** Histogram bounds (finite, strictly ascending); empty for other types. */
  readonly bounds: readonly number[];
  /** Exactly one emit of the profile feeds this metric (the decoder can skip its canonical index). */
  exclusive: boolean;
}

export interface CompiledEmit {
  /** Unique within the profile (index of the decoder's per-emit series cache). */
  readonly id: number;
  readonly metric: CompiledMetric;
  readonly op: EmitOp;
  /** Field supplying the value, or undefined for a constant. */
  readonly valueField: string | undefined;
  /** Index of `valueField` in the kind's fields, -1 for a constant. */
  readonly valueIndex: number;
  readonly valueConst: number;
  /** True when an absent optional value field uses `valueConst` (the default) instead of skipping. */
  readonly hasDefault: boolean;
  /** Per metric label (declared order): a field name, or a constant value. */
  readonly labelFields: readonly (string | undefined)[];
  /** Index of each label's field in the kind's fields, -1 for a constant (then `labelConsts`). */
  readonly labelIndexes: readonly number[];
  readonly labelConsts: readonly string[];
  /** Fast series lookup: field indexes of string-typed label fields (their values are hashed)... */
  readonly strLabelIndexes: readonly number[];
  /** ...and of enum label fields, combined into one array index with `enumStrides`. */
  readonly enumLabelIndexes: readonly number[];
  readonly enumStrides: readonly number[];
  /** Product of the enum label fields' value counts. */
  readonly combos: number;
  /** The metric is fed by this emit only and the kind's cache key is exactly this emit's string labels. */
  direct: boolean;
}

export interface CompiledKind {
  /** Position in the profile's kinds (index of the decoder's per-kind caches). */
  readonly index: number;
  readonly name: string;
  readonly fields: readonly CompiledField[];
  readonly emits: readonly CompiledEmit[];
  /** Field indexes of every string label field of the kind's emits: the per-event series cache key. */
  readonly strKeyFields: readonly number[];
  /** Every label name this kind's operations use (to detect collisions with group labels). */
  readonly labelNames: readonly string[];
  /** TypeBox schema of the event (for the JSON Schema and equivalence tests). */
  readonly schema: TSchema;
}

export interface CompiledProfile {
  readonly name: string;
  readonly description: string;
  readonly metrics: readonly CompiledMetric[];
  readonly metricsByName: ReadonlyMap<string, CompiledMetric>;
  /** Number of compiled emits (their ids are 0..emitCount-1). */
  readonly emitCount: number;
  readonly kinds: ReadonlyMap<string, CompiledKind>;
  readonly definition: ProfileDefinition;
}
