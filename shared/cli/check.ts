/**
 * Validation of envelope bodies for the CLI: the real ingest decoder (every problem, with its path) and
 * the envelope JSON Schema through ajv (the committed schema/envelope-v1.schema.json when it exists,
 * else the schema generated from the profile — the same source). Schema errors are reported only where
 * the decoder found none, so every problem is printed once.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { decodeMessage } from '../ingest/decode';
import { envelopeSchema } from '../ingest/envelope';
import { DecodeError } from '../ingest/errors';
import { AccrueError } from '../model/errors';
import type { CompiledProfile } from '../profiles/types';

export interface CheckProblem {
  readonly path: string;
  readonly message: string;
}

const COMMITTED = path.resolve(__dirname, '../../schema/envelope-v1.schema.json');

let cached: { profile: CompiledProfile; validate: ValidateFunction; source: string } | undefined;

/** The ajv validator for a profile (committed schema for the built-in ARIA profile when present). */
export function schemaValidator(profile: CompiledProfile): { validate: ValidateFunction; source: string } {
  if (cached?.profile === profile) return cached;
  const useCommitted = profile.name === 'aria' && existsSync(COMMITTED);
  const schema = useCommitted
    ? JSON.parse(readFileSync(COMMITTED, 'utf8'))
    : JSON.parse(JSON.stringify(envelopeSchema(profile)));
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  cached = {
    profile,
    validate,
    source: useCommitted ? 'schema/envelope-v1.schema.json' : `generated schema (profile ${profile.name})`,
  };
  return cached;
}

/** `/events/3/latency_seconds` → `events[3].latency_seconds`. */
export function pointerToPath(pointer: string): string {
  let out = '';
  for (const seg of pointer.split('/').slice(1)) {
    const s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  }
  return out;
}

/** Every problem of one envelope body (empty when it would be accepted in full). */
export function checkBody(body: string, profile: CompiledProfile, nowMs = Date.now()): CheckProblem[] {
  const problems: CheckProblem[] = [];
  try {
    const d = decodeMessage(body, 'cli-validate', profile, { nowMs });
    for (const r of d.rejected) {
      for (const p of r.problems)
        problems.push({ path: p.path || `events[${r.index}]`, message: `${p.message} (${r.reason})` });
    }
  } catch (e) {
    if (e instanceof DecodeError || e instanceof AccrueError) {
      const ps = (e as { problems?: readonly CheckProblem[] }).problems;
      if (ps && ps.length > 0)
        for (const p of ps) problems.push({ path: p.path, message: `${p.message} (message undecodable)` });
      else problems.push({ path: '', message: `${e.message} (message undecodable)` });
      return problems;
    }
    throw e;
  }
  if (problems.length === 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return problems;
    }
    const { validate, source } = schemaValidator(profile);
    if (!validate(parsed)) {
      for (const err of validate.errors ?? []) {
        problems.push({
          path: pointerToPath(err.instancePath),
          message: `${err.message ?? 'invalid'} (${source})`,
        });
      }
    }
  }
  return problems;
}
