/**
 * The protobuf pieces of the snapshot render (./snapshot-render.ts decides what is written, in which
 * order and which series are dropped; this module only encodes): a (group, family) chunk's `Metric`
 * messages, a family's length prefix and header, the per-group push-time families.
 *
 * A delimited MetricFamily is `varint(length) name help type metric*`, and repeated `metric` fields
 * concatenate, so a family spread over many groups is one message made of its chunks' cached bytes behind
 * a header that only needs their total length: a change re-encodes only the chunks it touched.
 *
 * Series are written as the text render shows them (the rule the protobuf exposition is defined by): the
 * group's labels over the series' own, empty values left out, `instance=""` when neither has an
 * instance, labels sorted by name; no timestamps; `-0` bounds as `0`; every NaN as the text's `NaN`.
 */
import type { Labels, MetricFamily } from '../model/types';
import type { GroupState } from '../store/types';
import { finalLabels, type GroupLabels } from './final-labels';
import { ProtoSink } from './proto-sink';
import { FAMILY_METRIC, writeFamilyHeader, writeLabelPair, writeMetricValue } from './protobuf-create';

/** One sink reused by every call (encoding is synchronous); results are copied out. */
const SINK = new ProtoSink(1 << 16, true);

/**
 * The Metric messages of one (group, family) chunk: series `f.series[order[k]]` (or `[k]` without an
 * order) for k in [0, count), except the positions in `skip`.
 */
export function protobufChunk(
  f: MetricFamily,
  group: GroupLabels,
  order: readonly number[] | undefined,
  count: number,
  skip: ReadonlySet<number> | undefined,
): Uint8Array {
  const w = SINK;
  w.reset();
  for (let k = 0; k < count; k++) {
    if (skip?.has(k)) continue;
    const s = f.series[order === undefined ? k : order[k]!]!;
    const metric = w.open(FAMILY_METRIC);
    writeFinalLabels(w, group, s.labels);
    writeMetricValue(w, f.type, s, true);
    w.close(metric);
  }
  return w.copy();
}

/** A MetricFamily's length prefix and header, for a body of `bodyBytes` bytes of Metric messages. */
export function protobufFamilyHead(
  name: string,
  help: string,
  type: MetricFamily['type'],
  bodyBytes: number,
): Uint8Array {
  const w = SINK;
  w.reset();
  writeFamilyHeader(w, name, help, type);
  const fields = w.pos;
  w.varint(fields + bodyBytes);
  // The sink holds the fields, then the prefix: swap them.
  const written = w.copy();
  const out = new Uint8Array(written.length);
  out.set(written.subarray(fields), 0);
  out.set(written.subarray(0, fields), written.length - fields);
  return out;
}

/**
 * A push-time gauge family: one series per group, its time in seconds (0 when never). In pieces: the
 * length prefix and header, then one Metric per group (compared by content by the gzip runs).
 */
export function protobufPushTime(
  name: string,
  help: string,
  groups: readonly { readonly g: GroupState; readonly labels: GroupLabels }[],
  pick: (g: GroupState) => number | undefined,
): Uint8Array[] {
  const w = SINK;
  const metrics: Uint8Array[] = [];
  let bytes = 0;
  for (const { g, labels } of groups) {
    w.reset();
    const metric = w.open(FAMILY_METRIC);
    writeFinalLabels(w, labels, NO_LABELS);
    const ms = pick(g);
    const gauge = w.open(2);
    w.double(1, ms === undefined ? 0 : ms / 1000);
    w.close(gauge);
    w.close(metric);
    metrics.push(w.copy());
    bytes += w.pos;
  }
  return [protobufFamilyHead(name, help, 'gauge', bytes), ...metrics];
}

const NO_LABELS: Labels = Object.freeze({});

/** The series' label pairs under its group, in the order the text render writes them. */
function writeFinalLabels(w: ProtoSink, group: GroupLabels, labels: Labels): void {
  const l = finalLabels(group, labels);
  for (let k = 0; k < l.count; k++) writeLabelPair(w, l.names[k]!, l.values[k]!);
}
