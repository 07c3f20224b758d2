/**
 * A deadline on the whole response (docs/security.md "Limits"): a client that reads a large answer a few
 * bytes at a time keeps bytes moving, so the idle timeout never fires, and node:http has no deadline for
 * a response. While it reads, its stream holds the cached parts of the snapshot it was served. Each
 * response gets a timer from its first byte (fastify's `onSend`); when the response has not been handed
 * to the kernel in full by then, the socket is destroyed, which ends the stream and lets go of its parts,
 * and the cut is counted under reason `response_deadline`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The reason a cut response is counted under (`accrue_responses_cut_total{reason}`). */
export const RESPONSE_DEADLINE_REASON = 'response_deadline';
export type CutReason = typeof RESPONSE_DEADLINE_REASON;

/** The `onSend` hook arming the deadline; `onCut()` is called for each response cut. */
export function responseDeadlineHook(deadlineMs: number, onCut: () => void) {
  return async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const res = reply.raw;
    const timer = setTimeout(() => {
      if (res.writableFinished || res.destroyed) return;
      onCut();
      req.log.info({ deadlineMs, route: req.routeOptions.url }, 'response cut at its deadline');
      res.socket?.destroy();
      res.destroy();
    }, deadlineMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    return payload;
  };
}
