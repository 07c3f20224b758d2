/** The exposition-format core: pure modules, one per direction (STYLE.md §4). */

export { escapeHelp, escapeLabelValue, escapeOpenMetricsHelp } from './escape';
export { formatFloat, parseGoFloat } from './float';
export {
  type ExpositionFormat,
  type Negotiated,
  negotiate,
  OPENMETRICS_CONTENT_TYPE,
  PROTOBUF_EXPOSITION_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
} from './negotiate';
export { metricFamiliesToOpenMetrics, type OpenMetricsWriteOptions } from './openmetrics-create';
export { metricFamiliesToProtobufDelimited } from './protobuf-create';
export { ProtobufParseError, parseProtobufDelimited } from './protobuf-parse';
export {
  type ProtobufRenderResult,
  PUSH_FAILURE_TIME_HELP,
  PUSH_FAILURE_TIME_METRIC,
  PUSH_TIME_HELP,
  PUSH_TIME_METRIC,
  RenderCache,
  type RenderFormat,
  type RenderOptions,
  type RenderResult,
  type RenderStats,
  renderSnapshot,
  renderSnapshotProtobuf,
  renderSnapshotWithStats,
} from './snapshot-render';
export { metricFamiliesToText, type TextWriteOptions } from './text-create';
export { parseText, parseTextYielding, type TextParseOptions } from './text-parse';
