import { type Problem, RejectReason, ValidationError } from '../errors';

/**
 * A native histogram broke a rule of the spec (or one of Accrue's bounds). Every problem names the field
 * (`positive_spans[2].offset`, prefixed with where the histogram came from) and the rule it broke.
 * Reason `invalid` (HTTP 400, counted like every other invalid input).
 */
export class NativeHistogramError extends ValidationError {
  constructor(problems: readonly Problem[]) {
    super(problems, RejectReason.invalid);
  }
}
