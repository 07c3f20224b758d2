/**
 * The one AWS retry toolkit (shared/aws/retry.ts) and its callers: the DynamoDB store's classifier, the
 * publisher's, and the two SendMessageBatch chunkers (publisher, dead-letter sink) now agree.
 */
import {
  chunkSqsBatches,
  fullJitterBackoffMs,
  isTransientAwsError,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_BYTES,
} from '../../../shared/aws/retry';
import { isTransientError } from '../../../shared/client/packing';
import { isTransient } from '../../../shared/store/dynamodb/retry';

const aws = (name: string, status?: number) =>
  Object.assign(new Error(name), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
  });

describe('full-jitter backoff', () => {
  it.each([
    [0, 0.999, 99],
    [3, 0.5, 400],
    [20, 0.999, 19_980],
    [1000, 0.5, 10_000],
    [5, 0, 0],
  ])('attempt %d, random %d → %d ms (base 100, cap 20000)', (attempt, r, ms) => {
    expect(fullJitterBackoffMs(attempt, 100, 20_000, () => r)).toBe(ms);
  });

  it('stays below the ceiling with the real random source', () => {
    for (let a = 0; a < 50; a++) {
      const ms = fullJitterBackoffMs(a, 20, 1000);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(Math.min(1000, 20 * 2 ** a));
    }
  });
});

describe('transient errors: the store and the publisher classify alike', () => {
  it.each<[string, unknown, boolean]>([
    // Drifted copies (issue 12): the store did not retry these, the publisher did.
    ['TooManyRequestsException', aws('TooManyRequestsException', 400), true],
    ['HTTP 429', aws('X', 429), true],
    ['Throttling', aws('Throttling', 400), true],
    // ... and the publisher did not know these DynamoDB names.
    ['ProvisionedThroughputExceededException', aws('ProvisionedThroughputExceededException', 400), true],
    ['TransactionConflictException', aws('TransactionConflictException', 400), true],
    ['HTTP 503', aws('X', 503), true],
    ['$retryable', Object.assign(aws('X', 400), { $retryable: {} }), true],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['AccessDeniedException', aws('AccessDeniedException', 403), false],
    ['ResourceNotFoundException', aws('ResourceNotFoundException', 400), false],
    ['ValidationException', aws('ValidationException', 400), false],
    ['not an object', 'boom', false],
    ['null', null, false],
    ['__proto__ name', JSON.parse('{"name":"__proto__","$metadata":{"httpStatusCode":400}}'), false],
  ])('%s → transient %s', (_n, err, transient) => {
    expect({
      store: isTransient(err),
      publisher: isTransientError(err),
      shared: isTransientAwsError(err),
    }).toEqual({ store: transient, publisher: transient, shared: transient });
  });

  it('an error without any answer: the publisher retries it, the store does not', () => {
    const e = new Error('no status');
    expect(isTransientError(e)).toBe(true);
    expect(isTransient(e)).toBe(false);
  });
});

describe('SendMessageBatch chunking', () => {
  const items = (sizes: number[]) => sizes.map((bytes, i) => ({ i, bytes }));

  it.each<[number[], number[][]]>([
    [[], []],
    [[1, 1, 1], [[0, 1, 2]]],
    [Array(11).fill(1), [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10]]],
    [
      [SQS_MAX_BYTES - 1, 1, 1],
      [[0, 1], [2]],
    ],
    [
      [SQS_MAX_BYTES + 5, 1],
      [[0], [1]],
    ],
  ])('%j bytes → %j', (sizes, expected) => {
    const out = chunkSqsBatches(items(sizes));
    expect(out.map((b) => b.map((x) => x.i))).toEqual(expected);
    for (const b of out) {
      expect(b.length).toBeLessThanOrEqual(SQS_MAX_BATCH_ENTRIES);
      if (b.length > 1) expect(b.reduce((n, x) => n + x.bytes, 0)).toBeLessThanOrEqual(SQS_MAX_BYTES);
    }
  });
});
