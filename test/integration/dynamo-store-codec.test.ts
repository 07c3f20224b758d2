/** Number and key encoding of the DynamoDB store (pure; no DynamoDB needed). */
import {
  deltaString,
  digest,
  famToken,
  ledgerKey,
  readNumber,
  seriesSk,
  valueAttr,
} from '../../shared/store/dynamodb/codec';
import { backoffMs, isTransient } from '../../shared/store/dynamodb/retry';

describe('DynamoDB codec', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-5, '-5'],
    [0.1, '0.1'],
    [0.1 + 0.2, '0.3'],
    [1e-13, '0'],
    [123456 + 1e-13, '123456'],
    [1e19, '10000000000000000000'],
    [-2.5e-7, '-0.00000025'],
  ])('additive delta %p is sent as %p', (v, out) => {
    expect(deltaString(v)).toBe(out);
  });

  it.each([
    [1.5, { N: '1.5' }],
    [1e21, { N: '1e+21' }],
    [Number.NaN, { S: 'NaN' }],
    [Number.POSITIVE_INFINITY, { S: '+Inf' }],
    [Number.NEGATIVE_INFINITY, { S: '-Inf' }],
    [1e300, { S: '1e+300' }],
    [5e-324, { S: '5e-324' }],
    [Number.MAX_SAFE_INTEGER, { N: '9007199254740991' }],
  ])('replaced value %p round-trips through %p', (v, attr) => {
    expect(valueAttr(v)).toEqual(attr);
    const back = readNumber(valueAttr(v));
    if (Number.isNaN(v)) expect(back).toBeNaN();
    else expect(back).toBe(v);
  });

  it.each([
    ['short', 'aria_x', 'aria_x'],
    [
      'long names are hashed to stay under the sort-key limit',
      'a'.repeat(5000),
      `~${digest('a'.repeat(5000))}`,
    ],
  ])('family token: %s', (_t, name, token) => {
    expect(famToken(name)).toBe(token);
  });

  it('series keys do not depend on label order and stay short for huge label values', () => {
    const a = seriesSk('m', { a: '1', b: 'x'.repeat(100_000) });
    const b = seriesSk('m', { b: 'x'.repeat(100_000), a: '1' });
    expect(a).toBe(b);
    expect(a.length).toBeLessThan(64);
    expect(seriesSk('m', { a: '1\n"' })).not.toBe(seriesSk('m', { a: '1' }));
  });

  it.each([
    ['msg-1', 'i#msg-1'],
    ['x'.repeat(2000), `h#${digest('x'.repeat(2000))}`],
    ['__proto__', 'i#__proto__'],
  ])('ledger key for %#', (id, key) => {
    expect(ledgerKey(id)).toBe(key);
  });
});

describe('DynamoDB retry classification', () => {
  const err = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(name), { name, ...extra });
  it.each([
    ['ThrottlingException', err('ThrottlingException'), true],
    ['ProvisionedThroughputExceededException', err('ProvisionedThroughputExceededException'), true],
    ['RequestLimitExceeded', err('RequestLimitExceeded'), true],
    ['TransactionConflictException', err('TransactionConflictException'), true],
    [
      'cancelled: conflict',
      err('TransactionCanceledException', { CancellationReasons: [{ Code: 'TransactionConflict' }] }),
      true,
    ],
    [
      'cancelled: condition',
      err('TransactionCanceledException', { CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] }),
      false,
    ],
    [
      'cancelled: condition and conflict',
      err('TransactionCanceledException', {
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'TransactionConflict' }],
      }),
      false,
    ],
    ['ValidationException', err('ValidationException'), false],
    ['HTTP 500', err('InternalFailure', { $metadata: { httpStatusCode: 500 } }), true],
    ['ECONNREFUSED', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), true],
    ['not an error', 'boom', false],
    ['null', null, false],
  ])('%s → transient %p', (_t, e, transient) => {
    expect(isTransient(e)).toBe(transient);
  });

  it('backoff is jittered below an exponential, capped ceiling', () => {
    const policy = { attempts: 8, baseMs: 10, capMs: 100 };
    expect(backoffMs(1, policy, () => 0.999)).toBe(19);
    expect(backoffMs(3, policy, () => 0.5)).toBe(40);
    expect(backoffMs(10, policy, () => 0.999)).toBe(99);
    expect(backoffMs(10, policy, () => 0)).toBe(0);
  });
});
