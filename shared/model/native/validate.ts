/**
 * Validation of a native histogram as it arrives (a protobuf push, a stored record): the only way to get a
 * `NativeHistogram`. Rules, from the native histogram spec and metrics.proto:
 * - schema: an integer in -4..8 (the standard exponential schemas; -53, custom buckets, is refused);
 * - zero_threshold: finite and >= 0; zero_count: finite and >= 0;
 * - per side, spans: offset an int32, only the first may be negative; length a uint32; the buckets they
 *   cover lie within the schema's valid indices (up to the +Inf overflow bucket);
 * - per side, either deltas (integer variant: safe integers whose running sum, the population, never
 *   goes below 0) or counts (float variant: finite and >= 0), never both, exactly as many as the spans'
 *   lengths add up to;
 * - at most MAX_NATIVE_BUCKETS buckets in all;
 * - the observation count is at least the population of all buckets (NaN observations are counted but
 *   land in no bucket); in the integer variant with a sum that is not NaN, exactly equal (as Prometheus
 *   checks integer histograms).
 * Input is untrusted (`unknown`): wrong types, extra keys (`__proto__` included) and missing fields are
 * problems, never exceptions. Every problem found is reported, not only the first.
 */
import type { Problem } from '../errors';
import { isStandardSchema, maxBucketIndex, minBucketIndex } from './buckets';
import { NativeHistogramError } from './errors';
import { fromSparse, toSparse } from './spans';
import {
  type BucketSpan,
  CUSTOM_BUCKETS_SCHEMA,
  MAX_NATIVE_BUCKETS,
  MAX_SCHEMA,
  MIN_SCHEMA,
  type NativeBuckets,
  type NativeHistogram,
} from './types';

const INPUT_FIELDS: ReadonlySet<string> = new Set([
  'schema',
  'zeroThreshold',
  'zeroCount',
  'positiveSpans',
  'positiveDeltas',
  'positiveCounts',
  'negativeSpans',
  'negativeDeltas',
  'negativeCounts',
]);

/** The observations the histogram summarizes (from the series): checked against the buckets. */
export interface Observations {
  readonly count: number;
  readonly sum: number;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

function own(input: object, key: string): unknown {
  return Object.hasOwn(input, key) ? (input as Record<string, unknown>)[key] : undefined;
}

function isFiniteNonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

interface Side {
  readonly buckets: NativeBuckets;
  readonly integer: boolean;
  readonly total: number;
  readonly size: number;
}

/** Checks one side; pushes problems; returns undefined when it is unusable. */
function checkSide(
  input: object,
  side: 'positive' | 'negative',
  schema: number | undefined,
  path: string,
  problems: Problem[],
): Side | undefined {
  const before = problems.length;
  const spans = checkSpans(own(input, `${side}Spans`), `${path}${side}_spans`, problems);
  const deltas = own(input, `${side}Deltas`);
  const counts = own(input, `${side}Counts`);
  if (deltas !== undefined && counts !== undefined) {
    problems.push({
      path: `${path}${side}_deltas`,
      message: `give ${side}_deltas (integer histogram) or ${side}_counts (float histogram), not both`,
    });
    return undefined;
  }
  const integer = counts === undefined;
  const listPath = `${path}${side}_${integer ? 'deltas' : 'counts'}`;
  const list = integer ? (deltas ?? []) : counts;
  if (!Array.isArray(list)) {
    problems.push({ path: listPath, message: 'must be an array of numbers' });
    return undefined;
  }
  if (list.length > MAX_NATIVE_BUCKETS) {
    problems.push({
      path: listPath,
      message: `must hold at most ${MAX_NATIVE_BUCKETS} buckets (got ${list.length})`,
    });
    return undefined;
  }
  if (spans === undefined) return undefined;
  const covered = spans.reduce((n, s) => n + s.length, 0);
  if (covered !== list.length) {
    problems.push({
      path: listPath,
      message: `the ${side} spans cover ${covered} buckets but ${list.length} ${integer ? 'deltas' : 'counts'} were given (they must match)`,
    });
  }
  if (schema !== undefined) checkIndexRange(spans, schema, `${path}${side}_spans`, problems);
  const absolute = integer ? checkDeltas(list, listPath, problems) : checkCounts(list, listPath, problems);
  if (problems.length > before || absolute === undefined) return undefined;
  const buckets = fromSparse(toSparse({ spans, counts: absolute }));
  return { buckets, integer, total: absolute.reduce((n, c) => n + c, 0), size: list.length };
}

function checkSpans(v: unknown, path: string, problems: Problem[]): BucketSpan[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    problems.push({ path, message: 'must be an array of {offset, length}' });
    return undefined;
  }
  if (v.length > MAX_NATIVE_BUCKETS) {
    problems.push({ path, message: `must hold at most ${MAX_NATIVE_BUCKETS} spans (got ${v.length})` });
    return undefined;
  }
  const spans: BucketSpan[] = [];
  const before = problems.length;
  for (let k = 0; k < v.length; k++) {
    const s = v[k] as unknown;
    const at = `${path}[${k}]`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) {
      problems.push({ path: at, message: 'must be an object {offset, length}' });
      continue;
    }
    const extra = Object.keys(s).find((key) => key !== 'offset' && key !== 'length');
    if (extra !== undefined)
      problems.push({ path: `${at}.${extra}`, message: 'unknown field (a span has offset and length)' });
    const offset = own(s, 'offset') ?? 0;
    const length = own(s, 'length') ?? 0;
    if (!Number.isInteger(offset) || (offset as number) < INT32_MIN || (offset as number) > INT32_MAX) {
      problems.push({ path: `${at}.offset`, message: 'must be an int32' });
    } else if (k > 0 && (offset as number) < 0) {
      problems.push({ path: `${at}.offset`, message: 'only the first span may have a negative offset' });
    }
    if (!Number.isInteger(length) || (length as number) < 0 || (length as number) > UINT32_MAX) {
      problems.push({ path: `${at}.length`, message: 'must be a uint32' });
    }
    spans.push({ offset: offset as number, length: length as number });
  }
  return problems.length > before ? undefined : spans;
}

/** The buckets the spans cover must lie within the schema's valid indices (no iteration over gaps). */
function checkIndexRange(
  spans: readonly BucketSpan[],
  schema: number,
  path: string,
  problems: Problem[],
): void {
  if (spans.length === 0) return;
  const lo = minBucketIndex(schema);
  const hi = maxBucketIndex(schema);
  let index = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (const s of spans) {
    index += s.offset;
    if (s.length > 0) {
      first ??= index;
      last = index + s.length - 1;
    }
    index += s.length;
  }
  if (first !== undefined && last !== undefined && (first < lo || last > hi)) {
    problems.push({
      path,
      message: `cover bucket indices ${first}..${last}, outside the valid range ${lo}..${hi} of schema ${schema}`,
    });
  }
}

function checkDeltas(list: readonly unknown[], path: string, problems: Problem[]): number[] | undefined {
  const out: number[] = [];
  let running = 0;
  for (let k = 0; k < list.length; k++) {
    const d = list[k];
    if (typeof d !== 'number' || !Number.isSafeInteger(d)) {
      problems.push({ path: `${path}[${k}]`, message: 'must be a safe integer (integer histogram delta)' });
      return undefined;
    }
    running += d;
    if (running < 0 || !Number.isSafeInteger(running)) {
      problems.push({
        path: `${path}[${k}]`,
        message: `makes the bucket population ${running}; populations must be integers >= 0`,
      });
      return undefined;
    }
    out.push(running);
  }
  return out;
}

function checkCounts(list: readonly unknown[], path: string, problems: Problem[]): number[] | undefined {
  for (let k = 0; k < list.length; k++) {
    if (!isFiniteNonNegative(list[k])) {
      problems.push({ path: `${path}[${k}]`, message: 'must be a finite number >= 0 (bucket population)' });
      return undefined;
    }
  }
  return list as number[];
}

function checkSchema(v: unknown, path: string, problems: Problem[]): number | undefined {
  if (v === CUSTOM_BUCKETS_SCHEMA) {
    problems.push({
      path,
      message: 'schema -53 (custom buckets) is not supported; use a standard schema -4..8',
    });
  } else if (typeof v !== 'number' || !isStandardSchema(v)) {
    problems.push({
      path,
      message: `must be an integer in ${MIN_SCHEMA}..${MAX_SCHEMA} (standard exponential schemas)`,
    });
  } else return v;
  return undefined;
}

/** Problems of `input`, and the histogram when there are none. `path` prefixes every problem's path. */
export function nativeHistogramProblems(
  input: unknown,
  observations: Observations,
  path = '',
  variantFromValues = false,
): { problems: Problem[]; native?: NativeHistogram } {
  const problems: Problem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { problems: [{ path: path.replace(/\.$/, '') || 'native', message: 'must be an object' }] };
  }
  for (const key of Object.keys(input)) {
    if (!INPUT_FIELDS.has(key))
      problems.push({ path: `${path}${key}`, message: 'unknown field of a native histogram' });
  }
  const schema = checkSchema(own(input, 'schema') ?? 0, `${path}schema`, problems);
  const zeroThreshold = own(input, 'zeroThreshold') ?? 0;
  if (!isFiniteNonNegative(zeroThreshold)) {
    problems.push({ path: `${path}zero_threshold`, message: 'must be a finite number >= 0' });
  }
  const zeroCount = own(input, 'zeroCount') ?? 0;
  if (!isFiniteNonNegative(zeroCount)) {
    problems.push({ path: `${path}zero_count`, message: 'must be a finite number >= 0' });
  }
  const positive = checkSide(input, 'positive', schema, path, problems);
  const negative = checkSide(input, 'negative', schema, path, problems);
  if (positive && negative && positive.size + negative.size > MAX_NATIVE_BUCKETS) {
    problems.push({
      path: `${path}buckets`,
      message: `at most ${MAX_NATIVE_BUCKETS} buckets in all (positive and negative)`,
    });
  }
  // The integer variant: no side gave float counts (or, for the stored shape, every population is a
  // whole number: it is written as the integer variant) and the zero bucket and count are whole numbers.
  const whole = (b: Side | undefined) => b === undefined || b.buckets.counts.every(Number.isSafeInteger);
  const integer =
    (variantFromValues
      ? whole(positive) && whole(negative)
      : positive?.integer !== false && negative?.integer !== false) &&
    Number.isSafeInteger(zeroCount) &&
    Number.isSafeInteger(observations.count);
  if (problems.length > 0 || !positive || !negative || schema === undefined) return { problems };
  checkObservations(
    observations,
    (zeroCount as number) + positive.total + negative.total,
    integer,
    path,
    problems,
  );
  if (problems.length > 0) return { problems };
  return {
    problems,
    native: {
      schema,
      zeroThreshold: zeroThreshold as number,
      zeroCount: zeroCount as number,
      positive: positive.buckets,
      negative: negative.buckets,
    },
  };
}

function checkObservations(
  o: Observations,
  population: number,
  integer: boolean,
  path: string,
  problems: Problem[],
): void {
  const { count, sum } = o;
  if (!isFiniteNonNegative(count)) {
    problems.push({ path: `${path}sample_count`, message: 'must be a finite number >= 0' });
  } else if (integer && !Number.isNaN(sum) && count !== population) {
    problems.push({
      path: `${path}sample_count`,
      message: `${count} differs from the ${population} observations in the buckets (an integer histogram whose sum is not NaN must match exactly)`,
    });
  } else if (count < population * (1 - 1e-12)) {
    problems.push({
      path: `${path}sample_count`,
      message: `${count} is below the ${population} observations in the buckets`,
    });
  }
}

/** The validated histogram, or a NativeHistogramError listing every problem. */
export function validateNativeHistogram(
  input: unknown,
  observations: Observations,
  path = '',
): NativeHistogram {
  const { problems, native } = nativeHistogramProblems(input, observations, path);
  if (native === undefined) throw new NativeHistogramError(problems);
  return native;
}

const SHAPE_FIELDS: ReadonlySet<string> = new Set([
  'schema',
  'zeroThreshold',
  'zeroCount',
  'positive',
  'negative',
]);

/**
 * Problems of a value claimed to be a `NativeHistogram` (a push handed to a store, a stored record read
 * back): the same rules as `nativeHistogramProblems`, with both sides in the absolute form; a histogram
 * whose populations and count are all whole numbers is checked as the integer variant (it is written as one).
 */
export function nativeShapeProblems(
  value: unknown,
  observations: Observations,
  path = '',
): { problems: Problem[]; native?: NativeHistogram } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [{ path: path.replace(/\.$/, '') || 'native', message: 'must be an object' }] };
  }
  const problems: Problem[] = [];
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (!SHAPE_FIELDS.has(key))
      problems.push({ path: `${path}${key}`, message: 'unknown field of a native histogram' });
  }
  for (const key of ['schema', 'zeroThreshold', 'zeroCount'] as const) input[key] = own(value, key);
  for (const side of ['positive', 'negative'] as const) {
    const b = own(value, side);
    if (typeof b !== 'object' || b === null || Array.isArray(b)) {
      problems.push({ path: `${path}${side}`, message: 'must be an object {spans, counts}' });
      continue;
    }
    input[`${side}Spans`] = own(b, 'spans');
    input[`${side}Counts`] = own(b, 'counts') ?? [];
  }
  if (problems.length > 0) return { problems };
  return nativeHistogramProblems(input, observations, path, true);
}
