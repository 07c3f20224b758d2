/** The ingest core's public surface: the pipeline (shared/ingest/pipeline.ts) and the client use these. */

export {
  ARIA_PROFILE,
  type CompiledProfile,
  compileProfile,
  loadProfile,
  ProfileError,
  parseProfile,
} from '../profiles';
export type { AriaEvent } from '../profiles/aria.events';
export {
  type DecodedMessage,
  type DecodeOptions,
  decodeMessage,
  decodeOptionsFromConfig,
  type RejectedEvent,
} from './decode';
export {
  type AnyEvent,
  type CounterEvent,
  type DomainEvent,
  ENVELOPE_LIMITS,
  ENVELOPE_VERSION,
  type EnvelopeV1,
  envelopeSchema,
  type GaugeEvent,
  type GenericEvent,
  type HistogramEvent,
  type PushEvent,
  RESERVED_PREFIX,
} from './envelope';
export { DecodeError } from './errors';
