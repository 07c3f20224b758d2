/** Public surface of the producer client (docs/client.md). */
export { BufferFullError, type FailedMessage, PublishError, PublisherClosedError } from './errors';
export {
  GatewayNotFoundError,
  type GatewayTarget,
  type LocalGateway,
  loopbackCredentials,
  readLocalGateway,
  requireQueueUrl,
  requireServiceUrl,
  resolveTarget,
} from './local';
export { isTransientError, packBatches, SQS_MAX_BATCH_ENTRIES, SQS_MAX_BYTES } from './packing';
export { AccruePublisher } from './publisher';
export type {
  ConnectionEvent,
  CounterInput,
  ErrorEvent,
  ExecutionEvent,
  GaugeAddInput,
  GaugeSetInput,
  HistogramInput,
  KillSwitchEvent,
  PerformanceEvent,
  PnlEvent,
  PublishableEvent,
  PublisherOptions,
  PublisherStats,
} from './types';
export { eventProblems } from './validate';
