/**
 * The exposed-name rules (shared/model/exposed-names.ts) and the paths that call them: each rule has one
 * home, so the parsers, the push validator and the stores agree on which names collide.
 */
import { parseText } from '../../../shared/expfmt/text-parse';
import { ValidationError } from '../../../shared/model/errors';
import {
  counterSampleName,
  openMetricsFamilyName,
  RESERVED_NAME_LOOKAHEAD,
  reservedNameProblem,
  reservedSuffixes,
  sampleNames,
  suffixOwners,
} from '../../../shared/model/exposed-names';
import type { MetricFamily, MetricType } from '../../../shared/model/types';
import { preparePush } from '../../../shared/push/prepare';
import { reservedNameConflict } from '../../../shared/store/families';

describe('sample names', () => {
  it.each<[MetricType, string[]]>([
    ['counter', ['x']],
    ['gauge', ['x']],
    ['untyped', ['x']],
    ['summary', ['x', 'x_sum', 'x_count']],
    ['histogram', ['x_bucket', 'x_sum', 'x_count']],
  ])('%s x writes %j', (type, names) => {
    expect(sampleNames('x', type)).toEqual(names);
    expect(reservedSuffixes(type).map((s) => `x${s}`)).toEqual(names.filter((n) => n !== 'x'));
  });

  it('OpenMetrics counters: family without _total, sample with it', () => {
    expect(openMetricsFamilyName('req_total', 'counter')).toBe('req');
    expect(openMetricsFamilyName('req_total', 'gauge')).toBe('req_total');
    expect(counterSampleName('req', true)).toBe('req_total');
    expect(counterSampleName('req_total', true)).toBe('req_total');
    expect(counterSampleName('req', false)).toBe('req');
  });

  it('suffixOwners names every family a sample name could belong to', () => {
    expect(suffixOwners('a_bucket')).toEqual([{ base: 'a', suffix: '_bucket' }]);
    expect(suffixOwners('a_count')).toEqual([{ base: 'a', suffix: '_count' }]);
    expect(suffixOwners('a')).toEqual([]);
    expect(suffixOwners('_sum')).toEqual([]);
  });
});

describe('reserved names', () => {
  it.each([
    ['__x', 'must not start with "__"'],
    ['accrue_x', 'is reserved (prefix "accrue_"'],
    ['push_time_seconds', 'is reserved'],
    ['push_failure_time_seconds', 'is reserved'],
  ])('%s is refused on every path', (name, message) => {
    expect(reservedNameProblem(name)).toContain(message);
    expect(new RegExp(`^${RESERVED_NAME_LOOKAHEAD}`).test(name)).toBe(false);
    const push = (): unknown => preparePush('PUT', { job: 'j' }, `${name} 1\n`, 0);
    expect(push).toThrow(ValidationError);
    expect(push).toThrow(message);
  });

  it.each(['x', 'push_time_seconds_total', 'accrue', '_x', 'x__'])('%s is not reserved', (name) => {
    expect(reservedNameProblem(name)).toBeUndefined();
    expect(new RegExp(`^${RESERVED_NAME_LOOKAHEAD}`).test(name)).toBe(true);
  });
});

/** Does the text parser accept the two families in one body? */
function parserAccepts(first: [string, MetricType], second: [string, MetricType]): boolean {
  const block = ([n, t]: [string, MetricType]): string =>
    t === 'histogram'
      ? `# TYPE ${n} histogram\n${n}_bucket{le="+Inf"} 1\n${n}_sum 1\n${n}_count 1\n`
      : t === 'summary'
        ? `# TYPE ${n} summary\n${n}_sum 1\n${n}_count 1\n`
        : `# TYPE ${n} ${t}\n${n} 1\n`;
  try {
    parseText(block(first) + block(second));
    return true;
  } catch {
    return false;
  }
}

/** Does the store accept the second family after the first? */
function storeAccepts(first: [string, MetricType], second: [string, MetricType]): boolean {
  const lookup = (n: string): MetricType | undefined => (n === first[0] ? first[1] : undefined);
  return reservedNameConflict(second[0], second[1], lookup) === undefined;
}

/** Does one push with both families pass the push validator? */
function pushAccepts(first: [string, MetricType], second: [string, MetricType]): boolean {
  const fam = ([name, type]: [string, MetricType]): MetricFamily =>
    (type === 'histogram'
      ? { name, type, help: '', series: [{ labels: {}, buckets: [], sum: 1, count: 1 }] }
      : type === 'summary'
        ? { name, type, help: '', series: [{ labels: {}, quantiles: [], sum: 1, count: 1 }] }
        : { name, type, help: '', series: [{ labels: {}, value: 1 }] }) as MetricFamily;
  try {
    preparePush('PUT', { job: 'j' }, [fam(first), fam(second)], 0);
    return true;
  } catch {
    return false;
  }
}

describe('the parser, the push validator and the store agree on colliding names', () => {
  it.each<[[string, MetricType], [string, MetricType], boolean]>([
    [['x', 'histogram'], ['x_bucket', 'gauge'], false],
    [['x', 'histogram'], ['x_sum', 'counter'], false],
    [['x', 'histogram'], ['x_count', 'untyped'], false],
    [['x', 'summary'], ['x_sum', 'gauge'], false],
    [['x', 'summary'], ['x_count', 'gauge'], false],
    [['x', 'summary'], ['x_bucket', 'gauge'], true],
    [['x', 'gauge'], ['x_bucket', 'gauge'], true],
    [['x', 'counter'], ['x_sum', 'gauge'], true],
    [['x_sum', 'gauge'], ['x', 'summary'], false],
    [['x_bucket', 'gauge'], ['x', 'histogram'], false],
    [['x_bucket', 'gauge'], ['x', 'summary'], true],
  ])('%j then %j: accepted %s', (first, second, accepted) => {
    expect({
      parser: parserAccepts(first, second),
      push: pushAccepts(first, second),
      store: storeAccepts(first, second),
    }).toEqual({ parser: accepted, push: accepted, store: accepted });
  });
});
