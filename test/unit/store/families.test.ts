import { boundsKey } from '../../../shared/model/buckets';
import { FamilyConflictError, LimitError, RejectReason } from '../../../shared/model/errors';
import type { MetricType } from '../../../shared/model/types';
import {
  bucketLayoutConflict,
  failureReason,
  familyConflict,
  groupShapeNames,
  labelLimitError,
  MAX_FAILURE_REASON_LENGTH,
  reservedNameCandidates,
  reservedNameConflict,
  schemaOf,
  seriesLimitError,
  shapeKey,
  shapeSize,
} from '../../../shared/store/families';
import { DEFAULT_LIMITS } from '../../../shared/store/types';

describe('shape keys', () => {
  it.each([
    ['no instance in the group: instance is added', { job: 'a' }, {}, 'instance,job'],
    ['instance in the group', { job: 'a', instance: 'i' }, {}, 'instance,job'],
    ['series labels merge sorted', { job: 'a' }, { z: '1', b: '2' }, 'b,instance,job,z'],
    ['series instance label is not counted twice', { job: 'a' }, { instance: 'x' }, 'instance,job'],
    ['constructor label name', { job: 'a' }, { constructor: 'x' }, 'constructor,instance,job'],
  ])('%s', (_t, group, labels, expected) => {
    expect(shapeKey(groupShapeNames(group), labels)).toBe(expected);
    expect(shapeSize(expected)).toBe(expected.split(',').length);
  });
  it('shapeSize of the empty shape is 0', () => expect(shapeSize('')).toBe(0));
  it('label order never matters', () => {
    expect(shapeKey(groupShapeNames({ job: 'a', x: '1' }), { b: '1', a: '2' })).toBe(
      shapeKey(groupShapeNames({ x: '1', job: 'a' }), { a: '2', b: '1' }),
    );
  });
  it('bounds keys distinguish layouts', () => {
    expect(boundsKey([0.1, 1])).not.toBe(boundsKey([0.1, 2]));
    expect(boundsKey([1])).toBe(boundsKey([1.0]));
  });
});

describe('bucketLayoutConflict, failureReason, reservedNameCandidates', () => {
  it('refuses a merge into a series with another layout, naming both', () => {
    expect(bucketLayoutConflict('h', [1, 2], [1, 2])).toBeUndefined();
    const c = bucketLayoutConflict('h', [1, 2], [1, 3]);
    expect(c).toBeInstanceOf(FamilyConflictError);
    expect(c!.message).toMatch(/bucket layout \[1,3\] conflicts with \[1,2\]/);
  });
  it('cuts failure reasons at one length for every store', () => {
    expect(failureReason('x'.repeat(5000))).toHaveLength(MAX_FAILURE_REASON_LENGTH);
    expect(failureReason('short')).toBe('short');
    expect(failureReason(42)).toBe('42');
  });
  it('names the families a reserved-name check needs', () => {
    expect(reservedNameCandidates('lat', 'histogram').sort()).toEqual(['lat_bucket', 'lat_count', 'lat_sum']);
    expect(reservedNameCandidates('lat_count', 'counter')).toEqual(['lat']);
    expect(reservedNameCandidates('q', 'summary').sort()).toEqual(['q_count', 'q_sum']);
  });
});

describe('familyConflict', () => {
  const g = groupShapeNames({ job: 'a' });
  it.each([
    [
      'same definition',
      schemaOf('f', 'counter', g, { a: '1' }),
      schemaOf('f', 'counter', g, { a: '2' }),
      undefined,
    ],
    [
      'type',
      schemaOf('f', 'counter', g, {}),
      schemaOf('f', 'gauge', g, {}),
      /family f: type gauge conflicts with type counter/,
    ],
    // Issue 14: label names and bucket layouts may differ between series and groups.
    ['label names', schemaOf('f', 'gauge', g, { a: '1' }), schemaOf('f', 'gauge', g, { b: '1' }), undefined],
    [
      'buckets',
      schemaOf('h', 'histogram', g, {}, [1, 2]),
      schemaOf('h', 'histogram', g, {}, [1, 3]),
      undefined,
    ],
    [
      'type before labels',
      schemaOf('f', 'gauge', g, { a: '1' }),
      schemaOf('f', 'untyped', g, { b: '1' }),
      /type/,
    ],
  ] as const)('%s', (_t, existing, wanted, expected) => {
    const c = familyConflict(existing, wanted);
    if (expected === undefined) expect(c).toBeUndefined();
    else {
      expect(c).toBeInstanceOf(FamilyConflictError);
      expect(c!.reason).toBe(RejectReason.familyConflict);
      expect(c!.family).toBe(existing.name);
      expect(c!.message).toMatch(expected);
    }
  });
});

describe('reservedNameConflict', () => {
  const defined: Record<string, MetricType> = {
    lat: 'histogram',
    rpc: 'summary',
    x_count: 'counter',
    plain: 'gauge',
  };
  const lookup = (n: string) => (Object.hasOwn(defined, n) ? defined[n] : undefined);
  it.each([
    ['histogram owns _bucket', 'lat_bucket', 'counter', /reserved by histogram family lat/],
    ['histogram owns _count', 'lat_count', 'gauge', /reserved by histogram family lat/],
    ['summary owns _sum', 'rpc_sum', 'gauge', /reserved by summary family rpc/],
    ['summary does not own _bucket', 'rpc_bucket', 'gauge', undefined],
    ['new histogram whose _count exists', 'x', 'histogram', /would reserve x_count/],
    ['new gauge next to a gauge', 'plain_sum', 'gauge', undefined],
    ['unrelated', 'constructor', 'counter', undefined],
    ['__proto__ name', '__proto__', 'histogram', undefined],
  ] as const)('%s', (_t, name, type, expected) => {
    const c = reservedNameConflict(name, type, lookup);
    if (expected === undefined) expect(c).toBeUndefined();
    else {
      expect(c).toBeInstanceOf(FamilyConflictError);
      expect(c!.message).toMatch(expected);
    }
  });
});

describe('limits', () => {
  const limits = { ...DEFAULT_LIMITS, maxLabelValueLength: 4, maxLabelsPerSeries: 3 };
  it.each([
    ['within limits', { job: 'a' }, { k: 'abcd' }, undefined],
    ['series value too long', { job: 'a' }, { k: 'abcde' }, 'maxLabelValueLength'],
    ['group value too long', { job: 'abcde' }, {}, 'maxLabelValueLength'],
    ['huge value', { job: 'a' }, { k: 'x'.repeat(10_000_000) }, 'maxLabelValueLength'],
    ['too many labels (instance counts)', { job: 'a' }, { k: '1', l: '2' }, 'maxLabelsPerSeries'],
  ] as const)('%s', (_t, group, labels, limit) => {
    const e = labelLimitError('fam', group, labels, shapeKey(groupShapeNames(group), labels), limits);
    if (limit === undefined) expect(e).toBeUndefined();
    else {
      expect(e).toBeInstanceOf(LimitError);
      expect(e!.limit).toBe(limit);
      expect(e!.message).toMatch(/^family fam: /);
      expect(e!.message.length).toBeLessThan(300);
    }
  });
  it.each([
    [{ family: 2, group: 2, total: 2 }, undefined],
    [{ family: 3, group: 1, total: 1 }, 'maxSeriesPerFamily'],
    [{ family: 1, group: 3, total: 1 }, 'maxSeriesPerGroup'],
    [{ family: 1, group: 1, total: 3 }, 'maxSeriesTotal'],
    [{ family: Number.MAX_SAFE_INTEGER, group: 0, total: 0 }, 'maxSeriesPerFamily'],
  ] as const)('series counts %j', (counts, limit) => {
    const e = seriesLimitError('fam', counts, {
      ...DEFAULT_LIMITS,
      maxSeriesPerFamily: 2,
      maxSeriesPerGroup: 2,
      maxSeriesTotal: 2,
    });
    if (limit === undefined) expect(e).toBeUndefined();
    else expect(e!.limit).toBe(limit);
  });
});
