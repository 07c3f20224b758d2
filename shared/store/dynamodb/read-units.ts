/**
 * Read capacity by DynamoDB's rules, for the reads the snapshot makes (docs/store-dynamodb.md, "Reads"):
 * - Query and Scan: the sizes of all items a page returns, summed, rounded up to 4 KB, one unit per 4 KB
 *   (at least one), half for an eventually consistent read;
 * - BatchGetItem: every item rounded up to 4 KB on its own.
 * Item size: attribute names plus values (strings and binaries by their bytes, numbers about one byte per
 * two significant digits plus one, maps and lists 3 bytes plus one per element). When DynamoDB reports the
 * consumed capacity (AWS does; DynamoDB Local not for every call) the reported figure is used instead.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item } from './codec';

const UNIT_BYTES = 4096;

function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return numberBytes(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((a, x) => a + Buffer.byteLength(x, 'utf8'), 0);
  if (v.NS !== undefined) return v.NS.reduce((a, x) => a + numberBytes(x), 0);
  if (v.M !== undefined) {
    let b = 3;
    for (const [k, x] of Object.entries(v.M)) b += Buffer.byteLength(k, 'utf8') + valueBytes(x) + 1;
    return b;
  }
  if (v.L !== undefined) {
    let b = 3;
    for (const x of v.L) b += valueBytes(x) + 1;
    return b;
  }
  return 0;
}

function numberBytes(nv: string): number {
  const digits = nv.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').length;
  return Math.ceil(Math.max(1, digits) / 2) + 1;
}

/** An item's size as DynamoDB counts it. */
export function itemBytes(item: Item): number {
  let b = 0;
  for (const [k, v] of Object.entries(item)) b += Buffer.byteLength(k, 'utf8') + valueBytes(v);
  return b;
}

/** Units of one Query or Scan page. */
export function pageUnits(items: readonly Item[], consistent: boolean): number {
  let bytes = 0;
  for (const it of items) bytes += itemBytes(it);
  const units = Math.max(1, Math.ceil(bytes / UNIT_BYTES));
  return consistent ? units : units / 2;
}

/** Units of one BatchGetItem (each item on its own; at least one unit per key asked). */
export function batchGetUnits(items: readonly Item[], keys: number, consistent: boolean): number {
  let units = Math.max(0, keys - items.length);
  for (const it of items) units += Math.max(1, Math.ceil(itemBytes(it) / UNIT_BYTES));
  return consistent ? units : units / 2;
}

/** The capacity DynamoDB reported on a response, if any. */
export function reportedUnits(consumed: unknown): number | undefined {
  if (!consumed) return undefined;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  let sum = 0;
  let any = false;
  for (const x of list) {
    const u = (x as { CapacityUnits?: number }).CapacityUnits;
    if (typeof u === 'number' && u > 0) {
      sum += u;
      any = true;
    }
  }
  return any ? sum : undefined;
}
