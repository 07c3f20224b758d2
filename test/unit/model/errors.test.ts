/**
 * Typed errors: a refusal of input carries no stack trace (it is an answer, and capturing one was most of
 * the cost of refusing a hostile request); internal and transient errors keep theirs. The global
 * Error.stackTraceLimit is left as it was.
 */
import {
  AccrueError,
  ParseError,
  RejectReason,
  TransientError,
  ValidationError,
} from '../../../shared/model/errors';

const frames = (e: Error) => (e.stack ?? '').split('\n').filter((l) => l.trim().startsWith('at ')).length;

describe('AccrueError stack traces', () => {
  it.each<[string, () => Error]>([
    ['ValidationError', () => new ValidationError([{ path: 'path.job', message: 'is required' }])],
    ['a permanent refusal', () => new AccrueError(RejectReason.familyConflict, 'family m is a gauge')],
    ['ParseError', () => new ParseError(1, 'unexpected end')],
  ])('%s has no stack frames but keeps name, reason and message', (_n, make) => {
    const limit = Error.stackTraceLimit;
    const e = make();
    expect(frames(e)).toBe(0);
    expect(e.stack).toContain(e.message);
    expect(e).toBeInstanceOf(AccrueError);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it.each<[string, () => Error]>([
    ['internal', () => new AccrueError('internal', 'a bug')],
    ['transient', () => new TransientError('throttled')],
    ['a retryable refusal', () => new AccrueError(RejectReason.overloaded, 'busy', false)],
    [
      'a plain Error after a refusal',
      () => {
        new ValidationError([]);
        return new Error('x');
      },
    ],
  ])('%s keeps its stack', (_n, make) => {
    expect(frames(make())).toBeGreaterThan(0);
  });
});

describe('AccrueError permanence', () => {
  it('a transient error is never permanent, whatever the caller passes', () => {
    expect(new AccrueError('transient', 'x').permanent).toBe(false);
    expect(new AccrueError('transient', 'x', true).permanent).toBe(false);
    expect(new TransientError('x').permanent).toBe(false);
  });

  it('refusals are permanent unless said otherwise', () => {
    expect(new AccrueError(RejectReason.invalid, 'x').permanent).toBe(true);
    expect(new AccrueError('internal', 'x', false).permanent).toBe(false);
  });
});
