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
