/**
 * Reading producer input for `accrue validate` / `accrue send`: a file (or stdin) holding one of
 * - an envelope `{ "v": 1, "group": {...}, "events": [...] }` (sent as is, its `id` kept),
 * - an array of events, or a single event object,
 * - NDJSON: one envelope or event per line.
 * Bare events are wrapped in an envelope with the group from the flags; a missing `time` is set to now.
 */
import { readFileSync } from 'node:fs';

export interface Unit {
  /** Where it came from, e.g. `events.json` or `events.ndjson:3`. */
  readonly source: string;
  /** The envelope body exactly as it will be sent (or was given). */
  readonly body: string;
  /** True when the input was a complete envelope (its id and group are kept). */
  readonly envelope: boolean;
  readonly events: number;
}

export interface InputProblem {
  readonly source: string;
  readonly message: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function withTime(ev: unknown, now: number): unknown {
  return isObject(ev) && ev.time === undefined ? { ...ev, time: now } : ev;
}

export function readInput(file: string): string {
  return readFileSync(file === '-' ? 0 : file, 'utf8');
}

/** Splits input text into envelope bodies. `group` wraps bare events. */
export function parseInput(
  text: string,
  name: string,
  group: Record<string, string>,
  now: number,
): { units: Unit[]; problems: InputProblem[] } {
  const units: Unit[] = [];
  const problems: InputProblem[] = [];
  const bare: unknown[] = [];
  const wrap = () => {
    if (bare.length === 0) return;
    const events = bare.splice(0, bare.length).map((e) => withTime(e, now));
    units.push({
      source: name,
      body: JSON.stringify({ v: 1, group, events }),
      envelope: false,
      events: events.length,
    });
  };
  const take = (value: unknown, source: string, raw: string) => {
    if (isObject(value) && (Object.hasOwn(value, 'v') || Object.hasOwn(value, 'events'))) {
      units.push({
        source,
        body: raw,
        envelope: true,
        events: Array.isArray(value.events) ? value.events.length : 0,
      });
    } else if (Array.isArray(value)) bare.push(...value);
    else if (isObject(value)) bare.push(value);
    else
      problems.push({ source, message: 'must be an envelope object, an event object or an array of events' });
  };

  const trimmed = text.trim();
  if (trimmed === '')
    return {
      units,
      problems: [
        {
          source: name,
          message: 'is empty: expected JSON (an envelope, an event or an array of events) or NDJSON',
        },
      ],
    };
  let whole: unknown;
  let wholeOk = false;
  try {
    whole = JSON.parse(trimmed);
    wholeOk = true;
  } catch {
    // not one JSON document: try NDJSON below
  }
  if (wholeOk) take(whole, name, trimmed);
  else {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        take(JSON.parse(line), `${name}:${i + 1}`, line.trim());
      } catch (e) {
        problems.push({ source: `${name}:${i + 1}`, message: `not valid JSON (${(e as Error).message})` });
      }
    });
  }
  wrap();
  return { units, problems };
}
