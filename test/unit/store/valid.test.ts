/**
 * The edge validators (shared/store/valid.ts): what no store checks again. Paths name the field, messages
 * the rule; hostile input (wrong types, huge values, `__proto__` keys, NUL, newlines) in the tables.
 */
import { RejectReason, ValidationError } from '../../../shared/model/errors';
import type { PushRequest } from '../../../shared/store/types';
import { opProblems, validateApplyRequest, validatePushRequest } from '../../../shared/store/valid';
import { gaugeFamily, histogramFamily, inc, observe, set } from '../../contract/helpers';

describe('opProblems', () => {
  const G = { job: 'a' };
  it.each([
    ['valid counter', inc('x_total', { k: 'v' }, 1), []],
    ['valid zero-bucket histogram', observe('h', {}, [], [1, 2]), []],
    ['valid set', set('g', {}, -5, 0), []],
    ['null', null, ['ops[0]: must be an object']],
    ['array', [], ['ops[0]: must be an object']],
    ['bad kind', { kind: 'x' }, ['ops[0].kind: must be one of']],
    [
      'everything wrong at once',
      { kind: 'counter_inc', name: '9', labels: { 'a-b': 1, job: 'x' }, value: -1, help: 5 },
      [
        'ops[0].name: metric name must match',
        'ops[0].help: must be a string',
        'ops[0].labels.a-b: label name must match',
        'ops[0].labels.job: must not repeat a grouping-key label',
        'ops[0].value: counter increment',
      ],
    ],
    ['huge set time', set('g', {}, 1, Number.POSITIVE_INFINITY), ['ops[0].timeMs']],
    ['negative set time', set('g', {}, 1, -1), ['ops[0].timeMs']],
    [
      'fractional histogram counts',
      { ...observe('h', {}, [1], [0.5]), counts: [0.5, 0.5], count: 1 },
      ['ops[0].counts: must be an array of non-negative integers'],
    ],
    [
      'histogram bounds not an array',
      { ...observe('h', {}, [1], []), bounds: 'x' },
      ['ops[0].bounds: must be an array'],
    ],
    [
      'NaN bound',
      { ...observe('h', {}, [1], []), bounds: [Number.NaN] },
      ['ops[0].bounds[0]: must be a finite number'],
    ],
  ] as Array<[string, unknown, string[]]>)('%s', (_t, op, expected) => {
    const problems = opProblems(op, 0, G).map((p) => `${p.path}: ${p.message}`);
    if (expected.length === 0) expect(problems).toEqual([]);
    else {
      for (const want of expected) expect(problems.some((p) => p.startsWith(want))).toBe(true);
    }
  });
});

describe('validatePushRequest', () => {
  const base = {
    method: 'PUT',
    group: { job: 'j', instance: '' },
    pushTimeMs: 1,
    families: [],
  } as PushRequest;
  it('returns the normalized grouping key', () => {
    expect({ ...validatePushRequest(base).group }).toEqual({ job: 'j' });
  });
  it.each([
    [
      'duplicate series only → duplicate_series',
      {
        families: [
          gaugeFamily('a', [
            [{ k: '1' }, 1],
            [{ k: '1' }, 2],
          ]),
        ],
      },
      RejectReason.duplicateSeries,
      /duplicate series in family a/,
    ],
    [
      'timestamp only → timestamp',
      {
        families: [
          { name: 'a', help: '', type: 'gauge', series: [{ labels: {}, value: 1, timestampMs: 5 }] },
        ],
      },
      RejectReason.timestamp,
      /must not carry timestamps/,
    ],
    [
      'mixed problems → invalid',
      { method: 'GET', families: [gaugeFamily('a\u0000b', [[{}, 1]])] },
      RejectReason.invalid,
      /method: must be PUT, POST or DELETE; families\[0\]\.name/,
    ],
    ['families not an array', { families: 'x' }, RejectReason.invalid, /families: must be an array/],
    [
      'summary quantile out of range',
      {
        families: [
          {
            name: 's',
            help: '',
            type: 'summary',
            series: [{ labels: {}, quantiles: [{ quantile: 2, value: 1 }], sum: 1, count: 1 }],
          },
        ],
      },
      RejectReason.invalid,
      /quantile in \[0, 1\]/,
    ],
    [
      'histogram NaN count',
      { families: [histogramFamily('h', {}, [[1, 1]], 1, Number.NaN)] },
      RejectReason.invalid,
      /count/,
    ],
    [
      'string value',
      { families: [{ name: 'a', help: '', type: 'gauge', series: [{ labels: {}, value: '1' }] }] },
      RejectReason.invalid,
      /value: must be a number/,
    ],
  ] as Array<[string, Partial<PushRequest>, string, RegExp]>)('%s', (_t, patch, reason, msg) => {
    try {
      validatePushRequest({ ...base, ...patch });
      throw new Error('expected a ValidationError');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).reason).toBe(reason);
      expect((e as Error).message).toMatch(msg);
    }
  });
  it('caps the number of problems reported', () => {
    const series = Array.from({ length: 500 }, () => ({ labels: { 'bad-name': 'x' }, value: 1 }));
    try {
      validatePushRequest({ ...base, families: [{ name: 'a', help: '', type: 'gauge', series }] });
      throw new Error('expected a ValidationError');
    } catch (e) {
      // validatePushRequest stops collecting at 20; the error echoes at most 8 of them (shared/model/errors.ts).
      expect((e as ValidationError).problems.length).toBe(8);
      expect((e as Error).message).toMatch(/…and 12 more problems$/);
    }
  });
});

describe('validateApplyRequest', () => {
  const G = { job: 'a', instance: '' };
  const ok = { id: 'm1', group: G, ops: [inc('x_total', { k: 'v' }, 1)] };

  it('returns the request with its grouping key normalized (legacy names)', () => {
    const v = validateApplyRequest({ ...ok, eventTimeMs: 5, contentHash: 'h' });
    expect({ ...v.group }).toEqual({ job: 'a' });
    expect(v.ops).toEqual(ok.ops);
    expect([v.id, v.eventTimeMs, v.contentHash]).toEqual(['m1', 5, 'h']);
    expect('eventTimeMs' in validateApplyRequest(ok)).toBe(false);
  });

  it.each([
    ['not an object', 'x', /^request: must be an object$/],
    ['null', null, /^request: must be an object$/],
    ['no id', { group: G, ops: [] }, /^id: must be a non-empty string$/],
    ['empty id', { ...ok, id: '' }, /^id: must be a non-empty string$/],
    ['numeric id', { ...ok, id: 7 }, /^id: must be a non-empty string$/],
    ['ops not an array', { ...ok, ops: { length: 1 } }, /^ops: must be an array$/],
    ['no job', { ...ok, group: { instance: 'i' } }, /grouping_key\.job: is required/],
    [
      'UTF-8 group label (legacy names)',
      { ...ok, group: { job: 'a', é: 'x' } },
      /grouping_key\.é: label name/,
    ],
    [
      'NUL in a group value',
      { ...ok, group: { job: 'a\u0000b' } },
      /grouping_key\.job: must not contain NUL/,
    ],
    ['NaN event time', { ...ok, eventTimeMs: Number.NaN }, /^eventTimeMs: must be a finite number >= 0/],
    ['negative event time', { ...ok, eventTimeMs: -1 }, /^eventTimeMs: must be a finite number >= 0/],
    ['content hash not a string', { ...ok, contentHash: 1 }, /^contentHash: must be a string$/],
    [
      'one bad op among good ones: the whole request',
      { ...ok, ops: [ok.ops[0], inc('y_total', {}, -1)] },
      /^ops\[1\]\.value: counter increment must be a finite number >= 0$/,
    ],
    [
      '__proto__ label (JSON.parse keeps it as an own key)',
      { ...ok, ops: [JSON.parse('{"kind":"counter_inc","name":"x","labels":{"__proto__":"v"},"value":1}')] },
      /^ops\[0\]\.labels\.__proto__: label name/,
    ],
    [
      'newline and quote in a label value are fine, NUL is not',
      { ...ok, ops: [inc('x', { a: 'l1\n"q"' }, 1), inc('x', { a: 'n\u0000' }, 1)] },
      /^ops\[1\]\.labels\.a: label value must not contain NUL$/,
    ],
    ['huge counter increment', { ...ok, ops: [inc('x', {}, Number.POSITIVE_INFINITY)] }, /^ops\[0\]\.value/],
    [
      'a label repeating the group',
      { ...ok, ops: [inc('x', { job: 'b' }, 1)] },
      /must not repeat a grouping-key label/,
    ],
  ] as Array<[string, unknown, RegExp]>)('refuses %s', (_t, raw, msg) => {
    let err: unknown;
    try {
      validateApplyRequest(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).permanent).toBe(true);
    expect((err as Error).message).toMatch(msg);
  });

  it('reports every bad op, up to 20 (the error echoes 8)', () => {
    const ops = Array.from({ length: 50 }, (_, i) => inc(`x${i}`, {}, -1));
    try {
      validateApplyRequest({ ...ok, ops });
      throw new Error('expected a ValidationError');
    } catch (e) {
      expect((e as ValidationError).problems.map((p) => p.path).slice(0, 3)).toEqual([
        'ops[0].value',
        'ops[1].value',
        'ops[2].value',
      ]);
      expect((e as Error).message).toMatch(/…and 12 more problems$/);
    }
  });
});
