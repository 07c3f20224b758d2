/**
 * Lone UTF-16 surrogates and oversize names on the SQS path: one decision (refuse, reason `invalid` or
 * `invalid_name`) on every place a string becomes part of a series identity, and errors that echo
 * input stay small.
 */
import { DecodeError } from '../../../shared/ingest/errors';
import { RejectReason } from '../../../shared/model/errors';
import { MAX_NAME_LENGTH } from '../../../shared/model/names';
import { decode, T0 } from './helpers';

const LONE = ['A\ud800B', 'A\udbffB', '\udc00', 'x\ud800'];

describe('lone surrogates are refused on the SQS path', () => {
  it.each(LONE)('group value %j makes the message undecodable', (v) => {
    expect(() => decode([], { group: { job: 'aria', instance: v } })).toThrow(DecodeError);
    expect(() => decode([], { group: { job: 'aria', instance: v } })).toThrow(/lone UTF-16 surrogate/);
  });

  it.each(LONE)('generic counter label value %j is rejected with reason invalid', (v) => {
    const r = decode([{ kind: 'counter', time: T0, name: 'c_total', labels: { a: v } }]);
    expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([[0, RejectReason.invalid]]);
    expect(r.rejected[0]!.message).toMatch(/events\[0\]\.labels\.a: must be valid Unicode/);
  });

  it.each(LONE)('domain string field %j is rejected (fast path and full validator agree)', (v) => {
    for (const fastPath of [true, false]) {
      const r = decode([{ kind: 'error', time: T0, error_type: v, symbol: 'EURUSD' }], { fastPath });
      expect(r.rejected.map((x) => x.reason)).toEqual([RejectReason.invalid]);
    }
  });

  it.each(LONE)('a push event whose body carries %j is rejected', (v) => {
    const body = `m{a="${v}"} 1\n`;
    const r = decode([{ kind: 'push', time: T0, method: 'PUT', body }]);
    expect(r.pushes).toEqual([]);
    expect(r.rejected.map((x) => x.reason)).toEqual([RejectReason.invalid]);
  });

  it('well-formed pairs (emoji) are accepted', () => {
    const r = decode([{ kind: 'counter', time: T0, name: 'c_total', labels: { a: 'ok 😀' } }]);
    expect(r.rejected).toEqual([]);
  });
});

describe('names are capped and echoes bounded', () => {
  it('a 2 MB label name is rejected as invalid_name with a short message', () => {
    const name = `l${'x'.repeat(2_000_000)}`;
    const r = decode([{ kind: 'counter', time: T0, name: 'c_total', labels: { [name]: '1' } }], {
      maxMessageBytes: 4_000_000,
    });
    expect(r.rejected.map((x) => x.reason)).toEqual([RejectReason.invalidName]);
    expect(r.rejected[0]!.message).toMatch(`must be at most ${MAX_NAME_LENGTH} characters`);
    expect(r.rejected[0]!.message.length).toBeLessThan(1024);
  });

  it('a 2 MB group label name is refused with a short message', () => {
    const name = `l${'x'.repeat(2_000_000)}`;
    let err: unknown;
    try {
      decode([], { group: { job: 'aria', [name]: 'v' }, maxMessageBytes: 4_000_000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as Error).message.length).toBeLessThan(1024);
    expect((err as Error).message).toMatch(/must be at most 256 characters/);
  });

  it('hundreds of problems are summarized, not all echoed', () => {
    const labels: Record<string, string> = {};
    for (let i = 0; i < 300; i++) labels[`__bad${i}`] = 'v';
    const r = decode([{ kind: 'counter', time: T0, name: 'c_total', labels }]);
    expect(r.rejected[0]!.message).toMatch(/and \d+ more problems/);
    expect(r.rejected[0]!.message.length).toBeLessThan(4096);
  });
});
