/** Small fakes for the pipeline's unit tests: a ledger store, a JSON decoder, a recording DLQ sink. */

import type {
  DeadLetterEntry,
  DeadLetterSink,
  DecodedMessage,
  IngestRecord,
  PipelineLogger,
} from '../../../shared/ingest/pipeline';
import { AccrueError, FamilyConflictError, TransientError } from '../../../shared/model/errors';
import { labelsFrom } from '../../../shared/model/identity';
import type {
  ApplyRequest,
  ApplyResult,
  DeadLetterClaim,
  PushRequest,
  PushResult,
  Store,
  StoreSnapshot,
} from '../../../shared/store/types';
import { validateApplyRequest, validatePushRequest } from '../../../shared/store/valid';

/**
 * Fake message body (JSON): `{ id?, n?, fail?, rejected?, pushes?, conflictOps? }`.
 * - `n`: counter increments of `t_total` (one op, value n);
 * - `fail`: 'decode' (permanent), 'transient', 'crash' (a TypeError);
 * - `rejected`: indexes of events the decoder refused (reason 'invalid');
 * - `pushes`: methods; 'CONFLICT' makes the store refuse it, 'THROTTLE' makes it throw a TransientError.
 */
export interface FakeBody {
  id?: string;
  n?: number;
  fail?: 'decode' | 'transient' | 'crash';
  rejected?: number[];
  pushes?: string[];
  events?: unknown[];
}

export function fakeDecode(body: string, fallbackId: string): DecodedMessage {
  let b: FakeBody;
  try {
    b = JSON.parse(body) as FakeBody;
  } catch {
    throw new AccrueError('decode', 'body: not JSON');
  }
  if (b === null || typeof b !== 'object') throw new AccrueError('decode', 'body: must be an object');
  if (b.fail === 'decode') throw new AccrueError('decode', 'events: must be an array');
  if (b.fail === 'transient') throw new TransientError('profile store unavailable');
  if (b.fail === 'crash') throw new TypeError('cannot read properties of undefined');
  const id = typeof b.id === 'string' ? b.id : fallbackId;
  const group = labelsFrom([['job', 'test']]);
  const n = typeof b.n === 'number' ? b.n : 0;
  const rejected = (b.rejected ?? []).map((index) => ({
    index,
    reason: 'invalid' as const,
    message: `events[${index}].value: must be a number`,
    problems: [],
  }));
  const ops =
    n > 0 ? [{ kind: 'counter_inc' as const, name: 't_total', labels: labelsFrom([]), value: n }] : [];
  const apply = validateApplyRequest({ id, group, ops });
  const pushes = (b.pushes ?? []).map((m, i) =>
    validatePushRequest({
      method: (m === 'CONFLICT' || m === 'THROTTLE' ? 'PUT' : m) as 'PUT',
      group: labelsFrom([['job', m === 'CONFLICT' ? 'conflict' : m === 'THROTTLE' ? 'throttle' : 'test']]),
      families: [],
      pushTimeMs: 1000 + i,
      id,
    }),
  );
  return { id, group, apply, pushes, rejected, eventCount: n + rejected.length, acceptedCount: n };
}

/** Ledger store: exactly once per id; `failIds` answer `failed`; `rejectOps` refuses ops by name. */
export class FakeStore implements Store {
  readonly applied = new Map<string, ApplyRequest>();
  readonly applyCalls: ApplyRequest[][] = [];
  readonly pushes: PushRequest[] = [];
  readonly pushFailures: { group: Record<string, string>; reason: string }[] = [];
  failIds = new Set<string>();
  rejectOps = new Set<string>();
  throwOnApply = false;
  total = 0;

  async apply(requests: readonly ApplyRequest[]): Promise<ApplyResult[]> {
    this.applyCalls.push([...requests]);
    if (this.throwOnApply) throw new Error('connection reset');
    return requests.map((r): ApplyResult => {
      if (this.failIds.has(r.id))
        return { id: r.id, status: 'failed', error: new TransientError('throttled'), rejected: [] };
      if (this.applied.has(r.id)) return { id: r.id, status: 'duplicate', rejected: [] };
      this.applied.set(r.id, r);
      const rejected = r.ops.flatMap((op, index) =>
        this.rejectOps.has(op.name)
          ? [{ index, error: new FamilyConflictError(op.name, 'type counter, stored gauge') }]
          : [],
      );
      for (const op of r.ops)
        if (op.kind === 'counter_inc' && op.name === 't_total' && !this.rejectOps.has(op.name))
          this.total += op.value;
      return { id: r.id, status: 'applied', rejected };
    });
  }
  async push(request: PushRequest): Promise<PushResult> {
    if (request.group.job === 'conflict') throw new FamilyConflictError('x', 'type gauge, stored counter');
    if (request.group.job === 'throttle') throw new TransientError('throttled');
    this.pushes.push(request);
    return { status: 'applied' };
  }
  async recordPushFailure(group: Record<string, string>, _timeMs: number, reason: string): Promise<void> {
    this.pushFailures.push({ group: { ...group }, reason });
  }
  /** Dead-letter claims: key → `sent`, or the live claim's token (no lease: a live claim is `held`). */
  readonly claims = new Map<string, string>();
  async claimDeadLetters(key: string): Promise<DeadLetterClaim> {
    const known = this.claims.get(key);
    if (known === 'sent') return { state: 'sent' };
    if (known !== undefined) return { state: 'held' };
    const token = `t${this.claims.size}`;
    this.claims.set(key, token);
    return { state: 'claimed', token };
  }
  async settleDeadLetters(key: string, token: string, sent: boolean): Promise<void> {
    if (this.claims.get(key) !== token) return;
    if (sent) this.claims.set(key, 'sent');
    else this.claims.delete(key);
  }
  async deleteGroup(): Promise<void> {}
  async expire(): Promise<never[]> {
    return [];
  }
  async snapshot(): Promise<StoreSnapshot> {
    return { generation: '0', takenAtMs: 0, groups: [] };
  }
  async generation(): Promise<string> {
    return '0';
  }
  async listGroups(): Promise<never[]> {
    return [];
  }
  async wipe(): Promise<void> {}
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

export class RecordingSink implements DeadLetterSink {
  readonly sent: DeadLetterEntry[] = [];
  mode: 'ok' | 'throw' | 'fail-odd' = 'ok';
  async send(entries: readonly DeadLetterEntry[]): Promise<{ failed: number[] }> {
    if (this.mode === 'throw') throw new Error('DLQ unreachable');
    const failed: number[] = [];
    entries.forEach((e, i) => {
      if (this.mode === 'fail-odd' && i % 2 === 1) failed.push(i);
      else this.sent.push(e);
    });
    return { failed };
  }
}

export class RecordingLogger implements PipelineLogger {
  readonly lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  debug(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'debug', message, fields: Object.assign({}, ...extra) });
  }
  info(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'info', message, fields: Object.assign({}, ...extra) });
  }
  warn(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'warn', message, fields: Object.assign({}, ...extra) });
  }
  error(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'error', message, fields: Object.assign({}, ...extra) });
  }
}

/** A record; an object body without `id` gets the message id as its `id` (bodies without one are keyed by their hash). */
export function rec(messageId: string, body: FakeBody | string): IngestRecord {
  const b = typeof body === 'string' ? body : JSON.stringify({ id: messageId, ...body });
  return { messageId, body: b, receiveCount: 1 };
}
