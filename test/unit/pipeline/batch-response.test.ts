import { FullBatchFailureError, toBatchResponse } from '../../../shared/ingest/batch-response';
import type { BatchResult } from '../../../shared/ingest/pipeline';

function result(failed: string[]): BatchResult {
  return {
    batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })),
    stats: {
      messages: 0,
      outcomes: { applied: 0, duplicate: 0, failed: failed.length, dead_lettered: 0 },
      eventsAccepted: 0,
      rejected: {},
      deadLetters: 0,
      applyDurationMs: 0,
    },
  };
}

describe('toBatchResponse', () => {
  it.each([
    ['no record failed', 3, []],
    ['some records failed', 3, ['a', 'b']],
    ['an empty batch', 0, []],
  ])('returns the partial response when %s', (_name, count, failed) => {
    expect(toBatchResponse(result(failed), count)).toEqual({
      batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })),
    });
  });

  it('throws FullBatchFailureError naming the count when every record failed', () => {
    expect(() => toBatchResponse(result(['a', 'b']), 2)).toThrow(FullBatchFailureError);
    expect(() => toBatchResponse(result(['a', 'b']), 2)).toThrow(/all 2 record\(s\)/);
  });
});
