/**
 * Client-side validation of one event, so that a producer learns about a bad event at the call site
 * (with the field and the rule) instead of finding it later in Accrue's rejection counters. It checks
 * the same rules as the ingest decoder for the fields it can see alone: generic events against the
 * envelope's limits, domain events against the profile's field definitions. Rules that need context
 * (family consistency across messages, label collisions with the group) stay with the decoder.
 */
import { timeProblem } from '../ingest/context';
import { layoutProblems } from '../model/buckets';
import { ENVELOPE_LIMITS, GENERIC_KINDS } from '../model/envelope-constants';
import type { Problem } from '../model/errors';
import { reservedNameProblem } from '../model/exposed-names';
import { longerThan, shorterThan } from '../model/lengths';
import { labelNameProblem, loneSurrogateProblem, metricNameProblem } from '../model/names';
import { type CompiledKind, type CompiledProfile, FieldType } from '../profiles/types';
import { DEFAULT_LIMITS } from '../store/types';

const GENERIC = new Set<string>(GENERIC_KINDS);
const FIELDS: Record<string, readonly string[]> = {
  counter: ['kind', 'time', 'name', 'labels', 'value', 'help'],
  gauge: ['kind', 'time', 'op', 'name', 'labels', 'value', 'help'],
  histogram: ['kind', 'time', 'name', 'labels', 'value', 'buckets', 'help'],
  push: ['kind', 'time', 'method', 'body'],
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(
  problems: Problem[],
  path: string,
  v: unknown,
  min: number,
  max: number,
  required: boolean,
): void {
  if (v === undefined) {
    if (required) problems.push({ path, message: 'is required' });
    return;
  }
  if (typeof v !== 'number') problems.push({ path, message: `must be a number, got ${typeof v}` });
  else if (!Number.isFinite(v))
    problems.push({ path, message: `must be finite, got ${v} (JSON can't carry NaN/Infinity)` });
  else if (v < min) problems.push({ path, message: `must be >= ${min}` });
  else if (v > max) problems.push({ path, message: `must be <= ${max}` });
}

/**
 * The decoder's own rule: a time it would refuse is refused here. A time ahead of this clock is not: the
 * gateway clamps it to the message's SentTimestamp plus ACCRUE_MAX_EVENT_FUTURE_MS and applies the event
 * (docs/security.md "The producer trust model"), and only the gateway knows its skew and SQS's clock.
 */
function checkTime(problems: Problem[], path: string, v: unknown): void {
  const problem = timeProblem(v, ENVELOPE_LIMITS);
  if (problem) problems.push({ path, message: problem });
}

function checkLabels(problems: Problem[], path: string, labels: unknown): void {
  if (labels === undefined) return;
  if (!isObject(labels)) {
    problems.push({ path, message: 'must be an object of label name to string value' });
    return;
  }
  const names = Object.keys(labels);
  if (names.length > DEFAULT_LIMITS.maxLabelsPerSeries) {
    problems.push({ path, message: `must have at most ${DEFAULT_LIMITS.maxLabelsPerSeries} labels` });
  }
  for (const n of names) {
    const np = labelNameProblem(n);
    if (np) problems.push({ path: `${path}.${n}`, message: `label name ${np}` });
    const v = labels[n];
    if (typeof v !== 'string')
      problems.push({ path: `${path}.${n}`, message: 'label value must be a string' });
    else if (longerThan(v, DEFAULT_LIMITS.maxLabelValueLength)) {
      problems.push({
        path: `${path}.${n}`,
        message: `label value must be at most ${DEFAULT_LIMITS.maxLabelValueLength} characters`,
      });
    } else if (v.includes('\u0000'))
      problems.push({ path: `${path}.${n}`, message: 'label value must not contain NUL' });
    else {
      const sp = loneSurrogateProblem(v);
      if (sp) problems.push({ path: `${path}.${n}`, message: `label value ${sp}` });
    }
  }
}

function checkGeneric(problems: Problem[], p: string, ev: Record<string, unknown>, kind: string): void {
  const max = ENVELOPE_LIMITS.maxAbsValue;
  if (kind !== 'push') {
    const np = metricNameProblem(ev.name) ?? reservedNameProblem(ev.name as string);
    if (np) problems.push({ path: `${p}.name`, message: np });
    checkLabels(problems, `${p}.labels`, ev.labels);
    if (
      ev.help !== undefined &&
      (typeof ev.help !== 'string' || longerThan(ev.help, ENVELOPE_LIMITS.maxHelpLength))
    ) {
      problems.push({
        path: `${p}.help`,
        message: `must be a string of at most ${ENVELOPE_LIMITS.maxHelpLength} characters`,
      });
    }
  }
  switch (kind) {
    case 'counter':
      num(problems, `${p}.value`, ev.value, 0, max, false);
      break;
    case 'gauge':
      if (ev.op !== 'set' && ev.op !== 'inc' && ev.op !== 'dec')
        problems.push({ path: `${p}.op`, message: 'must be one of set, inc, dec' });
      num(problems, `${p}.value`, ev.value, -max, max, ev.op === 'set');
      break;
    case 'histogram': {
      num(problems, `${p}.value`, ev.value, -max, max, true);
      const b = ev.buckets;
      if (!Array.isArray(b) || b.length === 0 || b.length > ENVELOPE_LIMITS.maxBuckets) {
        problems.push({
          path: `${p}.buckets`,
          message: `must be an array of 1 to ${ENVELOPE_LIMITS.maxBuckets} finite bounds`,
        });
        break;
      }
      const before = problems.length;
      for (let i = 0; i < b.length; i++) num(problems, `${p}.buckets[${i}]`, b[i], -max, max, true);
      if (problems.length === before)
        for (const q of layoutProblems(b))
          problems.push({ path: `${p}.buckets[${q.index}]`, message: q.message });
      break;
    }
    case 'push':
      if (ev.method !== 'PUT' && ev.method !== 'POST' && ev.method !== 'DELETE')
        problems.push({ path: `${p}.method`, message: 'must be one of PUT, POST, DELETE' });
      if (ev.body !== undefined && typeof ev.body !== 'string')
        problems.push({ path: `${p}.body`, message: 'must be a string (text format 0.0.4)' });
      break;
  }
  const allowed = FIELDS[kind]!;
  for (const k of Object.keys(ev)) {
    if (!allowed.includes(k))
      problems.push({ path: `${p}.${k}`, message: `unknown field (allowed: ${allowed.join(', ')})` });
  }
}

function checkDomain(problems: Problem[], p: string, ev: Record<string, unknown>, kind: CompiledKind): void {
  const known = new Set(['kind', 'time']);
  for (const f of kind.fields) {
    known.add(f.name);
    const path = `${p}.${f.name}`;
    const v = Object.hasOwn(ev, f.name) ? ev[f.name] : undefined;
    if (v === undefined) {
      if (!f.optional) problems.push({ path, message: 'is required' });
      continue;
    }
    switch (f.type) {
      case FieldType.string:
        if (typeof v !== 'string') problems.push({ path, message: `must be a string, got ${typeof v}` });
        else if (shorterThan(v, f.minLength) || longerThan(v, f.maxLength))
          problems.push({ path, message: `must be ${f.minLength} to ${f.maxLength} characters` });
        else if (v.includes('\u0000')) problems.push({ path, message: 'must not contain NUL' });
        else {
          const sp = loneSurrogateProblem(v);
          if (sp) problems.push({ path, message: sp });
        }
        break;
      case FieldType.enum:
        if (typeof v !== 'string' || !f.valueList.includes(v))
          problems.push({ path, message: `must be one of ${f.valueList.join(', ')}` });
        break;
      case FieldType.number:
        num(problems, path, v, f.minimum, f.maximum, true);
        if (f.integer && typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v))
          problems.push({ path, message: 'must be an integer' });
        break;
      case FieldType.boolean:
        if (typeof v !== 'boolean')
          problems.push({ path, message: `must be true or false, got ${typeof v}` });
        break;
    }
  }
  for (const k of Object.keys(ev)) {
    if (!known.has(k))
      problems.push({
        path: `${p}.${k}`,
        message: `unknown field for event kind "${kind.name}" (allowed: ${[...known].join(', ')})`,
      });
  }
}

/**
 * Every problem of one event (empty when valid). `path` is the event's path prefix, e.g. `events[3]`.
 * `_nowMs` is no longer used (a time ahead of the clock is clamped by the gateway, not refused here); it
 * stays so that existing callers that pass `path` keep working.
 */
export function eventProblems(
  event: unknown,
  profile: CompiledProfile,
  _nowMs?: number,
  path = 'event',
): Problem[] {
  const problems: Problem[] = [];
  if (!isObject(event)) return [{ path, message: 'must be an object' }];
  const kind = event.kind;
  if (typeof kind !== 'string')
    return [{ path: `${path}.kind`, message: 'is required and must be a string' }];
  checkTime(problems, `${path}.time`, event.time);
  if (GENERIC.has(kind)) checkGeneric(problems, path, event, kind);
  else {
    const k = profile.kinds.get(kind);
    if (!k) {
      const kinds = [...GENERIC, ...profile.kinds.keys()].join(', ');
      problems.push({
        path: `${path}.kind`,
        message: `unknown event kind "${kind}" for profile ${profile.name} (known: ${kinds})`,
      });
    } else checkDomain(problems, path, event, k);
  }
  return problems;
}
