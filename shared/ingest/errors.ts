import { AccrueError, boundedProblems, type Problem, RejectReason } from '../model/errors';

/**
 * A message that can't be decoded at all (not JSON, wrong `v`, bad `id` or `group`, `events` not an
 * array, unknown envelope field, over the size bound). Permanent: the pipeline sends it to the DLQ with
 * this message as the reason. Carries every problem found.
 */
export class DecodeError extends AccrueError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    const { shown, text } = boundedProblems(problems);
    super(RejectReason.decode, `undecodable message: ${text}`);
    this.problems = shown;
  }
}

/** The message of anything thrown. */
export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Why one event is refused: its reason and every problem found (the event is rejected alone). */
export interface Failure {
  readonly reason: RejectReason;
  readonly problems: Problem[];
}

export const fail = (reason: RejectReason, path: string, message: string): Failure => ({
  reason,
  problems: [{ path, message }],
});

/** `f` with one more problem (a new failure with `reason` when there is none yet). */
export function addProblem(
  f: Failure | undefined,
  reason: RejectReason,
  path: string,
  message: string,
): Failure {
  if (f === undefined) return fail(reason, path, message);
  f.problems.push({ path, message });
  return f;
}
