import { type Problem, ValidationError } from '../model/errors';

/** A profile that failed to load or compile; lists every problem with its path inside the profile. */
export class ProfileError extends ValidationError {
  readonly source: string;
  constructor(source: string, problems: readonly Problem[]) {
    super(problems);
    this.source = source;
    this.message = `${source}: ${this.message}`;
  }
}
