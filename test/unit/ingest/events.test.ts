import { RejectReason } from '../../../shared/model/errors';
import { validPush } from '../../support/edge';
import { ACCEPTED_EVENTS, INVALID_EVENTS } from './corpus';
import { decode, execution, type Json, rawEvent, rejectionOf, T0 } from './helpers';

describe('one event: validation', () => {
  it.each(INVALID_EVENTS)('%s → rejected', (_name, event, reason, message) => {
    const r = decode([event]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]!.index).toBe(0);
    expect(r.rejected[0]!.reason).toBe(reason);
    expect(r.rejected[0]!.message).toContain(message);
    expect(r.apply.ops).toEqual([]);
    expect(r.pushes).toEqual([]);
    expect(r.acceptedCount).toBe(0);
  });

  it.each(ACCEPTED_EVENTS)('%s → accepted', (_name, event) => {
    const r = decode([event]);
    expect(r.rejected).toEqual([]);
    expect(r.acceptedCount).toBe(1);
    expect(r.apply.ops.length).toBeGreaterThan(0);
  });

  it('reports every problem of an event, not just the first', () => {
    const rej = rejectionOf(
      execution({ action: 'HOLD', latency_seconds: -1, regime: undefined, extra: true }),
    );
    expect(rej?.problems.map((p) => p.path).sort()).toEqual([
      'events[0].action',
      'events[0].extra',
      'events[0].latency_seconds',
      'events[0].regime',
    ]);
    expect(rej?.message).toContain('events[0].latency_seconds: must be >= 0');
    expect(rej?.message).toContain('events[0].action: must be one of "BUY", "SELL"');
  });

  it.each([
    [
      '__proto__ key in an event',
      rawEvent(
        `{"kind":"execution","time":${T0},"symbol":"EURUSD","action":"BUY","status":"success","regime":"T","latency_seconds":0.1,"slippage_pips":1,"__proto__":{"polluted":1}}`,
      ),
      'events[0].__proto__: unknown field',
    ],
    [
      '__proto__ label',
      rawEvent(`{"kind":"counter","time":${T0},"name":"x_total","labels":{"__proto__":"x"}}`),
      'events[0].labels.__proto__: label name must not start with "__"',
    ],
    [
      'Infinity via 1e400',
      rawEvent(`{"kind":"gauge","time":${T0},"op":"set","name":"g","value":1e400}`),
      'events[0].value: must be <= 9007199254740992',
    ],
    [
      '-Infinity latency via -1e400',
      rawEvent(
        `{"kind":"execution","time":${T0},"symbol":"E","action":"BUY","status":"success","regime":"T","latency_seconds":-1e400,"slippage_pips":1}`,
      ),
      'events[0].latency_seconds: must be >= 0',
    ],
    [
      'time 1e400',
      rawEvent(`{"kind":"connection","time":1e400,"connected":true}`),
      'events[0].time: must be an integer',
    ],
  ])('hostile JSON: %s → rejected, nothing polluted', (_name, body, message) => {
    const r = decode(body);
    expect(r.rejected[0]?.message).toContain(message);
    expect(({} as Json).polluted).toBeUndefined();
    expect(r.apply.ops).toEqual([]);
  });

  it('rejects a label collision between a profile kind and the group for that kind only', () => {
    const r = decode([execution(), { kind: 'connection', time: T0, connected: true }], {
      group: { job: 'aria', symbol: 'X' },
    });
    expect(r.rejected.map((x) => x.index)).toEqual([0]);
    expect(r.rejected[0]!.message).toContain(
      'label "symbol" of event kind "execution" is also a label of the envelope\'s group',
    );
    expect(r.apply.ops.map((o) => o.name)).toEqual(['aria_mt5_connection_status']);
  });

  it('applies a smaller label value limit from the options', () => {
    const r = decode([execution({ symbol: 'EURUSD' }), execution({ symbol: 'EUR' })], {
      limits: { maxLabelValueLength: 4 },
      group: { job: 'a' },
    });
    expect(r.rejected.map((x) => x.index)).toEqual([0]);
    expect(r.rejected[0]?.reason).toBe(RejectReason.limit);
    expect(r.rejected[0]?.message).toContain(
      'events[0].symbol: must be at most 4 characters (maxLabelValueLength)',
    );
  });
});

describe('a message with good and bad events', () => {
  it('rejects each invalid event alone, with its index, and applies the rest', () => {
    const events = [
      execution({ latency_seconds: 0.01 }),
      execution({ latency_seconds: -5 }),
      { kind: 'unknown', time: T0 },
      { kind: 'error', time: T0, error_type: 'timeout', symbol: 'EURUSD' },
      execution({ regime: 'X' }),
      { kind: 'kill_switch', time: T0, active: true },
    ];
    const r = decode(events);
    expect(r.eventCount).toBe(6);
    expect(r.acceptedCount).toBe(3);
    expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([
      [1, 'invalid'],
      [2, 'unknown_event'],
      [4, 'invalid'],
    ]);
    expect(r.rejected[0]!.message).toBe('events[1].latency_seconds: must be >= 0');
    const names = r.apply.ops.map((o) => o.name);
    expect(names).toEqual([
      'aria_execution_latency_seconds',
      'aria_slippage_pips',
      'aria_trade_volume_total',
      'aria_errors_total',
      'aria_kill_switch_active',
    ]);
    const latency = r.apply.ops[0]!;
    expect(latency.kind === 'histogram_observe' && latency.count).toBe(1);
  });

  it('takes the first definition of a generic family in the message and rejects conflicting ones', () => {
    const r = decode([
      { kind: 'counter', time: T0, name: 'jobs_total', labels: { queue: 'a' } },
      { kind: 'gauge', time: T0, op: 'set', name: 'jobs_total', value: 1 },
      { kind: 'counter', time: T0, name: 'jobs_total', labels: { other: 'a' } },
      { kind: 'histogram', time: T0, name: 'h', value: 1, buckets: [1, 2] },
      { kind: 'histogram', time: T0, name: 'h', value: 1, buckets: [1, 3] },
      { kind: 'counter', time: T0, name: 'jobs_total', labels: { queue: 'b' }, value: 2 },
    ]);
    expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([
      [1, 'family_conflict'],
      [2, 'family_conflict'],
      [4, 'family_conflict'],
    ]);
    expect(r.rejected[0]!.message).toContain(
      'family jobs_total is a counter earlier in this message, not a gauge',
    );
    expect(r.apply.ops).toHaveLength(3);
  });
});

describe('pushes', () => {
  it('prepares pushes in event order against the envelope group, with the event time as push time', () => {
    const r = decode([
      { kind: 'push', time: T0 + 1, method: 'PUT', body: '# TYPE a counter\na 1\n' },
      execution(),
      { kind: 'push', time: T0 + 2, method: 'DELETE' },
    ]);
    expect(r.rejected).toEqual([]);
    expect(r.pushes.map((p) => [p.method, p.pushTimeMs, p.id])).toEqual([
      ['PUT', T0 + 1, 'sqs-message-id#push-0'],
      ['DELETE', T0 + 2, 'sqs-message-id#push-2'],
    ]);
    expect({ ...r.pushes[0]!.group }).toEqual({ job: 'aria', instance: 'eu-1' });
    expect(r.apply.ops.length).toBe(3);
  });

  it('rejects a push whose body the push validator refuses, with its reason', () => {
    const r = decode([{ kind: 'push', time: T0, method: 'PUT', body: 'a 1 1234\n' }]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]!.reason).toBe('timestamp');
    expect(r.rejected[0]!.message).toContain('events[0].body');
  });

  it('uses an injected push validator and lets its internal failures fail the message', () => {
    const calls: unknown[][] = [];
    const r = decode([{ kind: 'push', time: T0, method: 'POST', body: 'x 1\n' }], {
      preparePush: (method, group, body, time, id) => {
        calls.push([method, { ...group }, body, time, id]);
        return validPush({ method, group: { job: 'aria' }, families: [], pushTimeMs: time, id });
      },
    });
    expect(calls).toEqual([
      ['POST', { job: 'aria', instance: 'eu-1' }, 'x 1\n', T0, 'sqs-message-id#push-0'],
    ]);
    expect(r.pushes).toHaveLength(1);
    expect(() =>
      decode([{ kind: 'push', time: T0, method: 'PUT', body: '' }], {
        preparePush: () => {
          throw new Error('bug');
        },
      }),
    ).toThrow('bug');
  });
});
