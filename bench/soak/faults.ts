/**
 * The soak's fault injection, one function per layer (bench/soak.ts lists the kinds and what each does):
 * DynamoDB SDK (throttled transactions, responses lost after commit), the store (refused requests, applies
 * slowed beyond the visibility timeout), the runner (worker death between commit and delete), the
 * producer's SQS client (batches sent, answer lost, re-sent). Each kind acts on `faultRate / 5` of what it
 * sees, and always on the first one (every kind is injected even in short runs).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RunnerHooks } from '../../shared/aws/sqs-runner';
import { TransientError } from '../../shared/model/errors';
import type { ApplyResult, Store, ValidApplyRequest } from '../../shared/store/types';
import { rng } from '../fixtures';

export const FAULT_KINDS = [
  'crash-after-commit',
  'throttle',
  'visibility-expiry',
  'duplicate-send',
  'malformed',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** The kinds above plus the DynamoDB SDK-level ones. */
export type AnyFaultKind = FaultKind | 'throttle-sdk' | 'lost-response';
export const ALL_FAULT_KINDS: readonly AnyFaultKind[] = [...FAULT_KINDS, 'throttle-sdk', 'lost-response'];

/** What was injected, and the idempotency keys (or raw SQS ids) of the messages that met a fault. */
export class FaultLog {
  readonly counts: Record<AnyFaultKind, number> = {
    'crash-after-commit': 0,
    throttle: 0,
    'visibility-expiry': 0,
    'duplicate-send': 0,
    malformed: 0,
    'throttle-sdk': 0,
    'lost-response': 0,
  };
  readonly faulted = new Set<string>();
  readonly enabled: ReadonlySet<string>;
  private readonly perKind: number;

  constructor(faultRate: number, kinds: readonly AnyFaultKind[] = ALL_FAULT_KINDS) {
    this.perKind = faultRate / FAULT_KINDS.length;
    this.enabled = new Set(kinds);
  }

  rate(kind: AnyFaultKind): number {
    return this.enabled.has(kind) ? this.perKind : 0;
  }

  /** Whether `kind` strikes now: always the first time, then at its rate. */
  strikes(kind: AnyFaultKind, random: () => number): boolean {
    const p = this.rate(kind);
    return p > 0 && (this.counts[kind] === 0 || random() < p);
  }
}

/**
 * DynamoDB: a throttled TransactWriteItems (the store retries), or one whose answer is lost after it
 * committed. `killNextPush()`: the next transaction passes and the one after it fails for good (a push
 * killed half-way; call it while nothing else writes).
 */
export function injectDynamoFaults(
  client: DynamoDBClient,
  log: FaultLog,
  seed: number,
): { killNextPush: () => void } {
  const random = rng(seed * 104729 + 3);
  let passBeforeKill: number | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const cmd = (context as { commandName?: string }).commandName;
      if (cmd !== 'TransactWriteItemsCommand') return next(args);
      if (passBeforeKill !== undefined) {
        if (passBeforeKill === 0) {
          passBeforeKill = undefined;
          throw Object.assign(new Error('process killed half-way through a push (injected)'), {
            name: 'SoakKilled',
          });
        }
        passBeforeKill--;
      }
      const x = random();
      const throttle = log.rate('throttle-sdk') / 2;
      if (x < throttle) {
        log.counts['throttle-sdk']++;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput (injected)'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400 },
        });
      }
      const out = await next(args);
      if (x >= throttle && x < throttle + log.rate('lost-response') / 2) {
        log.counts['lost-response']++;
        // DynamoDB committed; the answer is lost on the way back.
        throw Object.assign(new Error('socket timed out after the request was sent (injected)'), {
          name: 'TimeoutError',
        });
      }
      return out;
    },
    { step: 'initialize', name: 'soakFaults' },
  );
  return {
    killNextPush: () => {
      passBeforeKill = 1;
    },
  };
}

/** Wraps a store so that `onApply` can answer (or delay) instead of the real store. */
function wrapStore(
  inner: Store,
  onApply: (reqs: readonly ValidApplyRequest[]) => Promise<ApplyResult[] | undefined>,
): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'apply')
        return async (reqs: readonly ValidApplyRequest[]) => (await onApply(reqs)) ?? target.apply(reqs);
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * The store as the pipeline sees it: some applies slowed beyond the visibility timeout (another poller
 * receives the same messages meanwhile), some requests refused as throttled (`failed`, TransientError).
 * The pipeline's own metrics (job `accrue`) pass untouched. `slowInFlight()`: slowed applies still running.
 */
export function faultyStore(
  base: Store,
  log: FaultLog,
  o: { readonly seed: number; readonly visibilitySeconds: number },
): { store: Store; slowInFlight: () => number } {
  const random = rng(o.seed * 7919 + 1);
  let slow = 0;
  const store = wrapStore(base, async (reqs) => {
    if (reqs.every((r) => r.group.job === 'accrue')) return undefined;
    if (log.strikes('visibility-expiry', random)) {
      log.counts['visibility-expiry']++;
      for (const r of reqs) log.faulted.add(r.id);
      slow++;
      try {
        await sleep(o.visibilitySeconds * 1500);
        return await base.apply(reqs);
      } finally {
        slow--;
      }
    }
    const refused = reqs.map((r) => r.group.job !== 'accrue' && log.strikes('throttle', random));
    if (!refused.some(Boolean)) return undefined;
    const rest = reqs.filter((_, i) => !refused[i]);
    const passed = rest.length > 0 ? await base.apply(rest) : [];
    let k = 0;
    return reqs.map((r, i): ApplyResult => {
      if (!refused[i]) return passed[k++]!;
      log.counts.throttle++;
      log.faulted.add(r.id);
      return {
        id: r.id,
        status: 'failed',
        error: new TransientError('ProvisionedThroughputExceeded (injected)'),
        rejected: [],
      };
    });
  });
  return { store, slowInFlight: () => slow };
}

/** The idempotency key of an envelope body (cheap: the publisher writes `id` near the start). */
export function idOf(body: string): string | undefined {
  return /"id":"([^"]+)"/.exec(body.slice(0, 200))?.[1];
}

/** The runner: the worker dies after the store committed, before the delete (the batch comes back). */
export function crashAfterCommit(log: FaultLog, seed: number): RunnerHooks {
  const random = rng(seed * 7919 + 2);
  return {
    beforeDelete: (records) => {
      if (!log.strikes('crash-after-commit', random)) return;
      log.counts['crash-after-commit']++;
      for (const r of records) log.faulted.add(idOf(r.body) ?? r.messageId);
      throw new Error('worker killed after the store commit (injected)');
    },
  };
}

/** The producer: SQS accepted the batch, the answer is lost, the publisher re-sends the same bodies. */
export function injectDuplicateSends(sqs: SQSClient, log: FaultLog, seed: number): void {
  const random = rng(seed * 31 + 5);
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (
        (context as { commandName?: string }).commandName === 'SendMessageBatchCommand' &&
        log.strikes('duplicate-send', random)
      ) {
        log.counts['duplicate-send']++;
        const entries = (args.input as { Entries?: { MessageBody?: string }[] }).Entries ?? [];
        for (const e of entries) log.faulted.add(idOf(e.MessageBody ?? '') ?? '');
        throw Object.assign(new Error('connection reset after the request was sent (injected)'), {
          name: 'TimeoutError',
        });
      }
      return out;
    },
    { step: 'initialize', name: 'soakDuplicateSends' },
  );
}
