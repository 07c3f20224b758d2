/**
 * Event times later than the message's clock (SQS SentTimestamp) plus the allowed skew are clamped to it,
 * not refused (docs/security.md "The producer trust model", docs/events.md): on domain events (fast path
 * and full validator), generic counters, gauges and histograms, and push events.
 */
import { decode, execution, NOW, T0 } from './helpers';

const SKEW = 300_000;
const EDGE = NOW + SKEW;

describe('event times are clamped to the clock plus the skew', () => {
  it.each([
    ['inside the skew', NOW + 1_000, NOW + 1_000, undefined],
    ['exactly at the edge', EDGE, EDGE, undefined],
    ['1 ms past the edge', EDGE + 1, EDGE, 1],
    ['an hour ahead', NOW + 3_600_000, EDGE, 1],
    ['at the end of the Date range', 8.64e15, EDGE, 1],
  ])('domain event %s', (_n, time, applied, clamped) => {
    for (const fastPath of [true, false]) {
      const r = decode([execution({ time })], { fastPath });
      expect(r.rejected).toEqual([]);
      expect(r.apply.eventTimeMs).toBe(applied);
      expect(r.clamped).toBe(clamped);
    }
  });

  it('a gauge set ahead is applied at the edge, so a later set by the clock wins', () => {
    const r = decode([
      { kind: 'gauge', time: NOW + 3_600_000, name: 'g', op: 'set', value: 666 },
      { kind: 'counter', time: T0, name: 'c_total' },
    ]);
    expect(r.apply.ops).toContainEqual(
      expect.objectContaining({ kind: 'gauge_set', value: 666, timeMs: EDGE }),
    );
    expect(r.apply.eventTimeMs).toBe(EDGE);
    expect(r.clamped).toBe(1);
  });

  it('a histogram observation and a counter increment ahead are applied, clamped', () => {
    const r = decode([
      { kind: 'histogram', time: NOW + 10 * SKEW, name: 'h', value: 1, buckets: [1, 2] },
      { kind: 'counter', time: NOW + 10 * SKEW, name: 'c_total', value: 2 },
    ]);
    expect(r.rejected).toEqual([]);
    expect(r.apply.ops.map((o) => o.kind)).toEqual(['histogram_observe', 'counter_inc']);
    expect(r.clamped).toBe(2);
  });

  it('a push event ahead is pushed at the edge', () => {
    const r = decode([{ kind: 'push', time: NOW + 3_600_000, method: 'PUT', body: 'm 1\n' }]);
    expect(r.pushes.map((p) => p.pushTimeMs)).toEqual([EDGE]);
    expect(r.clamped).toBe(1);
  });

  it('a refused push event is not counted as clamped', () => {
    const r = decode([{ kind: 'push', time: NOW + 3_600_000, method: 'PUT', body: 'm{ 1\n' }]);
    expect(r.pushes).toEqual([]);
    expect(r.clamped).toBeUndefined();
  });

  it.each([
    ['skew 0', 0, NOW],
    ['skew 5 s', 5_000, NOW + 5_000],
  ])('the skew is configurable (%s)', (_n, maxFutureMs, edge) => {
    const r = decode([execution({ time: NOW + 60_000 })], { maxFutureMs });
    expect(r.apply.eventTimeMs).toBe(edge);
  });

  it.each([
    ['beyond the Date range', 8.64e15 + 1, 'must be <= 8640000000000000'],
    ['negative', -1, 'must be >= 0'],
    ['not an integer', NOW + 0.5, 'must be an integer'],
    ['a string', String(NOW), 'must be a number'],
  ])('a time %s is still refused (invalid)', (_n, time, message) => {
    const r = decode([execution({ time })]);
    expect(r.rejected.map((x) => x.reason)).toEqual(['invalid']);
    expect(r.rejected[0]!.message).toContain(message);
    expect(r.clamped).toBeUndefined();
  });
});
