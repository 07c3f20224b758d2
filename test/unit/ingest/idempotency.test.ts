import { scopeToProducer } from '../../../shared/ingest/idempotency';
import { decode, T0 } from './helpers';

describe('scopeToProducer', () => {
  const decoded = decode([
    { kind: 'push', time: T0, method: 'PUT', body: '# TYPE g gauge\ng 1\n' },
    { kind: 'push', time: T0, method: 'DELETE' },
  ]);

  it('scopes the message key and the keys of its push events to the sender', () => {
    const scoped = scopeToProducer(decoded, 'AIDA/one#1');
    expect(scoped.id).toBe(`AIDA%2Fone%231/${decoded.id}`);
    expect(scoped.apply.id).toBe(scoped.id);
    expect(scoped.pushes.map((p) => p.id)).toEqual([`${scoped.id}#push-0`, `${scoped.id}#push-1`]);
  });

  it('two senders never share a push key', () => {
    const a = scopeToProducer(decoded, 'A').pushes.map((p) => p.id);
    const b = scopeToProducer(decoded, 'B').pushes.map((p) => p.id);
    expect(a.some((id) => b.includes(id))).toBe(false);
  });

  it('leaves the keys alone without a sender', () => {
    expect(scopeToProducer(decoded, undefined)).toBe(decoded);
  });
});
