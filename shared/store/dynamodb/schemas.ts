/**
 * Family schemas on DynamoDB: reading, creating and redefining schema items, HELP, the reserved-name rule
 * (shared with the memory store through ../families.ts) and the limit errors.
 */

import { type TransactWriteItem, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type FamilyConflictError, LimitError } from '../../model/errors';
import { reservedSuffixes, reservesSuffix, suffixOwners } from '../../model/exposed-names';
import type { MetricType } from '../../model/types';
import {
  type FamilySchema,
  familyConflict,
  reservedNameCandidates,
  reservedNameConflict,
  type SeriesLimit,
  seriesLimitError,
} from '../families';
import type { POp } from './apply-types';
import { rejectOp } from './apply-types';
import { schemaFromItem } from './assemble';
import { type Item, n, numList, SK_SCHEMA, s, schemaPk } from './codec';
import type { StoreContext } from './context';
import { Expr } from './expr';
import { cancellationReasons } from './retry';

/**
 * Family consistency for a batch: the stored schema (cached, else read) or, for a family new to the
 * store (or left without series), the first definition in the batch, created with a conditional put.
 */
export async function resolveSchemas(ctx: StoreContext, ops: POp[], fresh = false): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const names = [...new Set(ops.map((o) => o.op.name))].filter((nm) => fresh || !ctx.cache.schemas.has(nm));
    if (names.length > 0) await loadSchemas(ctx, names);
    fresh = false;
    const defs = new Map<string, POp>();
    const live = ops.filter((o) => !o.req.rejected.some((r) => r.index === o.index));
    for (const o of live) {
      const stored = ctx.cache.schemas.get(o.op.name);
      const def = defs.get(o.op.name);
      if (def) {
        const c = familyConflict(def.schema, o.schema);
        if (c) rejectOp(o, c);
        continue;
      }
      if (stored && (stored.count > 0 || !familyConflict(stored.schema, o.schema))) {
        const c = familyConflict(stored.schema, o.schema);
        if (c) rejectOp(o, c);
        continue;
      }
      defs.set(o.op.name, o);
    }
    // Families to (re)define: absent, or present without series and defined differently.
    const toCreate = await withoutReservedConflicts(
      ctx,
      [...defs.values()].filter((d) => {
        const st = ctx.cache.schemas.get(d.op.name);
        return !st || familyConflict(st.schema, d.schema);
      }),
      live,
    );
    let lost = false;
    await Promise.all(
      toCreate.map(async (d) => {
        const ok = await putSchema(
          ctx,
          d.schema,
          d.bounds ?? [],
          d.help,
          ctx.cache.schemas.get(d.op.name)?.count,
          reservationGuards(ctx, [d.schema]),
        );
        if (!ok) lost = true;
      }),
    );
    // HELP: the first non-empty one is kept; set once per family when the stored schema has none.
    const helps = new Map<string, string>();
    for (const o of live)
      if (o.help && !ctx.cache.schemas.get(o.op.name)?.help && !helps.has(o.op.name))
        helps.set(o.op.name, o.help);
    await Promise.all([...helps].map(([nm, h]) => setHelp(ctx, nm, h)));
    if (!lost) return;
  }
}

/**
 * Families about to be defined whose name collides with a histogram/summary's `_bucket`/`_sum`/`_count`
 * (`reservedNameConflict`, the rule both stores share): their ops are rejected. Reads the schemas the
 * rule needs; a conflict found with cached schemas is confirmed by reading them again (another process
 * may have removed the other family's series since). The first definition in the batch wins over later
 * ones.
 */
export async function withoutReservedConflicts(ctx: StoreContext, defs: POp[], live: POp[]): Promise<POp[]> {
  if (defs.length === 0) return defs;
  const candidates = (ds: POp[]) => ds.flatMap((d) => reservedNameCandidates(d.op.name, d.schema.type));
  const need = candidates(defs).filter((c) => !ctx.cache.schemas.has(c));
  if (need.length > 0) await loadSchemas(ctx, [...new Set(need)]);
  let verdict = reservedVerdict(ctx, defs);
  const doubtful = defs.filter((d, i) => verdict[i] && candidates([d]).some((c) => !need.includes(c)));
  if (doubtful.length > 0) {
    await loadSchemas(ctx, [...new Set(candidates(doubtful))]);
    verdict = reservedVerdict(ctx, defs);
  }
  const out: POp[] = [];
  defs.forEach((d, i) => {
    const c = verdict[i];
    if (!c) out.push(d);
    else for (const o of live) if (o.op.name === d.op.name) rejectOp(o, c);
  });
  return out;
}

/** `reservedNameConflict` per definition, against the cached schemas and the batch's earlier definitions. */
function reservedVerdict(ctx: StoreContext, defs: POp[]): (FamilyConflictError | undefined)[] {
  const accepted = new Map<string, MetricType>();
  const lookup = (nm: string): MetricType | undefined => {
    const st = ctx.cache.schemas.get(nm);
    return accepted.get(nm) ?? (st && st.count > 0 ? st.schema.type : undefined);
  };
  return defs.map((d) => {
    const c = reservedNameConflict(d.op.name, d.schema.type, lookup);
    if (!c) accepted.set(d.op.name, d.schema.type);
    return c;
  });
}

export async function loadSchemas(ctx: StoreContext, names: string[]): Promise<void> {
  const keys = names.map((nm) => ({ pk: s(schemaPk(nm)), sk: s(SK_SCHEMA) }));
  const items = await ctx.io.batchGet(keys);
  const found = new Set<string>();
  for (const it of items) {
    const e = schemaFromItem(it);
    if (e) {
      ctx.cache.schemas.set(e.schema.name, e);
      found.add(e.schema.name);
    }
  }
  for (const nm of names) if (!found.has(nm)) ctx.cache.schemas.delete(nm);
}

/**
 * The reserved-name rule inside the write that defines a family (defect 7), so that two processes defining
 * `lat` (histogram) and `lat_count` at the same moment can't both succeed. Invariant: **of a family `x`
 * that reserves `x<suffix>` and the family `x<suffix>`, at most one schema item has a type** (`t`); every
 * write that creates series checks its own schema's `t` (`familyCounterUpdate`, the push's definition),
 * so at most one of the two can have series.
 *
 * For each name a definition of `defs` collides with (its owners `x` for a `x_count`, its `_sum`/`_count`/
 * `_bucket` names for a histogram or summary), one action for the same transaction as the definition:
 * - the other schema is absent or of a type that doesn't collide: a ConditionCheck that it still is;
 * - it collides but has no series (the caller refused the definition when it has some): a Delete of its
 *   schema item on condition `n = 0`. The name is taken over, as the memory store forgets an empty
 *   family's schema; a writer that still holds the deleted schema fails its `t` condition and re-reads.
 * Both touch the other item, so two such definitions are serialised by DynamoDB: the second fails its
 * condition (or a transaction conflict) and re-reads. Reads `ctx.cache.schemas`, which the caller loaded
 * (`reservedNameCandidates`). Names in `skip` (written by the same transaction) get no action.
 */
export function reservationGuards(
  ctx: StoreContext,
  defs: readonly { readonly name: string; readonly type: MetricType }[],
  skip: ReadonlySet<string> = new Set(),
): TransactWriteItem[] {
  const forbidden = new Map<string, Set<MetricType> | 'any'>();
  const forbid = (name: string, types: MetricType[] | 'any') => {
    const cur = forbidden.get(name);
    if (cur === 'any') return;
    if (types === 'any') forbidden.set(name, 'any');
    else forbidden.set(name, new Set([...(cur ?? []), ...types]));
  };
  for (const d of defs) {
    for (const { base, suffix } of suffixOwners(d.name))
      forbid(
        base,
        (['histogram', 'summary'] as const).filter((t) => reservesSuffix(t, suffix)),
      );
    for (const suffix of reservedSuffixes(d.type)) forbid(d.name + suffix, 'any');
  }
  const own = new Set(defs.map((d) => d.name));
  const out: TransactWriteItem[] = [];
  for (const [name, types] of forbidden) {
    if (own.has(name) || skip.has(name)) continue;
    const Key = { pk: s(schemaPk(name)), sk: s(SK_SCHEMA) };
    const e = new Expr();
    const st = ctx.cache.schemas.get(name);
    if (st && (types === 'any' || types.has(st.schema.type))) {
      const cond = `attribute_not_exists(${e.n('pk')}) OR ${e.n('n')} = ${e.v(n(0))}`;
      out.push({ Delete: { TableName: ctx.table, Key, ConditionExpression: cond, ...e.parts() } });
      continue;
    }
    const t = e.n('t');
    const cond =
      types === 'any'
        ? `attribute_not_exists(${t})`
        : `attribute_not_exists(${t}) OR NOT (${t} IN (${[...types].map((x) => e.v(s(x))).join(', ')}))`;
    out.push({ ConditionCheck: { TableName: ctx.table, Key, ConditionExpression: cond, ...e.parts() } });
  }
  return out;
}

/** Schema names a guard list touches (their cache entries are stale once the guards ran or failed). */
function guardedNames(guards: readonly TransactWriteItem[]): string[] {
  return guards.map((g) => (g.Delete ?? g.ConditionCheck)?.Key?.pk?.S?.slice(2) ?? '');
}

/**
 * Creates (or redefines, when it has no series) a schema item, with the reserved-name `guards`
 * (`reservationGuards`) in the same transaction. False when someone else won (cache entries dropped).
 */
export async function putSchema(
  ctx: StoreContext,
  schema: FamilySchema,
  bounds: readonly number[],
  help: string | undefined,
  knownCount: number | undefined,
  guards: readonly TransactWriteItem[] = [],
): Promise<boolean> {
  const e = new Expr();
  const item: Item = {
    pk: s(schemaPk(schema.name)),
    sk: s(SK_SCHEMA),
    name: s(schema.name),
    t: s(schema.type),
    shape: s(schema.shape),
    bk: s(schema.buckets),
    b: numList(bounds),
    n: n(0),
    ...(help ? { help: s(help) } : {}),
  };
  const cond =
    knownCount === undefined
      ? `attribute_not_exists(${e.n('pk')})`
      : `attribute_not_exists(${e.n('pk')}) OR ${e.n('n')} = ${e.v(n(0))}`;
  const update = {
    TableName: ctx.table,
    Key: { pk: item.pk!, sk: item.sk! },
    UpdateExpression: `SET ${Object.keys(item)
      .filter((k) => k !== 'pk' && k !== 'sk')
      .map((k) => `${e.n(k)} = ${e.v(item[k]!)}`)
      .join(', ')}`,
    ConditionExpression: cond,
    ...e.parts(),
  };
  const others = guardedNames(guards);
  try {
    if (guards.length === 0) {
      await ctx.io.write(() =>
        ctx.io.client.send(new UpdateItemCommand({ ...update, ReturnConsumedCapacity: 'TOTAL' })),
      );
    } else {
      await ctx.io.transact([{ Update: update }, ...guards]);
    }
    ctx.cache.schemas.set(schema.name, { schema, bounds, ...(help ? { help } : {}), count: 0 });
    for (const o of others) ctx.cache.schemas.delete(o);
    return true;
  } catch (err) {
    const lost =
      (err as Error)?.name === 'ConditionalCheckFailedException' ||
      cancellationReasons(err)?.some((r) => r.Code === 'ConditionalCheckFailed');
    if (!lost) throw err;
    for (const nm of [schema.name, ...others]) ctx.cache.schemas.delete(nm);
    return false;
  }
}

export async function setHelp(ctx: StoreContext, name: string, help: string): Promise<void> {
  const e = new Expr();
  try {
    // A transaction of one update, so that it carries a change item: readers learn the new HELP.
    await ctx.io.transact([
      {
        Update: {
          TableName: ctx.table,
          Key: { pk: s(schemaPk(name)), sk: s(SK_SCHEMA) },
          UpdateExpression: `SET ${e.n('help')} = ${e.v(s(help))}`,
          ConditionExpression: `attribute_exists(${e.n('pk')}) AND attribute_not_exists(${e.n('help')})`,
          ...e.parts(),
        },
      },
    ]);
  } catch (err) {
    if (!cancellationReasons(err)?.some((r) => r.Code === 'ConditionalCheckFailed')) throw err;
  }
  const cur = ctx.cache.schemas.get(name);
  if (cur && !cur.help) ctx.cache.schemas.set(name, { ...cur, help });
}

export function limitErr(ctx: StoreContext, scope: SeriesLimit, family: string): LimitError {
  return (
    seriesLimitError(
      family,
      {
        family: scope === 'maxSeriesPerFamily' ? ctx.limits.maxSeriesPerFamily + 1 : 0,
        group: scope === 'maxSeriesPerGroup' ? ctx.limits.maxSeriesPerGroup + 1 : 0,
        total: scope === 'maxSeriesTotal' ? ctx.limits.maxSeriesTotal + 1 : 0,
      },
      ctx.limits,
    ) ?? new LimitError(scope, `family ${family}: over ${scope}`)
  );
}
