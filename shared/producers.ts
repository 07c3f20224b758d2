/**
 * The producer trust model (docs/security.md): which groups a producer may write. Configured with
 * `ACCRUE_PRODUCERS`, a JSON list (inline, or `@<path>` to a JSON file):
 *
 *   [{ "name": "aria-eu", "credential": "bearer:…", "sqsSenderIds": ["AIDA…"], "jobs": ["aria", "aria_eu_*"] }]
 *
 * A producer is identified by its HTTP credential (same forms as ACCRUE_PUSH_AUTH) or by the SQS
 * `SenderId` of its messages (the IAM principal AWS stamps on every message; it can't be forged by the
 * sender). It may write groups whose `job` equals one of `jobs` or starts with one ending in `*`.
 * Unset: no binding (any authenticated pusher, any queue sender may write any group).
 */
import { readFileSync } from 'node:fs';
import { AccrueError, RejectReason } from './model/errors';
import { clip } from './model/names';

export interface Producer {
  readonly name: string;
  readonly credential?: string;
  readonly sqsSenderIds: readonly string[];
  readonly jobs: readonly string[];
}

export class ForbiddenError extends AccrueError {
  constructor(message: string) {
    super(RejectReason.forbidden, message);
  }
}

/** Parses ACCRUE_PRODUCERS; throws an Error naming the variable and the rule. */
export function parseProducers(spec: string | undefined): readonly Producer[] | undefined {
  if (spec === undefined || spec.trim() === '') return undefined;
  const text = spec.startsWith('@') ? readFileSync(spec.slice(1), 'utf8') : spec;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`ACCRUE_PRODUCERS: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(raw) || raw.length === 0)
    throw new Error('ACCRUE_PRODUCERS: must be a non-empty JSON array');
  return raw.map((p: unknown, i) => {
    const o = p as Record<string, unknown>;
    const where = `ACCRUE_PRODUCERS[${i}]`;
    if (typeof o !== 'object' || o === null) throw new Error(`${where}: must be an object`);
    if (typeof o.name !== 'string' || o.name === '')
      throw new Error(`${where}.name: must be a non-empty string`);
    const strings = (v: unknown, field: string): string[] => {
      if (v === undefined) return [];
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== ''))
        throw new Error(`${where}.${field}: must be an array of non-empty strings`);
      return v as string[];
    };
    const jobs = strings(o.jobs, 'jobs');
    if (jobs.length === 0) throw new Error(`${where}.jobs: must name at least one job or prefix*`);
    if (o.credential !== undefined && typeof o.credential !== 'string')
      throw new Error(`${where}.credential: must be a string`);
    const sqsSenderIds = strings(o.sqsSenderIds, 'sqsSenderIds');
    if (o.credential === undefined && sqsSenderIds.length === 0)
      throw new Error(`${where}: needs a credential or sqsSenderIds to be identified by`);
    for (const k of Object.keys(o))
      if (!['name', 'credential', 'sqsSenderIds', 'jobs'].includes(k))
        throw new Error(`${where}.${k}: unknown field (name, credential, sqsSenderIds, jobs)`);
    return { name: o.name, credential: o.credential as string | undefined, sqsSenderIds, jobs };
  });
}

/** True when `producer` may write a group with this job. */
export function mayWrite(producer: Producer, job: string): boolean {
  return producer.jobs.some((j) => (j.endsWith('*') ? job.startsWith(j.slice(0, -1)) : job === j));
}

/** Throws ForbiddenError unless the group's job is one the producer may write. */
export function requireJob(producer: Producer, job: string): void {
  if (!mayWrite(producer, job))
    throw new ForbiddenError(
      `producer ${producer.name} may not write job ${JSON.stringify(clip(job, 64))} (allowed: ${producer.jobs.join(', ')})`,
    );
}

/**
 * The SQS side: the message's SenderId must belong to a producer allowed to write its group's job.
 * `producers` undefined = no binding.
 */
export function authorizeSender(
  producers: readonly Producer[] | undefined,
  senderId: string | undefined,
  job: string,
): void {
  if (producers === undefined) return;
  const p = senderId === undefined ? undefined : producers.find((x) => x.sqsSenderIds.includes(senderId));
  if (p === undefined)
    throw new ForbiddenError(
      `SenderId ${JSON.stringify(clip(senderId ?? '(none)', 64))} is not a configured producer (ACCRUE_PRODUCERS)`,
    );
  requireJob(p, job);
}
