import { ValidationError } from '../../shared/model/errors';
import { labelsKey, seriesKey } from '../../shared/model/identity';
import { labelNameProblem, metricNameProblem } from '../../shared/model/names';
import { normalizeGroupingKey } from '../../shared/store/grouping';

describe('series identity', () => {
  it('does not depend on label order', () => {
    expect(labelsKey({ b: '2', a: '1' })).toBe(labelsKey({ a: '1', b: '2' }));
    expect(seriesKey('m', { b: '2', a: '1' })).toBe(seriesKey('m', { a: '1', b: '2' }));
  });
  it('distinguishes values that a naive join would confuse', () => {
    expect(labelsKey({ a: 'x,b=y' })).not.toBe(labelsKey({ a: 'x', b: 'y' }));
    expect(seriesKey('m', {})).not.toBe(seriesKey('m', { a: '' }));
  });
});

describe('names', () => {
  it.each([
    ['aria_errors_total', undefined],
    ['a:b', undefined],
    ['1abc', 'must match'],
    ['a-b', 'must match'],
    ['', 'must not be empty'],
  ])('metric name %p', (name, problem) => {
    const p = metricNameProblem(name);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(problem);
  });
  it.each([
    ['symbol', undefined],
    ['constructor', undefined],
    ['__proto__', 'must not start with "__"'],
    ['a:b', 'must match'],
    [42, 'must be a string'],
  ])('label name %p', (name, problem) => {
    const p = labelNameProblem(name);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(problem);
  });
});

describe('normalizeGroupingKey', () => {
  it('drops empty values so instance="" is the same group as no instance', () => {
    expect({ ...normalizeGroupingKey({ job: 'a', instance: '' }) }).toEqual({ job: 'a' });
  });
  it('reports every problem with its path', () => {
    try {
      normalizeGroupingKey({ job: '', __x: 'y', n: 5 as unknown as string });
      throw new Error('expected a ValidationError');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const msg = (e as ValidationError).message;
      expect(msg).toContain('grouping_key.job: is required');
      expect(msg).toContain('grouping_key.__x: label name must not start with "__"');
      expect(msg).toContain('grouping_key.n: must be a string');
    }
  });
});
