export type * from './aria.events';
export { compileProfile } from './compile';
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
