/**
 * Profiles' public surface. The full loader (`loadProfile`, JSON and YAML, TypeBox validation) is for local
 * runs, the CLI, tests and `cdk synth`; the ingest Lambda imports `./deployed` directly (no TypeBox, no
 * YAML in its bundle).
 */
export type * from './aria.events';
export { compileProfile } from './compile';
export type { ShapeCheck } from './compiler';
export { EMBEDDED_PROFILE_PREFIX, loadDeployedProfile } from './deployed';
export { ProfileError } from './errors';
export { ARIA_PROFILE, loadProfile, parseProfile } from './load';
export type {
  CompiledEmit,
  CompiledField,
  CompiledKind,
  CompiledMetric,
  CompiledProfile,
  EmitDefinition,
  EventDefinition,
  FieldDefinition,
  MetricDefinition,
  ProfileDefinition,
} from './types';
