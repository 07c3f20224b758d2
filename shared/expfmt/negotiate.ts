/**
 * Content negotiation for `/metrics`, as client_golang's `expfmt.Negotiate` does for the formats Accrue
 * writes: `application/vnd.google.protobuf` with `proto=io.prometheus.client.MetricFamily` and
 * `encoding=delimited` → protobuf (what Prometheus asks for first when it scrapes native histograms);
 * `application/openmetrics-text` with `version=1.0.0`, `0.0.1` or no version → OpenMetrics
 * (answered with the version asked for, 1.0.0 when none); everything else → text 0.0.4.
 * `text/plain` with `version=1.0.0` (what Prometheus 3 asks for) is the same text format, where names that
 * are not legacy names may appear quoted.
 * The media range with the highest q-value among those we can serve wins; on equal q the earlier one.
 * `q=0` means "not acceptable". A missing or unparsable header means text.
 *
 * Names: the winning range's `escaping` parameter (`allow-utf-8`, `underscores`, `dots`, `values`) says how
 * names that are not legacy names are written; an unknown or missing one means `underscores` (the spec's
 * default, as client_golang). The Content-Type names the scheme only when the client asked for one, so a
 * scraper that doesn't ask gets exactly the headers it always got.
 */
import { DEFAULT_ESCAPING, type EscapingScheme, isEscapingScheme } from '../model/names';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const TEXT_1_0_0_CONTENT_TYPE = 'text/plain; version=1.0.0; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const OPENMETRICS_0_0_1_CONTENT_TYPE = 'application/openmetrics-text; version=0.0.1; charset=utf-8';
export const PROTOBUF_EXPOSITION_CONTENT_TYPE =
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** The text formats, written by snapshot-render. */
export type TextExpositionFormat = 'text' | 'openmetrics';
export type ExpositionFormat = TextExpositionFormat | 'protobuf';

export interface Negotiated {
  readonly format: ExpositionFormat;
  readonly contentType: string;
  /** How names outside the legacy character set are written. */
  readonly escaping: EscapingScheme;
}

const TEXT: Negotiated = { format: 'text', contentType: TEXT_CONTENT_TYPE, escaping: DEFAULT_ESCAPING };
const TEXT_1: Negotiated = { ...TEXT, contentType: TEXT_1_0_0_CONTENT_TYPE };
const OM_1: Negotiated = {
  format: 'openmetrics',
  contentType: OPENMETRICS_CONTENT_TYPE,
  escaping: DEFAULT_ESCAPING,
};
const OM_0: Negotiated = { ...OM_1, contentType: OPENMETRICS_0_0_1_CONTENT_TYPE };
const PROTOBUF: Negotiated = {
  format: 'protobuf',
  contentType: PROTOBUF_EXPOSITION_CONTENT_TYPE,
  escaping: DEFAULT_ESCAPING,
};

export function negotiate(accept: string | undefined): Negotiated {
  if (typeof accept !== 'string' || accept === '') return TEXT;
  let best: Negotiated = TEXT;
  let bestQ = -1;
  for (const range of accept.slice(0, 4096).split(',')) {
    const parts = range.split(';');
    const mediaType = parts[0]!.trim().toLowerCase();
    let q = 1;
    let version: string | undefined;
    let proto: string | undefined;
    let encoding: string | undefined;
    let escaping: string | undefined;
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i]!;
      const eq = p.indexOf('=');
      if (eq === -1) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (k === 'q') {
        const n = Number(v);
        q = v !== '' && Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
      } else if (k === 'version') version = v;
      else if (k === 'proto') proto = v;
      else if (k === 'encoding') encoding = v;
      else if (k === 'escaping') escaping = v;
    }
    if (q <= 0) continue;
    let candidate: Negotiated | undefined;
    if (mediaType === 'application/vnd.google.protobuf') {
      if (proto === 'io.prometheus.client.MetricFamily' && encoding === 'delimited') candidate = PROTOBUF;
    } else if (mediaType === 'application/openmetrics-text') {
      if (version === undefined || version === '1.0.0') candidate = OM_1;
      else if (version === '0.0.1') candidate = OM_0;
    } else if (mediaType === 'text/plain' || mediaType === '*/*' || mediaType === 'text/*') {
      if (version === undefined || version === '0.0.4') candidate = TEXT;
      else if (version === '1.0.0' && mediaType === 'text/plain') candidate = TEXT_1;
    }
    if (candidate !== undefined && q > bestQ) {
      best = withEscaping(candidate, escaping);
      bestQ = q;
    }
  }
  return best;
}

/** `n` with the scheme the client asked for, named in the Content-Type; unknown schemes are ignored. */
function withEscaping(n: Negotiated, escaping: string | undefined): Negotiated {
  if (escaping === undefined || !isEscapingScheme(escaping)) return n;
  return { ...n, escaping, contentType: `${n.contentType}; escaping=${escaping}` };
}
