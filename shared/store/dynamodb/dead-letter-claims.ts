/**
 * Dead-letter claims on DynamoDB (`Store.claimDeadLetters` / `settleDeadLetters`): one ledger item per
 * message's dead letters, in the ledger table `apply()` uses (docs/store-dynamodb.md "Ledger").
 *
 *   id   ledger key (`i#<key>`)     st  `pending` → `sent`     tk  the claimer's token
 *   at   when claimed (store clock)  ttl as for applies
 *
 * 1. Claim: a conditional put that succeeds when the key is unknown or its `pending` claim is older than the
 *    lease (a claimer that died before settling). Lost: the item says `sent`, or `held` by a live claim.
 * 2. Settle: `sent` sets `st`; a release deletes the item. Both only while the item still holds the
 *    caller's token, so a caller whose lease was taken over changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DeadLetterClaim } from '../types';
import { ledgerKey, n, s } from './codec';
import type { StoreContext } from './context';
import { readLedgerItem, write } from './push-ledger';

export async function claimDeadLetters(
  ctx: StoreContext,
  key: string,
  leaseMs: number,
): Promise<DeadLetterClaim> {
  const id = ledgerKey(key);
  const token = randomUUID();
  const nowMs = ctx.now();
  try {
    await write(ctx, () =>
      ctx.io.client.send(
        new PutItemCommand({
          TableName: ctx.ledgerTable,
          Item: {
            id: s(id),
            st: s('pending'),
            tk: s(token),
            at: n(nowMs),
            ttl: n(Math.floor(nowMs / 1000) + ctx.ledgerTtl),
          },
          ConditionExpression: 'attribute_not_exists(id) OR (st = :p AND #at <= :expired)',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':p': s('pending'), ':expired': n(nowMs - leaseMs) },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    return { state: 'claimed', token };
  } catch (err) {
    if ((err as Error)?.name !== 'ConditionalCheckFailedException') throw err;
  }
  const got = await readLedgerItem(ctx, id);
  if (got?.st?.S === 'sent') return { state: 'sent' };
  // Our own put, answered after a retry of a write that had succeeded.
  if (got?.tk?.S === token) return { state: 'claimed', token };
  // Held by a live claim, or released between the put and the read: the caller retries later.
  return { state: 'held' };
}

export async function settleDeadLetters(
  ctx: StoreContext,
  key: string,
  token: string,
  sent: boolean,
): Promise<void> {
  const Key = { id: s(ledgerKey(key)) };
  const mine = { ConditionExpression: 'tk = :tk', ExpressionAttributeValues: { ':tk': s(token) } };
  try {
    await write(ctx, () =>
      ctx.io.client.send(
        sent
          ? new UpdateItemCommand({
              TableName: ctx.ledgerTable,
              Key,
              UpdateExpression: 'SET st = :sent',
              ...mine,
              ExpressionAttributeValues: { ...mine.ExpressionAttributeValues, ':sent': s('sent') },
              ReturnConsumedCapacity: 'TOTAL',
            })
          : new DeleteItemCommand({
              TableName: ctx.ledgerTable,
              Key,
              ...mine,
              ReturnConsumedCapacity: 'TOTAL',
            }),
      ),
    );
  } catch (err) {
    if ((err as Error)?.name !== 'ConditionalCheckFailedException') throw err;
  }
}
