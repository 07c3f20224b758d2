/**
 * The profile model, free of any schema library so the ingest Lambda's decode path can import it:
 * - the definition types (what a profile file holds; docs/events.md, "Writing a profile"), written out as
 *   interfaces. Their TypeBox schemas, used for load-time validation with paths and rules, are in
 *   `schema.ts`, which checks at compile time that both describe the same shape;
 * - the compiled form (`CompiledProfile`) that the decoder runs, built by `compiler.ts`.
 */

export type FieldDefinition =
  | {
      type: 'string';
      minLength?: number;
      maxLength?: number;
      /** The field may be absent. Default false. */
      optional?: boolean;
      description?: string;
    }
  | { type: 'enum'; values: string[]; optional?: boolean; description?: string }
  | {
      type: 'number';
      minimum?: number;
      maximum?: number;
      integer?: boolean;
      optional?: boolean;
      description?: string;
    }
  | { type: 'boolean'; optional?: boolean; description?: string };

export interface MetricDefinition {
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labels?: string[];
  /** Classic bucket bounds. A histogram has `buckets`, `native`, or both. */
  buckets?: number[];
  /** Native (exponential) buckets too: the standard schema -4..8 and the zero threshold (default 0). */
  native?: { schema: number; zeroThreshold?: number };
}

export interface EmitDefinition {
  metric: string;
  op: 'inc' | 'dec' | 'set' | 'observe';
  /** A field name, or a constant number. Default: the constant 1 (inc/dec only). */
  value?: string | number;
  /** Used when `value` names an optional field that is absent; without it the operation is skipped. */
  default?: number;
  /** Label name → field name, or `{ value: "constant" }`. Labels not listed take the field of the same name. */
  labels?: Record<string, string | { value: string }>;
}

export interface EventDefinition {
  description?: string;
  fields: Record<string, FieldDefinition>;
  emit: EmitDefinition[];
}

export interface ProfileDefinition {
  /** `^[a-z][a-z0-9_-]*$`, at most 64 characters. */
  name: string;
  description?: string;
  metrics: Record<string, MetricDefinition>;
  events: Record<string, EventDefinition>;
}

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
  /** The field's description in the profile, if any (JSON Schema and typegen). */
  readonly description: string | undefined;
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
  /** Label names sorted (the family's shape). */
  readonly sortedLabelNames: readonly string[];
  /** Histogram bounds (finite, strictly ascending); empty for other types and native-only histograms. */
  readonly bounds: readonly number[];
  /** The native layout of a histogram declared `native`; undefined otherwise. */
  readonly native: { readonly schema: number; readonly zeroThreshold: number } | undefined;
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
  /** The event's description (the profile's, or `Domain event "<kind>".`): JSON Schema and typegen. */
  readonly description: string;
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
