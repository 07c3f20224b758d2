/**
 * Durability of the memory store's state: the state file (serialize/restore) and the journal replay.
 */

import { open } from 'node:fs/promises';
import type { MetricType } from '../../model/types';
import { decNative, encNative } from '../native-codec';
import type { PushMethod } from '../types';
import {
  type Cell,
  flatKey,
  freezeLabels,
  type HistCell,
  isScalarType,
  type ScalarCell,
  type SummaryCell,
  scalarCell,
  summaryCell,
} from './cells';
import { decFamily, decLabels, decNum, decOp, encNum, type Num, startField, startOf } from './codec';
import { applyFailure, applyOp, applyPush, applyWipe, touchGroupForApply } from './effects';
import { addCell, createFamily, createGroup, type MemoryState, removeGroup } from './state';

export const STATE_FILE = 'state.json';

const STATE_VERSION = 1;

export interface StateFile {
  v: number;
  journalFrom: number;
  gen: number;
  groups: Array<{
    k: unknown;
    lp?: number | null;
    lf?: number | null;
    lr?: string | null;
    le?: number | null;
    lu: number;
    pm: number | null;
    mp: number | null;
    fp: Array<[string, number]>;
    f: Array<{ n: string; y: MetricType; h: string; b?: number[] | null; s: unknown[][] }>;
  }>;
  ledger: Array<[string, number, (string | null)?]>;
  tombstones: Array<[string, number]>;
}

export function serialize(st: MemoryState, journalFrom: number): string {
  const groups: unknown[] = [];
  for (const g of st.groups.values()) {
    const fams: unknown[] = [];
    for (const f of g.families.values()) {
      const rows: unknown[] = [];
      for (const [sk, cell] of f.series) {
        const c = cell as HistCell | SummaryCell;
        // A series' start (`createdMs`) is the row's last field when known (startField).
        if (isScalarType(f.type)) {
          const sc = cell as ScalarCell;
          rows.push([
            sc.labels,
            encNum(sc.value),
            f.setMs?.get(sk) ?? null,
            f.setVal?.get(sk) ?? null,
            ...startField(sc.createdMs),
          ]);
        } else if (c.t === 'h')
          rows.push([
            c.labels,
            c.cum.map(encNum),
            encNum(c.sum),
            encNum(c.count),
            c.bounds,
            ...(c.native === undefined && c.createdMs === undefined
              ? []
              : [c.native === undefined ? null : encNative(c.native), ...startField(c.createdMs)]),
          ]);
        else
          rows.push([
            c.labels,
            c.snap.quantiles.map((q) => [q.quantile, encNum(q.value)]),
            encNum(c.snap.sum),
            encNum(c.snap.count),
            ...startField(c.snap.createdMs),
          ]);
      }
      fams.push({ n: f.name, y: f.type, h: f.help, s: rows });
    }
    groups.push({
      k: g.key,
      lp: g.lastPushMs,
      lf: g.lastPushFailureMs,
      lr: g.lastFailureReason,
      le: g.lastEventMs,
      lu: g.lastUpdateMs,
      pm: finiteOrNull(g.putMs),
      mp: finiteOrNull(g.maxPushMs),
      fp: [...g.famPushMs],
      f: fams,
    });
  }
  return JSON.stringify({
    v: STATE_VERSION,
    journalFrom,
    gen: st.gen,
    groups,
    ledger: [...st.ledger].map(([id, t]) => [id, t, st.plans.get(id) ?? null]),
    tombstones: [...st.tombstones],
  });
}

export function restore(st: MemoryState, s: StateFile): number {
  if (s.v !== STATE_VERSION)
    throw new Error(`memory store: ${STATE_FILE} has version ${s.v}, expected ${STATE_VERSION}`);
  for (const g of s.groups) {
    const key = decLabels(g.k);
    const keyStr = flatKey(key);
    const grp = createGroup(st, key, keyStr);
    grp.lastPushMs = g.lp ?? undefined;
    grp.lastPushFailureMs = g.lf ?? undefined;
    grp.lastFailureReason = g.lr ?? undefined;
    grp.lastEventMs = g.le ?? undefined;
    grp.lastUpdateMs = g.lu;
    grp.putMs = g.pm ?? Number.NEGATIVE_INFINITY;
    grp.maxPushMs = g.mp ?? Number.NEGATIVE_INFINITY;
    for (const [n, t] of g.fp) grp.famPushMs.set(n, t);
    for (const f of g.f) {
      if (f.s.length === 0) continue;
      const fam = createFamily(st, grp, f.n, f.y, f.h, decLabels(f.s[0]![0]));
      for (const row of f.s) {
        const labels = freezeLabels(decLabels(row[0]));
        let cell: Cell;
        if (f.y === 'histogram') {
          cell = {
            t: 'h',
            labels,
            // State files before per-series layouts kept one layout per family (`b`).
            bounds: Object.freeze((row[4] as number[] | undefined) ?? f.b ?? []),
            cum: (row[1] as Num[]).map(decNum),
            sum: decNum(row[2]),
            count: decNum(row[3]),
            native:
              row[5] === undefined || row[5] === null
                ? undefined
                : decNative(row[5], { count: decNum(row[3]), sum: decNum(row[2]) }, `${STATE_FILE} ${f.n}`),
            createdMs: startOf(row[6]),
            snap: undefined,
          };
        } else if (f.y === 'summary') {
          const quantiles = (row[1] as Array<[number, Num]>).map(([quantile, v]) => ({
            quantile,
            value: decNum(v),
          }));
          cell = summaryCell(labels, quantiles, decNum(row[2]), decNum(row[3]), startOf(row[4]));
        } else {
          cell = scalarCell(labels, decNum(row[1]), startOf(row[4]));
        }
        const sk = flatKey(labels);
        addCell(st, grp, fam, sk, cell);
        if (isScalarType(f.y) && typeof row[2] === 'number')
          fam.recordSet(sk, row[2], typeof row[3] === 'number' ? row[3] : decNum(row[1]));
      }
    }
  }
  for (const [id, t, h] of s.ledger) {
    st.ledger.set(id, t);
    if (typeof h === 'string') st.plans.set(id, h);
  }
  for (const [k, t] of s.tombstones) st.tombstones.set(k, t);
  st.gen = s.gen;
  return s.journalFrom;
}

/** Re-applies one journal record (already checked when it was written). */
export function replay(st: MemoryState, line: string): void {
  const kind = line[0];
  const r = JSON.parse(line.slice(1)) as Record<string, unknown>;
  switch (kind) {
    case 'a': {
      const group = decLabels(r.g);
      const keyStr = flatKey(group);
      const t = r.t as number;
      let changed = false;
      for (const raw of r.ops as Record<string, unknown>[]) {
        const op = decOp(raw);
        if (applyOp(st, group, keyStr, op, flatKey(op.labels), t)) changed = true;
      }
      if (changed) {
        touchGroupForApply(st, keyStr, t, typeof r.e === 'number' ? r.e : undefined);
        st.gen++;
      }
      if (typeof r.id === 'string') {
        st.ledger.set(r.id, t);
        if (typeof r.h === 'string') st.plans.set(r.id, r.h);
      }
      return;
    }
    case 'p': {
      const group = decLabels(r.g);
      const fams = (r.f as Parameters<typeof decFamily>[0][]).map(decFamily);
      applyPush(st, group, flatKey(group), r.m as PushMethod, fams, r.pt as number, r.t as number);
      // A push with an idempotency key carries its ledger entry (./push-ledger.ts).
      if (typeof r.id === 'string' && typeof r.h === 'string') {
        st.ledger.set(r.id, r.t as number);
        st.plans.set(r.id, r.h);
      }
      return;
    }
    case 'f':
      applyFailure(st, decLabels(r.g), r.ft as number, r.r as string, r.t as number);
      return;
    case 'x': {
      for (const k of r.keys as unknown[]) {
        const g = st.groups.get(flatKey(decLabels(k)));
        if (g) removeGroup(st, g);
      }
      st.gen++;
      return;
    }
    case 'w':
      applyWipe(st);
      return;
    default:
      throw new Error(`unknown record kind ${JSON.stringify(kind)}`);
  }
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
