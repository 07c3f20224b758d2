/**
 * The full structural check of a profile definition: the TypeBox schemas of `schema.ts` run with
 * `Value.Errors`, so every problem names its path and the rule (`metrics.x.help: expected string`).
 * Used by `compileProfile` (local runs, the CLI, tests and `cdk synth`), not by the ingest Lambda.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Problem } from '../model/errors';
import type { ShapeCheck } from './compiler';
import { EmitDefinition, EventShallow, FieldDefinition, MetricDefinition, ProfileShallow } from './schema';

/** `/events/execution/fields/x` → `events.execution.fields.x`; array indexes as `[i]`. */
function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

function schemaProblems(schema: TSchema, value: unknown, base: string, problems: Problem[]): boolean {
  let ok = true;
  for (const e of Value.Errors(schema, value)) {
    ok = false;
    const rel = pointerToPath(e.path);
    const path = base === '' ? rel : rel === '' ? base : rel.startsWith('[') ? base + rel : `${base}.${rel}`;
    problems.push({ path, message: e.message.toLowerCase() });
  }
  return ok;
}

/** Structural checks with the TypeBox schemas (precise paths and rules). */
export const SCHEMA_SHAPE: ShapeCheck = {
  profile: (v, problems) => schemaProblems(ProfileShallow, v, '', problems),
  metric: (v, path, problems) => schemaProblems(MetricDefinition, v, path, problems),
  event: (v, path, problems) => schemaProblems(EventShallow, v, path, problems),
  field: (type, v, path, problems) =>
    schemaProblems(FieldDefinition.anyOf.find((s) => s.properties.type.const === type)!, v, path, problems),
  emit: (v, path, problems) => schemaProblems(EmitDefinition, v, path, problems),
};
