/**
 * Decoding of a push body before parsing: `Content-Encoding: gzip` or `snappy` (./snappy: framed or raw
 * block) (bounded: the size limit applies to the decompressed bytes too, so a zip bomb stops at the limit), the choice between the text format and
 * protobuf-delimited `MetricFamily` messages (by Content-Type, as the Pushgateway does: anything that is
 * not the delimited protobuf type is read as text 0.0.4), and strict UTF-8 for text.
 */
import { gunzip, gunzipSync } from 'node:zlib';
import { AccrueError, RejectReason } from '../model/errors';
import { SnappyTooLargeError, snappyDecompress } from './snappy';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.google.protobuf';
export const PROTOBUF_PROTO = 'io.prometheus.client.MetricFamily';

export type PushBody =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'protobuf'; readonly bytes: Buffer };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when the Content-Type names delimited protobuf MetricFamily messages (what the Go client sends). */
export function isProtobufContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [media, ...params] = contentType.split(';').map((p) => p.trim());
  if (media?.toLowerCase() !== PROTOBUF_MEDIA_TYPE) return false;
  const map = new Map<string, string>();
  for (const p of params) {
    const i = p.indexOf('=');
    if (i > 0)
      map.set(
        p.slice(0, i).trim().toLowerCase(),
        p
          .slice(i + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
  }
  return map.get('encoding') === 'delimited' && map.get('proto') === PROTOBUF_PROTO;
}

export function decodePushBody(
  raw: Buffer,
  opts: { readonly contentType?: string; readonly contentEncoding?: string; readonly maxBytes: number },
): PushBody {
  let bytes = raw;
  const enc = (opts.contentEncoding ?? '').trim().toLowerCase();
  if (enc === 'gzip' || enc === 'x-gzip') {
    try {
      bytes = gunzipSync(raw, { maxOutputLength: opts.maxBytes });
    } catch (err) {
      throw gzipError(err as Error, opts.maxBytes);
    }
  } else if (enc === 'snappy') {
    try {
      bytes = snappyDecompress(raw, opts.maxBytes);
    } catch (err) {
      throw snappyError(err as Error, opts.maxBytes);
    }
  } else if (enc !== '' && enc !== 'identity') {
    throw new AccrueError(
      RejectReason.decode,
      `Content-Encoding: ${JSON.stringify(enc)} is not supported (use gzip, snappy or none)`,
    );
  }
  if (bytes.length > opts.maxBytes) {
    throw new AccrueError(
      RejectReason.tooLarge,
      `body: size ${bytes.length} exceeds the limit of ${opts.maxBytes} bytes`,
    );
  }
  if (isProtobufContentType(opts.contentType)) return { kind: 'protobuf', bytes };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AccrueError(RejectReason.decode, 'body: text format must be valid UTF-8');
  }
  return { kind: 'text', text };
}

/**
 * `decodePushBody` with gzip inflated on libuv's thread pool instead of the event loop (the service's
 * path: a large compressed push must not hold up other requests). Same limits, errors and result.
 */
export async function decodePushBodyAsync(
  raw: Buffer,
  opts: { readonly contentType?: string; readonly contentEncoding?: string; readonly maxBytes: number },
): Promise<PushBody> {
  const enc = (opts.contentEncoding ?? '').trim().toLowerCase();
  if (enc !== 'gzip' && enc !== 'x-gzip') return decodePushBody(raw, opts);
  const inflated = await new Promise<Buffer>((resolve, reject) =>
    gunzip(raw, { maxOutputLength: opts.maxBytes }, (err, out) =>
      err ? reject(gzipError(err, opts.maxBytes)) : resolve(out),
    ),
  );
  return decodePushBody(inflated, { ...opts, contentEncoding: undefined });
}

function gzipError(err: Error, maxBytes: number): AccrueError {
  if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
    return new AccrueError(
      RejectReason.tooLarge,
      `body: decompressed size exceeds the limit of ${maxBytes} bytes`,
    );
  return new AccrueError(RejectReason.decode, `body: invalid gzip data (${err.message})`);
}

function snappyError(err: Error, maxBytes: number): AccrueError {
  if (err instanceof SnappyTooLargeError)
    return new AccrueError(
      RejectReason.tooLarge,
      `body: decompressed size exceeds the limit of ${maxBytes} bytes (snappy ${err.message})`,
    );
  return new AccrueError(RejectReason.decode, `body: invalid snappy data (${err.message})`);
}
