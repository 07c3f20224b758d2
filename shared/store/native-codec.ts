/**
 * The stored form of a native histogram, shared by both stores (the memory store's journal and state
 * file, DynamoDB items): compact JSON, every number finite (validated on the way in).
 *
 *   {"s": schema, "zt": zero threshold, "zc": zero count,
 *    "ps": [offset, length, offset, length, …], "pc": [absolute populations…], "ns": […], "nc": […]}
 *
 * Decoding validates again (`nativeShapeProblems`): a damaged record is an error naming the field, never a
 * histogram that breaks the scrape.
 */
import { type NativeBuckets, type NativeHistogram, nativeShapeProblems } from '../model/native';

export interface NativeJson {
  readonly s: number;
  readonly zt: number;
  readonly zc: number;
  readonly ps: readonly number[];
  readonly pc: readonly number[];
  readonly ns: readonly number[];
  readonly nc: readonly number[];
}

function flatSpans(b: NativeBuckets): number[] {
  const out: number[] = [];
  for (const s of b.spans) out.push(s.offset, s.length);
  return out;
}

export function encNative(h: NativeHistogram): NativeJson {
  return {
    s: h.schema,
    zt: h.zeroThreshold,
    zc: h.zeroCount,
    ps: flatSpans(h.positive),
    pc: h.positive.counts,
    ns: flatSpans(h.negative),
    nc: h.negative.counts,
  };
}

function side(spans: unknown, counts: unknown): { spans: unknown; counts: unknown } {
  if (!Array.isArray(spans) || spans.length % 2 !== 0) return { spans: 'odd or missing span list', counts };
  const out: { offset: unknown; length: unknown }[] = [];
  for (let i = 0; i < spans.length; i += 2) out.push({ offset: spans[i], length: spans[i + 1] });
  return { spans: out, counts };
}

/** The histogram of a stored record; throws `Error` naming `where` and the problems when it is damaged. */
export function decNative(
  v: unknown,
  observations: { count: number; sum: number },
  where: string,
): NativeHistogram {
  const j = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const shape = {
    schema: j['s'],
    zeroThreshold: j['zt'],
    zeroCount: j['zc'],
    positive: side(j['ps'], j['pc']),
    negative: side(j['ns'], j['nc']),
  };
  const { problems, native } = nativeShapeProblems(shape, observations);
  if (native === undefined) {
    throw new Error(
      `${where}: stored native histogram is damaged: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
  }
  return native;
}
