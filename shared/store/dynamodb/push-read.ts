/**
 * The first steps of a push (./push.ts): its families as the store checks them (plan), and the group as
 * one attempt reads it (read): whether a newer push holds it, which stored series the push replaces, and
 * the family schemas it is checked against, read fresh.
 */
import type { MetricFamily, MetricType } from '../../model/types';
import {
  type FamilySchema,
  groupShapeNames,
  reservedNameCandidates,
  schemaOf,
  seriesLabelLimitError,
} from '../families';
import type { PushRequest } from '../types';
import type { Item } from './codec';
import type { StoreContext } from './context';
import type { GroupPartition } from './io';
import { isPacked } from './packs';
import { newerPushThan } from './revision';
import { loadSchemas } from './schemas';

/** A pushed family and the schema its first series gives (none for an empty family). */
export interface PushedFamily {
  readonly family: MetricFamily;
  readonly schema: FamilySchema | undefined;
}

/** The group as one attempt of a push read it. */
export interface GroupRead {
  readonly part: GroupPartition;
  /** Names of the pushed families. */
  readonly pushed: ReadonlySet<string>;
  /** Stored series the push replaces (PUT: all; POST: those of its families), per family. */
  readonly removed: ReadonlyMap<string, Item[]>;
  /** Sort keys of the stored series of their own item: a pushed series there is replaced in place. */
  readonly oldKeys: ReadonlySet<string>;
  /** Types of the pushed families that have series. */
  readonly pushedTypes: ReadonlyMap<string, MetricType>;
  /** Families whose schemas were read (forgotten once the push is written). */
  readonly famNames: readonly string[];
}

/** Per family: the type (label names and bucket layouts may differ between series); label limits. */
export function pushedFamilies(ctx: StoreContext, request: PushRequest): PushedFamily[] {
  const group = request.group;
  const gnames = groupShapeNames(group);
  return request.families.map((f) => {
    let schema: FamilySchema | undefined;
    for (const sr of f.series) {
      schema ??= schemaOf(f.name, f.type, gnames, sr.labels);
      const lim = seriesLabelLimitError(f.name, group, gnames, sr.labels, ctx.limits);
      if (lim) throw lim;
    }
    return { family: f, schema };
  });
}

/** Reads the group's partition and the schemas the push is checked against; 'stale' if a newer push holds it. */
export async function readGroup(
  ctx: StoreContext,
  request: PushRequest,
  gpk: string,
  fams: readonly PushedFamily[],
): Promise<GroupRead | 'stale'> {
  const t = request.pushTimeMs;
  const part = await ctx.io.queryGroup(gpk);
  if (newerPushThan(part.meta, t)) return 'stale';
  const pushed = new Set(fams.map((f) => f.family.name));
  const replaces = (fam: string) => request.method === 'PUT' || pushed.has(fam);
  for (const [fam, ts] of part.pushTs) {
    if (ts > t && replaces(fam)) return 'stale';
  }
  // Old series being replaced, per family.
  const removed = new Map<string, Item[]>();
  for (const it of part.series) {
    const fam = it.f?.S ?? '';
    if (!replaces(fam)) continue;
    const l = removed.get(fam) ?? [];
    l.push(it);
    removed.set(fam, l);
  }
  // Series of their own item are replaced in place; pushed series move out of packs (./packs.ts).
  const oldKeys = new Set(part.series.filter((it) => !isPacked(it)).map((it) => it.sk!.S!));
  const pushedTypes = new Map<string, MetricType>();
  const reservedNames: string[] = [];
  for (const f of fams) {
    if (!f.schema) continue;
    pushedTypes.set(f.family.name, f.family.type);
    reservedNames.push(...reservedNameCandidates(f.family.name, f.family.type));
  }
  const famNames = [...new Set([...pushed, ...removed.keys(), ...reservedNames])];
  // Schemas, read fresh: pushes are rare next to applies and must be exact.
  await loadSchemas(ctx, famNames);
  return { part, pushed, removed, oldKeys, pushedTypes, famNames };
}
