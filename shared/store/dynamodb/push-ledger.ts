/**
 * Pushes with an idempotency key (`PushRequest.id`) on DynamoDB: at most once per key, through the
 * ledger table that `apply()` uses (docs/store-dynamodb.md "Ledger").
 *
 * A push is several transactions (its chunks), so the ledger item can't commit with it. The item is
 * claimed first instead, and keeps what finishing the push needs:
 *
 *   id   ledger key (`i#<id>`)    h   content hash (`pushPlanHash`)    pt  the push time of the claim
 *   st   `pending` → `applied` | `stale`                                at / ttl  as for applies
 *
 * 1. Claim: a conditional put (`attribute_not_exists`). Won: push, then settle `st` to the result.
 * 2. Lost (the key is known): another hash is a `redelivery_mismatch`; `applied` / `stale` is a
 *    `duplicate` (nothing is written). `pending` means an earlier attempt stopped between its claim and its
 *    settle (a crash, a timeout, a transient failure half-way through its chunks) or is still running:
 *    the push is made again **at the claim's push time**. Pushes are replacements ordered by push time,
 *    so repeating one at its own time writes the same content if nothing newer came, and is `stale`
 *    (changes nothing) if something did: the retry completes the interrupted push and never undoes a
 *    newer one. Concurrent retries of one key do the same, so they end in the same state.
 * 3. A push refused for good (a conflict, a limit) releases its claim (a conditional delete of a
 *    `pending` item with the same hash), so the key is not consumed and a fixed retry is judged anew.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AccrueError } from '../../model/errors';
import { pushPlanHash, redeliveryMismatch } from '../plan';
import type { PushRequest, PushResult } from '../types';
import { type Item, ledgerKey, n, readNumber, s } from './codec';
import type { StoreContext } from './context';

type Settled = 'applied' | 'stale';

/** Runs `push` at most once per `request.id` (which must be set). */
export async function pushOnce(
  ctx: StoreContext,
  request: PushRequest & { readonly id: string },
  push: (request: PushRequest) => Promise<PushResult>,
): Promise<PushResult> {
  const hash = pushPlanHash(request);
  const key = ledgerKey(request.id);
  const known = await claim(ctx, key, hash, request.pushTimeMs);
  let todo: PushRequest = request;
  if (known) {
    if (readString(known.h) !== hash) throw redeliveryMismatch(request.id);
    const st = readString(known.st);
    if (st === 'applied' || st === 'stale') return { status: 'duplicate', first: st };
    todo = { ...request, pushTimeMs: readNumber(known.pt) ?? request.pushTimeMs };
  }
  let result: PushResult;
  try {
    result = await push(todo);
  } catch (err) {
    if (err instanceof AccrueError && err.permanent) await release(ctx, key, hash).catch(() => undefined);
    throw err;
  }
  await settle(ctx, key, result.status === 'stale' ? 'stale' : 'applied');
  return result;
}

/** Claims the key; returns the existing item when it is already known. */
async function claim(
  ctx: StoreContext,
  key: string,
  hash: string,
  pushTimeMs: number,
): Promise<Item | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const nowMs = ctx.now();
    try {
      await write(ctx, () =>
        ctx.io.client.send(
          new PutItemCommand({
            TableName: ctx.ledgerTable,
            Item: {
              id: s(key),
              h: s(hash),
              st: s('pending'),
              pt: n(pushTimeMs),
              at: n(nowMs),
              ttl: n(Math.floor(nowMs / 1000) + ctx.ledgerTtl),
            },
            ConditionExpression: 'attribute_not_exists(id)',
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      return undefined;
    } catch (err) {
      if ((err as Error)?.name !== 'ConditionalCheckFailedException') throw err;
    }
    const got = await readLedgerItem(ctx, key);
    if (got) return got;
    // Released (or expired) between the put and the read: claim again.
  }
  throw new AccrueError('transient', `push ${key}: its ledger entry keeps changing; retry`, false);
}

async function settle(ctx: StoreContext, key: string, st: Settled): Promise<void> {
  await write(ctx, () =>
    ctx.io.client.send(
      new UpdateItemCommand({
        TableName: ctx.ledgerTable,
        Key: { id: s(key) },
        UpdateExpression: 'SET st = :st',
        ExpressionAttributeValues: { ':st': s(st) },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ),
  );
}

async function release(ctx: StoreContext, key: string, hash: string): Promise<void> {
  try {
    await write(ctx, () =>
      ctx.io.client.send(
        new DeleteItemCommand({
          TableName: ctx.ledgerTable,
          Key: { id: s(key) },
          ConditionExpression: 'st = :p AND h = :h',
          ExpressionAttributeValues: { ':p': s('pending'), ':h': s(hash) },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
  } catch (err) {
    if ((err as Error)?.name !== 'ConditionalCheckFailedException') throw err;
  }
}

/** A ledger item by key, read consistently (also ./dead-letter-claims.ts). */
export async function readLedgerItem(ctx: StoreContext, key: string): Promise<Item | undefined> {
  const got = await ctx.io.read(() =>
    ctx.io.client.send(
      new GetItemCommand({
        TableName: ctx.ledgerTable,
        Key: { id: s(key) },
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ),
  );
  return got.Item;
}

/** A ledger write with the store's retries and accounting (also ./dead-letter-claims.ts). */
export function write<T extends { ConsumedCapacity?: unknown }>(
  ctx: StoreContext,
  fn: () => Promise<T>,
): Promise<T> {
  return ctx.io.withRetries(() => ctx.io.write(fn));
}

function readString(a: Item[string] | undefined): string | undefined {
  return a?.S;
}
