import { compileWith, type ShapeCheck } from './compiler';
import { SCHEMA_SHAPE } from './shape';
import type { CompiledProfile } from './types';

export type { ShapeCheck };

/**
 * Validates a profile definition (parsed JSON/YAML) against the TypeBox schemas and compiles it. Throws
 * `ProfileError` listing every problem with its path, e.g.
 * `events.execution.emit[1].metric: no metric "aria_slipage_pips" is declared in metrics`.
 */
export function compileProfile(input: unknown, source = 'profile'): CompiledProfile {
  return compileWith(input, source, SCHEMA_SHAPE);
}
