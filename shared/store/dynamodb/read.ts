/** Reads besides the snapshot (./snapshot-reader.ts): the generation, the group list, the tables' health. */

import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { TransientError } from '../../model/errors';
import { groupTimes } from '../group-times';
import type { GroupInfo, StoreSnapshot } from '../types';
import { GEN_SHARDS, genKey, genSk, PK_GEN, readNumber, s } from './codec';
import type { StoreContext } from './context';
import { describe } from './retry';

export async function readGeneration(ctx: StoreContext): Promise<string> {
  // This version's shards and those of older versions (one partition `gen`), summed: the sum only grows.
  const keys = Array.from({ length: GEN_SHARDS }, (_, i) => [
    genKey(i),
    { pk: s(PK_GEN), sk: s(genSk(i)) },
  ]).flat();
  const items = await ctx.io.batchGet(keys);
  let sum = 0;
  for (const it of items) sum += readNumber(it.n) ?? 0;
  return String(sum);
}

export function groupInfos({ groups }: StoreSnapshot): GroupInfo[] {
  return groups.map((g) => {
    const seriesPerFamily: Record<string, number> = Object.create(null);
    for (const f of g.families) seriesPerFamily[f.name] = f.series.length;
    return {
      key: g.key,
      ...groupTimes(g),
      seriesPerFamily,
    };
  });
}

export async function pingTables(ctx: StoreContext): Promise<void> {
  try {
    // Both tables at once: one round trip on the cold-start path instead of two.
    await Promise.all([
      ctx.io.client.send(
        new GetItemCommand({
          TableName: ctx.table,
          Key: genKey(0),
          ProjectionExpression: 'pk',
        }),
      ),
      ctx.io.client.send(
        new GetItemCommand({
          TableName: ctx.ledgerTable,
          Key: { id: s('i#ping') },
          ProjectionExpression: 'id',
        }),
      ),
    ]);
  } catch (e) {
    throw new TransientError(
      `DynamoDB tables ${ctx.table} / ${ctx.ledgerTable} do not answer: ${describe(e)}`,
      { cause: e },
    );
  }
}
