/**
 * What a push defines or checks per family (./push.ts, after ./push-read.ts): a new family or a
 * redefinition, the reserved-name rule, the family, group and store series limits, HELP. The checks throw
 * before anything is written; what the first transaction must carry is returned as item builders, since
 * the counts themselves follow the items, transaction by transaction (./counted-chunks.ts).
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { MetricFamily, MetricType } from '../../model/types';
import { type FamilySchema, familyConflict, reservedNameConflict } from '../families';
import { type Item, n, numList, SK_SCHEMA, s, schemaPk } from './codec';
import type { StoreContext } from './context';
import { Expr } from './expr';
import type { GroupRead, PushedFamily } from './push-read';
import { limitErr } from './schemas';
import { limitCond } from './updates';

/** The schema item action of a family's first transaction, given that transaction's series delta. */
export type FirstDef = (delta: number) => TransactWriteItem;

export interface Definitions {
  /** Per family: what the first transaction defines or checks (new family, redefinition, limit, HELP). */
  readonly firstDefs: ReadonlyMap<string, FirstDef>;
  /** Families the push defines (new or redefined): the reserved-name rule is checked beside them. */
  readonly defined: readonly { name: string; type: MetricType }[];
  /** The push's change of the store's series count (new series less the replaced ones not pushed again). */
  readonly totalDelta: number;
}

/** Checks every pushed family against its stored schema and the limits; throws on the first refusal. */
export async function defineFamilies(
  ctx: StoreContext,
  fams: readonly PushedFamily[],
  read: GroupRead,
): Promise<Definitions> {
  const definedType = (nm: string): MetricType | undefined => {
    const st = ctx.cache.schemas.get(nm);
    return read.pushedTypes.get(nm) ?? (st && st.count > 0 ? st.schema.type : undefined);
  };
  const firstDefs = new Map<string, FirstDef>();
  const defined: { name: string; type: MetricType }[] = [];
  let totalDelta = 0;
  for (const f of fams) {
    const name = f.family.name;
    const here = read.removed.get(name)?.length ?? 0;
    totalDelta += f.family.series.length - here;
    if (!f.schema) continue; // an empty family: removes its series here (their deletes count), defines nothing
    const def = defineFamily(ctx, f.family, f.schema, here, definedType);
    if (def.defines) defined.push({ name, type: f.family.type });
    if (def.first) firstDefs.set(name, def.first);
  }
  for (const [fam, items] of read.removed) if (!read.pushed.has(fam)) totalDelta -= items.length;
  await checkGroupLimits(ctx, fams, read, totalDelta);
  return { firstDefs, defined, totalDelta };
}

/** One family with series: new or redefined (`defines`), else checked against its stored schema. */
function defineFamily(
  ctx: StoreContext,
  family: MetricFamily,
  schema: FamilySchema,
  /** Series of the family this push replaces in the group. */
  here: number,
  definedType: (name: string) => MetricType | undefined,
): { defines: boolean; first?: FirstDef } {
  const name = family.name;
  const newCount = family.series.length;
  const delta = newCount - here;
  const stored = ctx.cache.schemas.get(name);
  if (!stored || stored.count === here) {
    const rc = reservedNameConflict(name, family.type, definedType);
    if (rc) throw rc;
  }
  if (!stored || (familyConflict(stored.schema, schema) && stored.count === here)) {
    // New family, or redefinition of one whose only series are the ones this push replaces.
    if (newCount > ctx.limits.maxSeriesPerFamily) throw limitErr(ctx, 'maxSeriesPerFamily', name);
    const help = family.help || stored?.help;
    return { defines: true, first: (d) => schemaPut(ctx, name, schema, help, stored ? here : undefined, d) };
  }
  const c = familyConflict(stored.schema, schema);
  if (c) throw c;
  if (delta > 0 && stored.count + delta > ctx.limits.maxSeriesPerFamily)
    throw limitErr(ctx, 'maxSeriesPerFamily', name);
  const help = family.help && !stored.help ? family.help : undefined;
  if (delta <= 0 && !help) return { defines: false };
  return { defines: false, first: (d) => schemaUpdate(ctx, name, schema.type, delta, help, d) };
}

/** The schema item of a new or redefined family, written whole with its count. */
function schemaPut(
  ctx: StoreContext,
  name: string,
  schema: FamilySchema,
  help: string | undefined,
  /** A redefinition: the count stored (the series this push replaces); undefined for a new family. */
  replacing: number | undefined,
  d: number,
): TransactWriteItem {
  const e = new Expr();
  const item: Item = {
    pk: s(schemaPk(name)),
    sk: s(SK_SCHEMA),
    name: s(name),
    t: s(schema.type),
    shape: s(schema.shape),
    bk: s(schema.buckets),
    b: numList([]),
    // The series this push replaces are still there until their deletes commit (with their -1).
    n: n((replacing ?? 0) + d),
    ...(help ? { help: s(help) } : {}),
  };
  return {
    Put: {
      TableName: ctx.table,
      Item: item,
      ConditionExpression:
        replacing !== undefined ? `${e.n('n')} = ${e.v(n(replacing))}` : `attribute_not_exists(${e.n('pk')})`,
      ...e.parts(),
    },
  };
}

/** The schema item of a family the push adds series to (its type and limit checked) or gives its HELP. */
function schemaUpdate(
  ctx: StoreContext,
  name: string,
  type: MetricType,
  delta: number,
  help: string | undefined,
  d: number,
): TransactWriteItem {
  const e = new Expr();
  const conds = [`${e.n('t')} = ${e.v(s(type))}`];
  if (delta > 0) conds.push(limitCond(e, ctx.limits.maxSeriesPerFamily - delta));
  const h = help ? `, ${e.n('help')} = ${e.v(s(help))}` : '';
  return {
    Update: {
      TableName: ctx.table,
      Key: { pk: s(schemaPk(name)), sk: s(SK_SCHEMA) },
      UpdateExpression: `SET ${e.n('name')} = ${e.v(s(name))}${h} ADD ${e.n('n')} ${e.v(n(d))}`,
      ConditionExpression: conds.join(' AND '),
      ...e.parts(),
    },
  };
}

/** The group and store limits for a push that adds series (the store count read fresh). */
async function checkGroupLimits(
  ctx: StoreContext,
  fams: readonly PushedFamily[],
  read: GroupRead,
  totalDelta: number,
): Promise<void> {
  if (totalDelta <= 0) return;
  const first = fams[0]?.family.name ?? '';
  if (read.part.series.length + totalDelta > ctx.limits.maxSeriesPerGroup)
    throw limitErr(ctx, 'maxSeriesPerGroup', first);
  const total = await ctx.io.readTotal();
  if (total + totalDelta > ctx.limits.maxSeriesTotal) throw limitErr(ctx, 'maxSeriesTotal', first);
}
