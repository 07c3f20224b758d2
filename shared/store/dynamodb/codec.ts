/**
 * Encoding between Accrue's model and DynamoDB attribute values, by hand (no lib-dynamodb: the Lambda
 * bundle stays small), plus the key scheme of the series table. See docs/store-dynamodb.md.
 */

import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { labelsKey } from '../../model/identity';
import { isLegacyMetricName } from '../../model/names';
import { forEachBucket, fromSparse, type NativeHistogram, type SparseBuckets } from '../../model/native';
import type { Labels } from '../../model/types';
import { decNative, encNative } from '../native-codec';

export type Item = Record<string, AttributeValue>;

/** Fixed-length digest used in keys: 22 base64url characters (132 bits) of SHA-256. */
export function digest(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('base64url').slice(0, 22);
}

/** Family names longer than this are hashed in keys (the sort key limit is 1024 bytes). */
const MAX_NAME_IN_KEY = 200;

/**
 * A family name as it appears in sort keys: itself when it is a short legacy name, else `~` + digest.
 * UTF-8 names (ACCRUE_UTF8_NAMES) are always hashed: one holding `#` would otherwise make the
 * `s#<family>#` prefix of one family match series of another (`a` and `a#b`).
 */
export function famToken(name: string): string {
  return name.length <= MAX_NAME_IN_KEY && isLegacyMetricName(name) ? name : `~${digest(name)}`;
}

// ---- key scheme (series table: pk S, sk S) ----
export const SK_META = 'meta';
export const SK_SCHEMA = 'schema';
export const PK_TOTAL = 'c#total';
export const SK_TOTAL = 'c';
/** The store's group count (meta items: live groups, failure-only groups, DELETE tombstones). */
export const PK_GROUPS = 'c#groups';
export const PK_GEN = 'gen';
export const GEN_SHARDS = 16;

/** Partition of one group: `g#` + digest of the group's label identity. */
export function groupPk(group: Labels): string {
  return `g#${digest(labelsKey(group))}`;
}
/** Series item inside its group's partition: `s#<family>#<digest of series labels>`. */
export function seriesSk(family: string, labels: Labels): string {
  return `s#${famToken(family)}#${digest(labelsKey(labels))}`;
}
/** Per-family push marker inside a group (POST ordering): `p#<family>`. */
export function familyPushSk(family: string): string {
  return `p#${famToken(family)}`;
}
/** Global schema item of a family. */
export function schemaPk(family: string): string {
  return `f#${famToken(family)}`;
}
export function genSk(shard: number): string {
  return String(shard).padStart(2, '0');
}
/** Prefix of the generation shards' partition keys: one partition per shard (`gen#00` … `gen#15`, sk `n`). */
export const PK_GEN_SHARD = 'gen#';
/**
 * Key of generation shard `shard`. Each shard is its own partition, so the writes that every committed
 * change makes are spread over 16 partitions, not one (issue 11 defect 8). Shards of older versions
 * (pk `gen`, sk `00`…`15`) are still read and summed by `generation()`.
 */
export function genKey(shard: number): { pk: { S: string }; sk: { S: string } } {
  return { pk: { S: `${PK_GEN_SHARD}${genSk(shard)}` }, sk: { S: 'n' } };
}
/** Ledger keys: the id itself unless it is too long for a partition key. */
export function ledgerKey(id: string): string {
  return Buffer.byteLength(id, 'utf8') <= 1024 ? `i#${id}` : `h#${digest(id)}`;
}
export function shardOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h) % GEN_SHARDS;
}

// ---- values ----
export const s = (v: string): AttributeValue => ({ S: v });
export const n = (v: number): AttributeValue => ({ N: String(v) });

/** DynamoDB numbers: 38 significant digits, magnitude 1e-130 .. <1e126. */
function representable(v: number): boolean {
  if (!Number.isFinite(v)) return false;
  if (v === 0) return true;
  const a = Math.abs(v);
  return a >= 1e-130 && a < 1e125;
}

/**
 * A replaced (not added) value: exact (JavaScript's shortest round-trip form) as a Number when
 * DynamoDB can hold it, otherwise as a String (`NaN`, `+Inf`, `-Inf`, or the shortest form).
 */
export function valueAttr(v: number): AttributeValue {
  if (representable(v)) return { N: Object.is(v, -0) ? '0' : String(v) };
  if (Number.isNaN(v)) return { S: 'NaN' };
  if (v === Infinity) return { S: '+Inf' };
  if (v === -Infinity) return { S: '-Inf' };
  return { S: String(v) };
}

/** Scalar deltas at or above this magnitude are written by read-modify-write (histograms: rejected). */
export const MAX_DELTA = 1e20;
/** Fractional digits kept in additive deltas: sums stay exact decimals well inside DynamoDB's 38 digits. */
export const DELTA_DECIMALS = 12;

/**
 * An additive delta as a decimal string with at most DELTA_DECIMALS fractional digits. DynamoDB adds
 * decimals exactly, so 0.1 + 0.2 stays 0.3; the rounding bounds the digits a running sum can need.
 */
export function deltaString(v: number): string {
  if (Number.isInteger(v)) return Object.is(v, -0) ? '0' : v.toFixed(0);
  let out = v.toFixed(DELTA_DECIMALS);
  if (out.includes('.')) out = out.replace(/0+$/, '').replace(/\.$/, '');
  if (out === '-0' || out === '') out = '0';
  return out;
}

/**
 * `a + b` for two DynamoDB decimal numbers (plain or exponent notation), exactly, in plain notation: what an
 * ADD of `b` into `a` stores. A rewrite (./updates.ts `seriesRewrite`) uses it so that a series' sum is the
 * same decimal the ADD path would have made, not a float re-rounding of it.
 */
export function addDecimals(a: string, b: string): string {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const scale = Math.max(x.scale, y.scale);
  const sum = x.digits * 10n ** BigInt(scale - x.scale) + y.digits * 10n ** BigInt(scale - y.scale);
  const neg = sum < 0n;
  let text = (neg ? -sum : sum).toString();
  if (scale > 0) {
    text = text.padStart(scale + 1, '0');
    text = `${text.slice(0, -scale)}.${text.slice(-scale)}`.replace(/0+$/, '').replace(/\.$/, '');
  }
  return neg && text !== '0' ? `-${text}` : text;
}

/** A decimal string as integer digits and a scale (value = digits / 10^scale). */
function parseDecimal(v: string): { digits: bigint; scale: number } {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(v.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === ''))
    throw new Error(`not a DynamoDB number: ${JSON.stringify(v)}`);
  const frac = m[3] ?? '';
  let scale = frac.length - Number(m[4] ?? 0);
  let digits = BigInt(`${m[2] || '0'}${frac}`);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits: m[1] === '-' ? -digits : digits, scale };
}

export function readNumber(a: AttributeValue | undefined): number | undefined {
  if (a === undefined) return undefined;
  if (a.N !== undefined) return Number(a.N);
  if (a.S !== undefined) {
    if (a.S === '+Inf') return Infinity;
    if (a.S === '-Inf') return -Infinity;
    return Number(a.S);
  }
  return undefined;
}

export function readString(a: AttributeValue | undefined): string | undefined {
  return a?.S;
}

export function labelsAttr(labels: Labels): AttributeValue {
  const m: Record<string, AttributeValue> = {};
  for (const k of Object.keys(labels)) {
    // defineProperty: a label may be called `__proto__`-like names; never touch the prototype chain.
    Object.defineProperty(m, k, {
      value: { S: labels[k]! },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { M: m };
}

export function readLabels(a: AttributeValue | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const m = a?.M;
  if (!m) return out;
  for (const k of Object.keys(m)) {
    const v = m[k];
    if (v?.S !== undefined) out[k] = v.S;
  }
  return out;
}

export function numList(values: readonly number[]): AttributeValue {
  return { L: values.map(valueAttr) };
}

export function readNumList(a: AttributeValue | undefined): number[] {
  return (a?.L ?? []).map((x) => readNumber(x) ?? Number.NaN);
}

// ---- a series' start (model `SeriesStart`): when the store created it, or the start a push carried ----
/**
 * Attribute of a series item (and of a series' map in its pack) holding its start, ms since the epoch. Set
 * only by the write that creates the item or map entry (`attribute_not_exists` guards it), so a
 * redelivery, a retry or another process with another clock never moves it; a series removed (PUT, DELETE,
 * expiry) and written again is a new item with a new start.
 */
export const CREATED = 'cr';

/** The start stored on a series item, if any. */
export function readCreated(it: Item): number | undefined {
  const ms = readNumber(it[CREATED]);
  return ms !== undefined && Number.isFinite(ms) ? ms : undefined;
}

// ---- native histograms aggregated from events: one numeric attribute per bucket, ADDed ----
// A series declared native by its profile keeps its layout in `xs` (schema) and `xz` (zero threshold), its
// zero bucket in `xzc` and each populated bucket in its own Number attribute: `xp<i>` / `xn<i>` for the
// positive / negative bucket of index i >= 0, `xp_<|i|>` / `xn_<|i|>` for i < 0. With the layout fixed, an
// apply ADDs into them like into the classic `b<i>` (./updates.ts). A pushed native histogram is the JSON
// attribute `nh` instead (shared/store/native-codec.ts); an apply that merges into one rewrites the item
// into this form.
export const NATIVE_SCHEMA = 'xs';
export const NATIVE_ZERO_THRESHOLD = 'xz';
export const NATIVE_ZERO_COUNT = 'xzc';
/**
 * An upper bound of the series' populated native buckets: what the last rewrite (or the creating write)
 * wrote plus the buckets of every ADD since. An ADD is conditional on it staying within MAX_NATIVE_BUCKETS;
 * when it would not, the item is rewritten by the spec (`addNative` reduces the schema past the cap, as the
 * memory store does), which sets it to the exact count again.
 */
export const NATIVE_BUCKET_BOUND = 'xb';

/** Populated (non-zero) buckets of a native histogram: what the per-bucket form stores, and `xb` counts. */
export function nativeBucketCount(h: NativeHistogram): number {
  let k = 0;
  const count = (_i: number, c: number) => {
    if (c !== 0) k++;
  };
  forEachBucket(h.positive, count);
  forEachBucket(h.negative, count);
  return k;
}
const NATIVE_BUCKET = /^x([pn])(_?)(\d+)$/;

/** Attribute of bucket `index` of one side. */
export function nativeBucketAttr(side: 'p' | 'n', index: number): string {
  return index < 0 ? `x${side}_${-index}` : `x${side}${index}`;
}

/** True for every attribute of the per-bucket form (and `nh`): what a rewrite replaces. */
export function isNativeAttr(name: string): boolean {
  return (
    name === 'nh' ||
    name === NATIVE_SCHEMA ||
    name === NATIVE_ZERO_THRESHOLD ||
    name === NATIVE_ZERO_COUNT ||
    name === NATIVE_BUCKET_BOUND ||
    NATIVE_BUCKET.test(name)
  );
}

/** The per-bucket attributes of a native histogram (a rewrite, ./updates.ts `seriesRewrite`). */
export function nativeAttrs(h: NativeHistogram): Item {
  const out: Item = {
    [NATIVE_SCHEMA]: n(h.schema),
    [NATIVE_ZERO_THRESHOLD]: n(h.zeroThreshold),
    [NATIVE_ZERO_COUNT]: n(h.zeroCount),
    [NATIVE_BUCKET_BOUND]: n(nativeBucketCount(h)),
  };
  forEachBucket(h.positive, (i, c) => {
    if (c !== 0) out[nativeBucketAttr('p', i)] = n(c);
  });
  forEachBucket(h.negative, (i, c) => {
    if (c !== 0) out[nativeBucketAttr('n', i)] = n(c);
  });
  return out;
}

/** Schema and zero threshold of the per-bucket form, when the item has it. */
export function nativeLayoutOf(it: Item): { schema: number; zeroThreshold: number } | undefined {
  const schema = readNumber(it[NATIVE_SCHEMA]);
  if (schema === undefined) return undefined;
  return { schema, zeroThreshold: readNumber(it[NATIVE_ZERO_THRESHOLD]) ?? Number.NaN };
}

/**
 * The stored native histogram of a series item in either form (`nh` JSON or per-bucket attributes), checked
 * (`nativeShapeProblems` through `decNative`): a damaged item throws an Error naming `where`.
 */
export function readNative(it: Item, where: string): NativeHistogram | undefined {
  const observations = { count: readNumber(it.c) ?? 0, sum: readNumber(it.s) ?? 0 };
  const raw = readString(it.nh);
  if (raw !== undefined) return decNative(JSON.parse(raw), observations, where);
  const layout = nativeLayoutOf(it);
  if (layout === undefined) return undefined;
  const positive: SparseBuckets = new Map();
  const negative: SparseBuckets = new Map();
  for (const k of Object.keys(it)) {
    const m = NATIVE_BUCKET.exec(k);
    if (!m) continue;
    const index = m[2] === '_' ? -Number(m[3]) : Number(m[3]);
    (m[1] === 'p' ? positive : negative).set(index, readNumber(it[k]) ?? Number.NaN);
  }
  const zc = readNumber(it[NATIVE_ZERO_COUNT]) ?? 0;
  return decNative(
    encNative({
      schema: layout.schema,
      zeroThreshold: layout.zeroThreshold,
      zeroCount: zc,
      positive: fromSparse(positive),
      negative: fromSparse(negative),
    }),
    observations,
    where,
  );
}
