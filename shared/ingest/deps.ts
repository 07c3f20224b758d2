/**
 * The one place the ingest pipeline's dependencies are read from configuration, so the Lambda
 * (functions/ingest) and `npm start` (service/local/runner.ts) honour the same variables: the decoder's
 * limits (ACCRUE_MAX_MESSAGE_BYTES, ACCRUE_MAX_EVENT_FUTURE_MS, ACCRUE_MAX_*), the own-metrics instance.
 * The callers bring what differs between them: the store, the profile loader (the Lambda's carries no
 * schema library), the dead-letter sink, the source queue and the logger.
 */
import type { AccrueConfig } from '../config';
import { parseProducers } from '../producers';
import type { CompiledProfile } from '../profiles/types';
import type { Store } from '../store/types';
import { decodeOptionsFromConfig } from './decode';
import {
  type DeadLetterSink,
  OwnMetrics,
  type PipelineDeps,
  type PipelineLogger,
  type SourceQueue,
} from './pipeline';

export interface PipelineParts {
  readonly store: Store;
  readonly profile: CompiledProfile;
  readonly deadLetters: DeadLetterSink;
  /** The queue the records come from (dead-lettered messages are removed at once). */
  readonly sourceQueue?: SourceQueue;
  readonly logger: PipelineLogger;
  /** @default Date.now */
  readonly now?: () => number;
}

export function pipelineDepsFromConfig(config: AccrueConfig, parts: PipelineParts): PipelineDeps {
  return {
    ...parts,
    now: parts.now ?? Date.now,
    decodeOptions: decodeOptionsFromConfig(config),
    producers: parseProducers(config.ingest.producers),
    instance: config.ingest.instance,
    // One per process: counts a throttled own-metrics write left behind carry over to the next batch.
    ownMetrics: new OwnMetrics(config.ingest.instance),
  };
}
