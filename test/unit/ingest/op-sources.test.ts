/**
 * eventsOfOp: the events of a message an aggregated op came from, so a store refusal's DLQ entry names
 * event indexes in the message, not op indexes after pre-aggregation.
 */
import type { DecodedMessage } from '../../../shared/ingest/decode';
import { eventsOfOp, MAX_SOURCE_EVENTS } from '../../../shared/ingest/op-sources';
import type { MetricOp } from '../../../shared/store/types';
import { decode, envelope, execution, T0 } from './helpers';

function sources(events: unknown[]): { decoded: DecodedMessage; of: (op: MetricOp) => number[] } {
  const body = JSON.stringify(envelope(events));
  const decoded = decode(body);
  return { decoded, of: (op) => eventsOfOp(body, decoded, op, (b) => decode(b)) };
}

const c = (name: string, labels: Record<string, string>, value = 1) => ({
  kind: 'counter',
  time: T0,
  name,
  labels,
  value,
});

describe('eventsOfOp', () => {
  it('names every event summed into a counter op, skipping refused events and other series', () => {
    const { decoded, of } = sources([
      c('a_total', { x: '1' }),
      { kind: 'gauge', time: T0, name: 'g', op: 'set', value: 2 },
      c('a_total', { x: '1' }, 2),
      c('a_total', { x: '2' }),
      c('a_total', { x: '1' }, -1), // refused: counters only go up
      c('a_total', { x: '1' }, 3),
    ]);
    expect(decoded.rejected.map((r) => r.index)).toEqual([4]);
    const byName = (name: string, x?: string) =>
      decoded.apply.ops.find((o) => o.name === name && (x === undefined || o.labels['x'] === x))!;
    expect(byName('a_total', '1')).toMatchObject({ kind: 'counter_inc', value: 6 });
    expect(of(byName('a_total', '1'))).toEqual([0, 2, 5]);
    expect(of(byName('a_total', '2'))).toEqual([3]);
    expect(of(byName('g'))).toEqual([1]);
  });

  it("tells a gauge's set op from its add op on the same series", () => {
    const { decoded, of } = sources([
      { kind: 'gauge', time: T0, name: 'g', op: 'set', value: 5 },
      { kind: 'gauge', time: T0, name: 'g', op: 'inc', value: 1 },
      { kind: 'gauge', time: T0 + 1, name: 'g', op: 'set', value: 7 },
    ]);
    const set = decoded.apply.ops.find((o) => o.kind === 'gauge_set')!;
    const add = decoded.apply.ops.find((o) => o.kind === 'gauge_add')!;
    expect([of(set), of(add)]).toEqual([[0, 2], [1]]);
  });

  it('maps every op of profile (domain) events back to the events that emitted it', () => {
    const events = [
      execution({ symbol: 'EURUSD' }),
      execution({ symbol: 'USDJPY' }),
      execution({ symbol: 'EURUSD' }),
    ];
    const { decoded, of } = sources(events);
    for (const op of decoded.apply.ops) {
      const s = of(op);
      expect(s.length).toBeGreaterThan(0);
      if (op.labels['symbol'] === 'EURUSD') expect(s).toEqual([0, 2]);
      if (op.labels['symbol'] === 'USDJPY') expect(s).toEqual([1]);
    }
  });

  it(`lists at most ${MAX_SOURCE_EVENTS} events`, () => {
    const { decoded, of } = sources(Array.from({ length: 200 }, () => c('a_total', {})));
    expect(of(decoded.apply.ops[0]!)).toEqual(Array.from({ length: MAX_SOURCE_EVENTS }, (_, i) => i));
  });

  it.each([
    ['not JSON', 'nope'],
    ['no events array', '{"v":1,"group":{"job":"a"},"events":"x"}'],
    ['__proto__ events', '{"v":1,"group":{"job":"a"},"events":[{"__proto__":{"kind":"counter"}}]}'],
  ])('is empty for a body that is not an envelope of such events (%s)', (_n, body) => {
    const { decoded } = sources([c('a_total', {})]);
    expect(eventsOfOp(body, decoded, decoded.apply.ops[0]!, (b) => decode(b))).toEqual([]);
  });
});
