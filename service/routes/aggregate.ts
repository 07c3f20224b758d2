/**
 * POST /api/v1/accrue/aggregate/job/<JOB>{/<L>/<V>}: aggregating pushes (docs/service.md "Aggregating
 * pushes"). The body (text or protobuf, any Content-Encoding a push takes) is read as a push's; its
 * samples are deltas: counters and histograms are summed into the group's series, gauges are set, last
 * writer wins by event time. The body becomes the same ops an SQS message becomes (shared/push/deltas.ts)
 * and goes through `store.apply()`, so it is applied exactly once per ledger id: the scoped
 * `Idempotency-Key` when sent (a retry adds nothing), else a fresh id (applied once, no retry protection).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ENVELOPE_LIMITS } from '../../shared/model/envelope-constants';
import { AccrueError } from '../../shared/model/errors';
import { requireJob } from '../../shared/producers';
import { deltaRequest } from '../../shared/push/deltas';
import { prepareTimedFamilies } from '../../shared/push/prepare';
import { normalizeGroupingKey } from '../../shared/store/grouping';
import { pushPlanHash } from '../../shared/store/plan';
import type { ApplyResult, GroupingKey } from '../../shared/store/types';
import {
  callerOf,
  IDEMPOTENCY_KEY_HEADER,
  idempotencyKeyOf,
  keyed,
  ledgerId,
  REPLAYED_HEADER,
} from '../idempotency';
import { groupOf, setOutcome, setSeries } from '../push-facts';
import type { RouteContext } from './context';
import { readFamilies } from './push';

export function aggregateHandler(ctx: RouteContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const group = normalizeGroupingKey(groupOf(req));
    const producer = ctx.callers.of(req)?.producer;
    if (producer) requireJob(producer, group['job'] ?? '');
    const key = idempotencyKeyOf(req.headers[IDEMPOTENCY_KEY_HEADER]);
    const nowMs = ctx.now();
    const families = prepareTimedFamilies(group, await readFamilies(ctx, req));
    const id = key === undefined ? `http-once ${randomUUID()}` : ledgerId(callerOf(ctx, req), key);
    const request = {
      ...deltaRequest(id, group, families, { nowMs, maxFutureMs: ENVELOPE_LIMITS.maxFutureMs }),
      // Gauges without a timestamp take the arrival time: a retry's ops differ, its body doesn't.
      contentHash: `a${pushPlanHash({ method: 'POST', group, families, pushTimeMs: 0 })}`,
    };
    setSeries(req, request.ops.length);
    const result = await keyed(ctx, 'aggregate', key, 'grouping key or body', () => applyOne(ctx, request));
    if (result.status === 'duplicate') reply.header(REPLAYED_HEADER, 'true');
    else ctx.cache.invalidate();
    setOutcome(req, result.status);
    // Refused series were named in the first answer; a replay acknowledges the key (nothing is applied).
    if (result.status === 'applied' && result.rejected.length > 0)
      throw partlyRefused(result, request.ops.length, group);
    return reply.code(200).send();
  };
}

/** Applies one request; a failed one throws its error (transient: 503, the key is not consumed). */
async function applyOne(ctx: RouteContext, request: Parameters<RouteContext['store']['apply']>[0][number]) {
  const [result] = await ctx.store.apply([request]);
  if (!result) throw new AccrueError('internal', 'the store returned no result');
  if (result.status === 'failed') throw result.error;
  return result;
}

/**
 * Series the store refused (a type conflict with another group's family, a limit): the body's other
 * series were applied, under the key, so a retry adds nothing; the answer says both.
 */
function partlyRefused(result: ApplyResult, total: number, group: GroupingKey): AccrueError {
  const first = result.rejected[0]!.error;
  return new AccrueError(
    first.reason,
    `${result.rejected.length} of ${total} series refused for group job="${group['job']}" (first: ${first.message}); the other series were applied`,
  );
}
