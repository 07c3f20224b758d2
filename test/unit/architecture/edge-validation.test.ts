/**
 * Validation at the edge only (docs/architecture.md "Where validation happens"): the stores take
 * `ValidApplyRequest` / `ValidPush` (shared/store/types.ts), which only shared/store/valid.ts produces.
 * This file proves it from the source: who may brand, that nobody casts to a brand, that the stores don't
 * validate input again; and, as a drift guard, that what the edges brand passes the validators.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseText } from '../../../shared/expfmt/text-parse';
import { deltaRequest } from '../../../shared/push/deltas';
import { preparePush, prepareTimedFamilies } from '../../../shared/push/prepare';
import type { ValidApplyRequest, ValidGroupingKey, ValidPush } from '../../../shared/store/types';
import { validateApplyRequest, validatePushRequest } from '../../../shared/store/valid';
import { ACCEPTED_EVENTS, INVALID_EVENTS } from '../ingest/corpus';
import { decode, envelope } from '../ingest/helpers';
import { sources } from './source-files';

const ROOT = join(__dirname, '../../..');
const SCANNED = ['shared', 'functions', 'service', 'infra', 'bench', 'scripts', 'test'];
const EDGE = 'shared/store/valid.ts';
const SELF = relative(ROOT, __filename);

/** Who may brand what an edge built from input it had already checked, and why. */
const MINTERS: Readonly<Record<string, readonly string[]>> = {
  brandCheckedApply: [
    'shared/ingest/decode.ts', // the SQS decoder's pre-aggregated ops, built from validated events
    'shared/push/deltas.ts', // an aggregating push's ops, each checked with opProblems
  ],
  brandPreparedPush: ['shared/push/prepare.ts'], // preparePush, the push validator of HTTP and SQS pushes
};

const files = SCANNED.flatMap((d) => sources(join(ROOT, d))).map((f) => ({
  path: relative(ROOT, f),
  text: readFileSync(f, 'utf8'),
}));

/** Files (other than the edge module and this test) whose code names `word`. */
function namedIn(word: string): string[] {
  const re = new RegExp(`\\b${word}\\b`);
  return files.filter((f) => f.path !== EDGE && f.path !== SELF && re.test(f.text)).map((f) => f.path);
}

describe('validation at the edge only', () => {
  it('the scan sees the edge module and its minters', () => {
    expect(files.some((f) => f.path === EDGE)).toBe(true);
    expect(namedIn('brandCheckedApply').length).toBeGreaterThan(0);
  });

  it.each(Object.entries(MINTERS))('only the listed edges import %s', (fn, allowed) => {
    expect(namedIn(fn).sort()).toEqual([...allowed].sort());
  });

  it('nothing outside the edge module casts to a brand', () => {
    const cast =
      /\bas\s+(?:Valid(?:ApplyRequest|Push|Op|GroupingKey))\b|<Valid(?:ApplyRequest|Push|Op|GroupingKey)>\s*[({[\w]/;
    const casts = files
      .filter((f) => f.path !== EDGE && f.path !== SELF && cast.test(f.text))
      .map((f) => f.path);
    expect(casts).toEqual([]);
    // The check could fail:
    expect(cast.test('const r = x as ValidPush;')).toBe(true);
    expect(cast.test('const r = <ValidApplyRequest>{ id };')).toBe(true);
    expect(cast.test('const g = key as ValidGroupingKey;')).toBe(true);
  });

  it('the stores do not validate input again (no op or push validator in shared/store/memory or dynamodb)', () => {
    const validators =
      /\b(?:opProblems|validateApplyRequest|validatePushRequest|validateGroupingKey|normalizeGroupingKey)\b/;
    const stores = files.filter(
      (f) => /^shared\/store\/(?:memory|dynamodb)\//.test(f.path) && validators.test(f.text),
    );
    expect(stores.map((f) => f.path)).toEqual([]);
  });

  it('a plain object is not a branded request (compile time)', () => {
    // @ts-expect-error an ApplyRequest literal lacks the brand: only valid.ts produces one
    const a: ValidApplyRequest = { id: 'x', group: { job: 'a' }, ops: [] };
    // @ts-expect-error the same for pushes
    const p: ValidPush = { method: 'PUT', group: { job: 'a' }, families: [], pushTimeMs: 0 };
    // @ts-expect-error and for the grouping key deleteGroup / recordPushFailure take
    const g: ValidGroupingKey = { job: 'a' };
    expect([a.id, p.method, g.job]).toEqual(['x', 'PUT', 'a']);
  });
});

describe('what the edges brand passes the validators (drift guard)', () => {
  it.each(ACCEPTED_EVENTS)('the SQS decoder: %s', (_t, event) => {
    const d = decode([event, { kind: 'counter', time: 1_767_225_600_000, name: 'c_total', value: 2 }]);
    expect(d.rejected).toEqual([]);
    expect(() => validateApplyRequest(d.apply)).not.toThrow();
    for (const p of d.pushes) expect(() => validatePushRequest(p)).not.toThrow();
  });

  it('the SQS decoder, with its invalid events among valid ones', () => {
    const events = INVALID_EVENTS.map(([, e]) => e);
    const body = JSON.stringify(
      envelope([...events, { kind: 'counter', time: 1_767_225_600_000, name: 'c', value: 1 }]),
    );
    const d = decode(body, { maxMessageBytes: 10_000_000 });
    expect(d.apply.ops.length).toBeGreaterThan(0);
    expect(() => validateApplyRequest(d.apply)).not.toThrow();
  });

  it('preparePush and aggregating pushes', () => {
    const text =
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n# TYPE c_total counter\nc_total{a="x\\n\\"y"} 4\n# TYPE g gauge\ng 5 1767225600000\n';
    const push = preparePush('PUT', { job: 'j', instance: '' }, text.replace(/ 1767225600000/, ''), 1);
    expect(() => validatePushRequest(push)).not.toThrow();
    const group = push.group;
    const timed = prepareTimedFamilies(group, parseText(text));
    const delta = deltaRequest('k', group, timed, { nowMs: 1_767_225_600_000, maxFutureMs: 300_000 });
    expect(delta.ops.length).toBe(3);
    expect(() => validateApplyRequest(delta)).not.toThrow();
  });
});
