/**
 * The apply path's working state: requests (PReq), their ops (POp) and units (one ledger part, or a batch
 * of gauge sets), the per-transaction accumulators and what each transaction item stands for (Desc).
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AccrueError } from '../../model/errors';
import type { NativeHistogram } from '../../model/native';
import type { Labels } from '../../model/types';
import type { FamilySchema } from '../families';
import type { GroupingKey, MetricOp, RejectedOp } from '../types';
import { CHANGE_INDEX_ACTIONS, TRANSACT_MAX_ACTIONS } from './change-index';
import type { Item } from './codec';

/** Actions a builder may pack into one transaction: DynamoDB's 100, less the change index's (./change-index.ts). */
export const MAX_ACTIONS = TRANSACT_MAX_ACTIONS - CHANGE_INDEX_ACTIONS;

/** Fixed actions of an apply part besides its series: ledger, plan header, group meta, generation shard, store counter. */
export const PART_OVERHEAD = 5;

export interface PReq {
  readonly idx: number;
  readonly id: string;
  /** Plan hash (shared/store/plan.ts), kept on the ledger header item. */
  readonly hash: string;
  /** Ledger key of the header when the request has several parts (each part's transaction checks it). */
  header?: string;
  readonly group: GroupingKey;
  readonly gpk: string;
  readonly eventTimeMs?: number;
  readonly rejected: RejectedOp[];
  readonly units: Unit[];
}

export interface POp {
  readonly req: PReq;
  readonly index: number;
  /** Replaced by its classic part when the stored series has no native buckets (`classicPartOf`). */
  op: MetricOp;
  readonly labels: Labels;
  readonly sk: string;
  /** gpk + sk */
  readonly key: string;
  readonly schema: FamilySchema;
  readonly bounds?: readonly number[];
  readonly help?: string;
  /** May live in a pack (./packs.ts): decided by content only. */
  readonly pack: boolean;
}

export type UnitState = 'pending' | 'applied' | 'duplicate' | 'failed' | 'empty';

export interface Unit {
  readonly req: PReq;
  /** Ledger key (parts of additive ops; every request has at least one); undefined for set units. */
  readonly ledger?: string;
  adds: POp[];
  sets: POp[];
  state: UnitState;
  error?: AccrueError;
}

export interface SeriesAcc {
  readonly key: string;
  readonly gpk: string;
  readonly sk: string;
  readonly first: POp;
  isNew: boolean;
  /** Ops contributing (for limit rejections and drops). */
  readonly ops: POp[];
  scalar?: number;
  hist?: { cum: number[]; sum: number; count: number };
  set?: POp;
  /** Where the series is written in this transaction: its own item or its pack (./packs.ts). */
  home?: 'item' | 'pack';
  /** Read-modify-write of a scalar whose value DynamoDB can't add to (huge, or stored as text): the value read. */
  rmw?: { old?: AttributeValue };
  /** Native buckets of the ops, added by the spec; ADDed in the stored layout (./apply-exec.ts `prepareNative`). */
  native?: NativeHistogram;
  /** The item as read, when the series is rewritten whole to merge its native buckets (./updates.ts `seriesRewrite`). */
  rewrite?: { readonly old?: Item };
}

export interface GroupAcc {
  readonly gpk: string;
  readonly group: GroupingKey;
  newSeries: SeriesAcc[];
  eventMax?: number;
}

export interface FamAcc {
  readonly name: string;
  readonly schema: FamilySchema;
  newSeries: SeriesAcc[];
}

export type Desc =
  | { readonly k: 'ledger'; readonly unit: Unit }
  | { readonly k: 'header'; readonly req: PReq }
  | { readonly k: 'series'; readonly acc: SeriesAcc }
  /** One pack update: its series, and new series of their own item that must not be in it (`guards`). */
  | {
      readonly k: 'pack';
      readonly key: string;
      readonly accs: SeriesAcc[];
      readonly guards: SeriesAcc[];
      readonly newBytes: number;
    }
  /** New series of their own item: their pack is full and doesn't hold them (./pack-writes.ts). */
  | { readonly k: 'guard'; readonly key: string; readonly accs: SeriesAcc[] }
  | { readonly k: 'meta'; readonly acc: GroupAcc; readonly withEvent: boolean }
  | { readonly k: 'family'; readonly acc: FamAcc }
  | { readonly k: 'total'; readonly news: SeriesAcc[] }
  | { readonly k: 'gen' };

/** Fails every unit of a request still pending (nothing of it is written from now on). */
export function failRequest(r: PReq, error: AccrueError): void {
  for (const u of r.units) {
    if (u.state !== 'pending') continue;
    u.state = 'failed';
    u.error = error;
  }
}

/** Rejects an op in its request and removes it from its unit. */
export function rejectOp(op: POp, error: AccrueError): void {
  if (op.req.rejected.some((r) => r.index === op.index)) return;
  op.req.rejected.push({ index: op.index, error: withPath(error, `ops[${op.index}]`) });
  for (const u of op.req.units) {
    u.adds = u.adds.filter((x) => x !== op);
    u.sets = u.sets.filter((x) => x !== op);
  }
}

export function copyLabels(l: Labels): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const k of Object.keys(l)) out[k] = l[k]!;
  return out;
}

export function withPath<E extends AccrueError>(err: E, path: string): E {
  if (err.message.startsWith(path)) return err;
  (err as { message: string }).message = `${path}: ${err.message}`;
  return err;
}
