/**
 * Family schemas on DynamoDB: reading, creating and redefining schema items, HELP, the reserved-name rule
 * (shared with the memory store through ../families.ts) and the limit errors.
 */

import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { LimitError } from '../../model/errors';
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
        );
        if (!ok) {
          ctx.cache.schemas.delete(d.op.name);
          lost = true;
        }
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
 * rule needs; the first definition in the batch wins over later ones.
 */
export async function withoutReservedConflicts(ctx: StoreContext, defs: POp[], live: POp[]): Promise<POp[]> {
  if (defs.length === 0) return defs;
  const need = new Set<string>();
  for (const d of defs)
    for (const c of reservedNameCandidates(d.op.name, d.schema.type))
      if (!ctx.cache.schemas.has(c)) need.add(c);
  if (need.size > 0) await loadSchemas(ctx, [...need]);
  const accepted = new Map<string, MetricType>();
  const lookup = (nm: string): MetricType | undefined => {
    const st = ctx.cache.schemas.get(nm);
    return accepted.get(nm) ?? (st && st.count > 0 ? st.schema.type : undefined);
  };
  const out: POp[] = [];
  for (const d of defs) {
    const c = reservedNameConflict(d.op.name, d.schema.type, lookup);
    if (c) {
      for (const o of live) if (o.op.name === d.op.name) rejectOp(o, c);
      continue;
    }
    accepted.set(d.op.name, d.schema.type);
    out.push(d);
  }
  return out;
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

/** Creates (or redefines, when it has no series) a schema item. False when someone else won. */
export async function putSchema(
  ctx: StoreContext,
  schema: FamilySchema,
  bounds: readonly number[],
  help: string | undefined,
  knownCount: number | undefined,
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
  try {
    await ctx.io.write(() =>
      ctx.io.client.send(
        new UpdateItemCommand({
          TableName: ctx.table,
          Key: { pk: item.pk!, sk: item.sk! },
          UpdateExpression: `SET ${Object.keys(item)
            .filter((k) => k !== 'pk' && k !== 'sk')
            .map((k) => `${e.n(k)} = ${e.v(item[k]!)}`)
            .join(', ')}`,
          ConditionExpression: cond,
          ReturnConsumedCapacity: 'TOTAL',
          ...e.parts(),
        }),
      ),
    );
    ctx.cache.schemas.set(schema.name, { schema, bounds, ...(help ? { help } : {}), count: 0 });
    return true;
  } catch (err) {
    if ((err as Error)?.name === 'ConditionalCheckFailedException') return false;
    throw err;
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
