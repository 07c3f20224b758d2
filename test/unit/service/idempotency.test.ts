import { IdempotencyKeyError, idempotencyKeyOf, ledgerId } from '../../../service/idempotency';
import { ValidationError } from '../../../shared/model/errors';

describe('Idempotency-Key header', () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['abc', 'abc'],
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['a:b/c@d+e=f.g_h-1', 'a:b/c@d+e=f.g_h-1'],
    ['x'.repeat(128), 'x'.repeat(128)],
  ])('%j is the key %j', (h, key) => {
    expect(idempotencyKeyOf(h)).toBe(key);
  });

  it.each<[string | string[], RegExp]>([
    ['', /Idempotency-Key header: must be 1 to 128 characters \(got 0\)/],
    ['""', /must be 1 to 128 characters/],
    ['x'.repeat(129), /must be 1 to 128 characters \(got 129\)/],
    ['a b', /must match \[A-Za-z0-9_.:\/@\+=-\]\+/],
    ['a#1', /no spaces, quotes or '#'/],
    ['__proto__\n', /must match/],
    ['k\u00e9', /must match/],
    ['"a"b"', /must match/],
    [['a', 'b'], /must be sent once/],
  ])('refuses %j with a 400 naming the rule', (h, rule) => {
    let err: unknown;
    try {
      idempotencyKeyOf(h);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IdempotencyKeyError);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(rule);
  });

  it('scopes keys per caller: no caller can name another caller key or an SQS key', () => {
    expect(ledgerId('alice', 'k')).toBe('http alice/k');
    expect(ledgerId('a/b', 'k')).not.toBe(ledgerId('a', 'b/k'));
    expect(ledgerId('a b', 'k')).toBe('http a%20b/k');
    expect(ledgerId('anonymous', 'k')).not.toBe(ledgerId('alice', 'k'));
  });
});
