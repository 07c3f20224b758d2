/**
 * The ingest Lambda's structural check of a profile definition: the checks generated at build time from
 * the TypeBox schemas of `schema.ts` (`shape.generated.ts`, `npm run schema`), walked by
 * `shapeProblems` for paths and rules. It decides exactly as the full TypeBox check (`shape.ts`) does,
 * because both are the same schemas, without pulling TypeBox (100 KB minified) into the bundle.
 */
import { shapeProblems } from '../model/shape-check';
import type { ShapeCheck } from './compiler';
import {
  BOOLEAN_FIELD,
  EMIT,
  ENUM_FIELD,
  EVENT,
  METRIC,
  NUMBER_FIELD,
  PROFILE,
  STRING_FIELD,
} from './shape.generated';

const FIELDS = { string: STRING_FIELD, enum: ENUM_FIELD, number: NUMBER_FIELD, boolean: BOOLEAN_FIELD };

/** Structural checks generated from the TypeBox schemas (see the file comment). */
export const LEAN_SHAPE: ShapeCheck = {
  profile: (v, problems) => shapeProblems(PROFILE, v, '', problems),
  metric: (v, path, problems) => shapeProblems(METRIC, v, path, problems),
  event: (v, path, problems) => shapeProblems(EVENT, v, path, problems),
  field: (type, v, path, problems) => shapeProblems(FIELDS[type], v, path, problems),
  emit: (v, path, problems) => shapeProblems(EMIT, v, path, problems),
};
