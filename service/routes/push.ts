/**
 * PUT / POST / DELETE /metrics/job/<JOB>{/<L>/<V>}: the Pushgateway push API. The grouping path is parsed
 * once (../push-facts.ts); the body is decoded and parsed within the in-memory body budget; validation is
 * shared/push/prepare.ts; the store applies it. A stale push answers 409 (docs/security.md "Stale pushes").
 * With an `Idempotency-Key` the push is applied at most once per key (../idempotency.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RejectReason } from '../../shared/model/errors';
import type { MetricFamily } from '../../shared/model/types';
import { requireJob } from '../../shared/producers';
import { decodePushBodyAsync } from '../../shared/push/body';
import { preparePush } from '../../shared/push/prepare';
import type { PushMethod } from '../../shared/store/types';
import { holdOf } from '../body-budget';
import {
  callerOf,
  IDEMPOTENCY_KEY_HEADER,
  idempotencyKeyOf,
  keyed,
  ledgerId,
  REPLAYED_HEADER,
} from '../idempotency';
import { groupOf, setOutcome, setSeries } from '../push-facts';
import { header, nameRules, type RouteContext, TEXT } from './context';

export function pushHandler(ctx: RouteContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const method = req.method as PushMethod;
    const group = groupOf(req);
    const producer = ctx.callers.of(req)?.producer;
    if (producer) requireJob(producer, group['job'] ?? '');
    const key = idempotencyKeyOf(req.headers[IDEMPOTENCY_KEY_HEADER]);
    const pushTimeMs = ctx.now();
    const families = method === 'DELETE' ? [] : await readFamilies(ctx, req);
    const id = key === undefined ? undefined : ledgerId(callerOf(ctx, req), key);
    const prepared = preparePush(method, group, families, pushTimeMs, id, nameRules(ctx.config));
    setSeries(req, countSeries(prepared.families));
    const pushed = await keyed(ctx, 'push', key, 'method, grouping key or body', () =>
      ctx.store.push(prepared),
    );
    // A replay answers as the first attempt did, and says so.
    const result = pushed.status === 'duplicate' ? { status: pushed.first ?? 'applied' } : pushed;
    if (pushed.status === 'duplicate') reply.header(REPLAYED_HEADER, 'true');
    else ctx.cache.invalidate();
    setOutcome(req, pushed.status);
    if (result.status === 'stale') {
      // Changed nothing: answered as a refusal the client can see (docs/security.md "Stale pushes").
      ctx.stats.countRejected(RejectReason.stale);
      return reply
        .code(409)
        .type(TEXT)
        .send('stale: this group already holds a newer push; nothing was changed\n');
    }
    return reply.code(method === 'DELETE' ? 202 : 200).send();
  };
}

/** Decodes (gzip, text or protobuf) and parses the body within the body budget. */
export async function readFamilies(ctx: RouteContext, req: FastifyRequest): Promise<MetricFamily[]> {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  return ctx.budget.parse(raw.length, async () => {
    const contentEncoding = header(req, 'content-encoding');
    const body = await decodePushBodyAsync(raw, {
      contentType: header(req, 'content-type'),
      contentEncoding,
      maxBytes: ctx.config.maxBodyBytes,
    });
    if (contentEncoding) holdOf(req)?.take(body.kind === 'text' ? body.text.length : body.bytes.length, 0);
    const parseLimits = { maxSeries: ctx.limits.maxSeriesPerPush };
    return body.kind === 'text'
      ? ctx.codec.parseTextYielding(body.text, parseLimits)
      : ctx.codec.parseProtobufDelimited(body.bytes, parseLimits);
  });
}

function countSeries(families: readonly MetricFamily[]): number {
  let n = 0;
  for (const f of families) n += f.series.length;
  return n;
}
