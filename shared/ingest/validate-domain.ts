/**
 * The full validator of a profile (domain) event: every field by the profile's rules, unknown fields, and
 * the kind's collisions with the message's group, every problem with its path. It runs when the generated
 * fast path (fastpath.ts) isn't sure an event is valid, and decides; test/unit/ingest/equivalence.test.ts
 * keeps the two equal. It fills the decoder's scratch arrays (field values, enum indexes) for the mapper.
 *
 * Safety: fields are read by names the profile compiler vetted (never Object.prototype names); numbers are
 * range-checked with `!(v >= min && v <= max)`, which also refuses NaN.
 */
import { RejectReason } from '../model/errors';
import { longerThan, shorterThan } from '../model/lengths';
import { loneSurrogateProblem } from '../model/names';
import type { CompiledField, CompiledKind } from '../profiles/types';
import { FieldType } from '../profiles/types';
import { type MessageContext, timeProblem } from './context';
import { addProblem, type Failure, fail } from './errors';

/** Keys of `ev` that are not in `known` (slow path, only when the key count says there are some). */
function unknownKeys(ev: Record<string, unknown>, known: (k: string) => boolean): string[] {
  const out: string[] = [];
  for (const k of Object.keys(ev)) if (!known(k)) out.push(k);
  return out;
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** Problems of a kind with this message's group (label collisions, label count), computed once per message. */
export function kindProblem(kind: CompiledKind, ctx: MessageContext): Failure | null {
  let cached = ctx.kindProblems[kind.index];
  if (cached !== undefined) return cached;
  cached = null;
  const path = '';
  for (const l of kind.labelNames) {
    if (Object.hasOwn(ctx.group, l)) {
      cached = addProblem(
        cached ?? undefined,
        RejectReason.invalid,
        path,
        `label "${l}" of event kind "${kind.name}" is also a label of the envelope's group`,
      );
    }
  }
  for (const e of kind.emits) {
    if (e.metric.labelNames.length + ctx.groupLabelCount > ctx.maxLabelsPerSeries) {
      cached = addProblem(
        cached ?? undefined,
        RejectReason.limit,
        path,
        `${e.metric.name} would have more than ${ctx.maxLabelsPerSeries} labels with the group's (maxLabelsPerSeries)`,
      );
    }
  }
  ctx.kindProblems[kind.index] = cached;
  return cached;
}

/** The full validator of a domain event: every problem, with paths. Fills the scratch arrays. */
export function validateDomainEvent(
  ev: Record<string, unknown>,
  kind: CompiledKind,
  index: number,
  ctx: MessageContext,
): Failure | undefined {
  const tp = timeProblem(ev.time, ctx);
  let f = tp === undefined ? undefined : fail(RejectReason.invalid, `events[${index}].time`, tp);
  f = checkFields(ev, kind, index, ctx, f);
  f = checkUnknownFields(ev, kind, index, ctx.scratch, f);
  const kp = kindProblem(kind, ctx);
  if (kp !== null)
    f = addProblem(f, kp.reason, `events[${index}]`, kp.problems.map((p) => p.message).join('; '));
  return f;
}

/** Each declared field in the profile's order: present unless optional, and valid by its type's rule. */
function checkFields(
  ev: Record<string, unknown>,
  kind: CompiledKind,
  index: number,
  ctx: MessageContext,
  f: Failure | undefined,
): Failure | undefined {
  const fields = kind.fields;
  const scratch = ctx.scratch;
  for (let i = 0; i < fields.length; i++) {
    const fd = fields[i]!;
    const v = ev[fd.name];
    scratch[i] = v;
    if (v === undefined) {
      if (!fd.optional) f = addProblem(f, RejectReason.invalid, `events[${index}].${fd.name}`, 'is required');
      continue;
    }
    let p: FieldProblem | undefined;
    if (fd.type === FieldType.enum) {
      const j = enumIndex(fd.valueList, v);
      if (j < 0) p = { reason: RejectReason.invalid, message: `must be one of ${quoteList(fd.valueList)}` };
      else ctx.enumIdx[i] = j;
    } else if (fd.type === FieldType.number) p = numberProblem(fd, v);
    else if (fd.type === FieldType.string) p = stringProblem(fd, v, ctx.maxLabelValueLength);
    else if (typeof v !== 'boolean') p = { reason: RejectReason.invalid, message: 'must be true or false' };
    if (p !== undefined) f = addProblem(f, p.reason, `events[${index}].${fd.name}`, p.message);
  }
  return f;
}

interface FieldProblem {
  readonly reason: RejectReason;
  readonly message: string;
}

const invalid = (message: string): FieldProblem => ({ reason: RejectReason.invalid, message });

/** Index of `v` in the enum's values, or -1. */
function enumIndex(list: readonly string[], v: unknown): number {
  let j = list.length - 1;
  while (j >= 0 && list[j] !== v) j--;
  return j;
}

function numberProblem(fd: CompiledField, v: unknown): FieldProblem | undefined {
  if (typeof v !== 'number') return invalid('must be a number');
  if (!(v >= fd.minimum))
    return invalid(Number.isNaN(v) ? 'must be a finite number' : `must be >= ${fd.minimum}`);
  if (!(v <= fd.maximum)) return invalid(`must be <= ${fd.maximum}`);
  if (fd.integer && !Number.isInteger(v)) return invalid('must be an integer');
  return undefined;
}

/** A string field: the profile's length bounds (code points), the label value limit, no NUL, well formed. */
function stringProblem(fd: CompiledField, v: unknown, maxLabel: number): FieldProblem | undefined {
  if (typeof v !== 'string') return invalid('must be a string');
  if (longerThan(v, fd.maxLength)) return invalid(`must be at most ${fd.maxLength} characters`);
  if (longerThan(v, maxLabel))
    return {
      reason: RejectReason.limit,
      message: `must be at most ${maxLabel} characters (maxLabelValueLength)`,
    };
  if (fd.minLength > 0 && shorterThan(v, fd.minLength))
    return invalid(`must be at least ${fd.minLength} characters`);
  if (v.indexOf('\u0000') !== -1) return invalid('must not contain NUL');
  const sp = loneSurrogateProblem(v);
  return sp === undefined ? undefined : invalid(sp);
}

/**
 * Fields the kind doesn't declare. The key count is compared with the known fields present (`kind`, `time`
 * and the declared fields checkFields read into the scratch array); only a mismatch lists the keys.
 */
function checkUnknownFields(
  ev: Record<string, unknown>,
  kind: CompiledKind,
  index: number,
  scratch: readonly unknown[],
  f: Failure | undefined,
): Failure | undefined {
  const fields = kind.fields;
  let present = ev.time === undefined ? 1 : 2;
  for (let i = 0; i < fields.length; i++) if (scratch[i] !== undefined) present++;
  let keys = 0;
  for (const _ in ev) keys++;
  if (keys === present) return f;
  const names = fields.map((x) => x.name);
  for (const k of unknownKeys(ev, (k) => k === 'kind' || k === 'time' || names.includes(k))) {
    f = addProblem(
      f,
      RejectReason.invalid,
      `events[${index}].${k}`,
      `unknown field (event kind "${kind.name}" has: time, ${names.join(', ')})`,
    );
  }
  return f;
}
