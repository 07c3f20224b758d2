/**
 * Series packs (issue 11, write cost): scalar series of one (group, family) written by apply() share a few
 * items, `v#<family>#<chunk>`, one map attribute per series keyed by its label digest. A transaction then
 * writes one item per pack instead of one per series, and DynamoDB bills per item and KB. The rule that
 * decides a series' home, the keys, and turning pack items back into series items for every reader are
 * here. See docs/store-dynamodb.md ("Series packs").
 */

import type { AttributeValue, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { Labels } from '../../model/types';
import type { MetricOp } from '../types';
import { type Item, n, readNumber } from './codec';
import { Expr } from './expr';

/** Sort-key prefix of pack items. */
export const PACK_PREFIX = 'v#';
/** Packs per (group, family): a series' pack is fixed by its label digest. */
export const PACK_CHUNKS = 4;
/**
 * Estimated bytes of series in a pack (`z`) up to which it takes new series: a write adding series checks
 * `z <= PACK_ROOM`, one keeping a new series out of it (its own item) checks `z > PACK_ROOM`. `z` only
 * grows while a pack exists, so the two never both hold for one pack: a series has exactly one home.
 * A transaction adds at most PACK_ROOM bytes of new series to a pack (./apply-pack.ts; one request part
 * alone may add more), so packs stay below ~4 KB: a transactional write of one costs at most 8 WCU.
 */
export const PACK_ROOM = 2048;
/** Series with more label bytes than this keep their own item. */
export const PACK_MAX_LABEL_BYTES = 256;
/**
 * Expression budget of one pack update per transaction when units are merged (./apply-pack.ts): an add
 * costs 1, a gauge set 4. One unit alone (at most ~94 additive ops, or SETS_PER_UNIT sets) always fits
 * DynamoDB's limits (4 KB per expression, 300 operators).
 */
export const PACK_SLOTS = 75;
/** Pack attributes that are not series: family, type, write and event time, series count, bytes. */
const PACK_FIELDS = new Set(['pk', 'sk', 'f', 't', 'u', 'ev', 'k', 'z']);

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function labelBytes(labels: Labels): number {
  let b = 0;
  for (const k of Object.keys(labels)) b += Buffer.byteLength(k) + Buffer.byteLength(labels[k]!) + 3;
  return b;
}

/** Whether a series written by this op lives in a pack: scalar kinds with short labels (content only). */
export function packable(op: MetricOp, labels: Labels): boolean {
  if (op.kind !== 'counter_inc' && op.kind !== 'gauge_add' && op.kind !== 'gauge_set') return false;
  return labelBytes(labels) <= PACK_MAX_LABEL_BYTES;
}

/** Whether a series of this family type and labels would live in a pack if apply() created it. */
export function packableSeries(type: string, labels: Labels): boolean {
  return (type === 'counter' || type === 'gauge') && labelBytes(labels) <= PACK_MAX_LABEL_BYTES;
}

/** A push's check that a pack it did not see still doesn't exist (see pushToGroup). */
export function packAbsent(table: string, gpk: string, sk: string): TransactWriteItem {
  const e = new Expr();
  return {
    ConditionCheck: {
      TableName: table,
      Key: { pk: { S: gpk }, sk: { S: sk } },
      ConditionExpression: `attribute_not_exists(${e.n('pk')})`,
      ...e.parts(),
    },
  };
}

/** Bytes a series adds to its pack (`z`): digest name, map, labels, value, set time and value. */
export function seriesBytes(labels: Labels): number {
  return 22 + 6 + labelBytes(labels) + 40;
}

/** The series' attribute name in its pack: the label digest of its sort key `s#<family>#<digest>`. */
export function seriesId(sk: string): string {
  return sk.slice(sk.lastIndexOf('#') + 1);
}

/** The pack's sort key for a series sort key: `v#<family>#<chunk>`, chunk from the digest's first character. */
export function packSk(sk: string): string {
  const id = seriesId(sk);
  const fam = sk.slice(2, sk.length - id.length - 1);
  const chunk = Math.max(0, B64.indexOf(id[0] ?? 'A')) % PACK_CHUNKS;
  return `${PACK_PREFIX}${fam}#${chunk}`;
}

/** Cache key of a pack item (`<gpk>|<pack sk>`), as series keys are `<gpk>|<series sk>`. */
export function packKeyOf(seriesKey: string): string {
  const bar = seriesKey.indexOf('|');
  return `${seriesKey.slice(0, bar)}|${packSk(seriesKey.slice(bar + 1))}`;
}

/** Series items made from packs (not items of their own): writers remove them with their pack. */
const fromPacks = new WeakSet<Item>();

/** Whether a series item came from a pack (explodePack), i.e. has no item of its own. */
export function isPacked(it: Item): boolean {
  return fromPacks.has(it);
}

/** The series of a pack item, as series items (what readers and pushes work on). */
export function explodePack(pack: Item): Item[] {
  const sk = pack.sk?.S ?? '';
  const fam = sk.slice(PACK_PREFIX.length, sk.lastIndexOf('#'));
  const out: Item[] = [];
  for (const name of Object.keys(pack)) {
    const m = pack[name]?.M;
    if (PACK_FIELDS.has(name) || !m) continue;
    const it: Item = Object.create(null);
    for (const k of Object.keys(m)) it[k] = m[k]!;
    it.pk = pack.pk!;
    it.sk = { S: `s#${fam}#${name}` };
    for (const k of ['f', 't', 'u', 'ev'] as const) if (pack[k] !== undefined) it[k] = pack[k]!;
    fromPacks.add(it);
    out.push(it);
  }
  return out;
}

/**
 * A partition's series: own items, then the series of its packs not also stored as their own item (a push
 * racing an apply's creation could leave both; the own item wins, and the next push or DELETE removes both).
 */
export function mergeSeries(own: readonly Item[], packs: readonly Item[]): Item[] {
  if (packs.length === 0) return [...own];
  const seen = new Set(own.map((it) => it.sk?.S));
  const out = [...own];
  for (const p of packs) for (const it of explodePack(p)) if (!seen.has(it.sk?.S)) out.push(it);
  return out;
}

/** The pack's family name (`f`). */
export function packFamily(pack: Item): string {
  return pack.f?.S ?? '';
}

/**
 * Removal of a whole pack as seen (a push replacing its family, a DELETE, expiry): conditional on its series
 * count `k` being the one seen (no series added since), and for expiry on no write since the cutoff. Its
 * counter effect is -k on its family.
 */
export function deletePack(table: string, pack: Item, notWrittenSince?: number): TransactWriteItem {
  const e = new Expr();
  const conds = [`${e.n('k')} = ${e.v(n(readNumber(pack.k) ?? 0))}`];
  if (notWrittenSince !== undefined)
    conds.push(`(attribute_not_exists(${e.n('u')}) OR ${e.n('u')} < ${e.v(n(notWrittenSince))})`);
  return {
    Delete: {
      TableName: table,
      Key: { pk: pack.pk!, sk: pack.sk! },
      ConditionExpression: conds.join(' AND '),
      ...e.parts(),
    },
  };
}

/** Series count of a pack item as written (`k`). */
export function packCount(pack: Item): number {
  return readNumber(pack.k) ?? 0;
}

/** The map of one series in a pack item (ALL_OLD of a cancellation, a read), if there. */
export function seriesIn(pack: Item | undefined, sk: string): Record<string, AttributeValue> | undefined {
  return pack?.[seriesId(sk)]?.M;
}
