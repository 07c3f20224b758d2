/**
 * Typed errors. Every rejection in Accrue is an `AccrueError` with a stable `reason` (used as the label of
 * the rejection counters, e.g. `accrue_events_rejected_total{reason="family_conflict"}`), a message that
 * names the field and the rule, and `permanent` (false only for errors worth retrying: throttling,
 * unavailable stores). HTTP status codes are mapped from `reason` in one place (service/errors.ts).
 */
export const RejectReason = {
  /** The body, message or envelope could not be decoded at all (not JSON, not text format, bad gzip). */
  decode: 'decode',
  /** A field broke a schema rule (wrong type, out of range, unknown field, too long). */
  invalid: 'invalid',
  /** Invalid metric or label name. */
  invalidName: 'invalid_name',
  /** A sample carried a timestamp where the gateway refuses them (pushes). */
  timestamp: 'timestamp',
  /** The same series appears twice in one push. */
  duplicateSeries: 'duplicate_series',
  /** Family type / label names / buckets disagree with what the store already has. */
  familyConflict: 'family_conflict',
  /** A configured limit was hit (series per family/group/total, label count, label value length). */
  limit: 'limit',
  /** The request body exceeded the configured size. */
  tooLarge: 'too_large',
  /** An event of a kind the active profile doesn't know. */
  unknownEvent: 'unknown_event',
  /** A push or set older than what the store already holds (ordered by push/event time). */
  stale: 'stale',
  /** Authentication or authorization failed. */
  unauthorized: 'unauthorized',
  /** A write from a web page of another origin (`Sec-Fetch-Site`, `Origin`): browsers must not push. */
  crossSite: 'cross_site',
  /** The producer may not write this group (docs/security.md, producer trust model). */
  forbidden: 'forbidden',
  /** Too many push bodies in memory at once; retry later (HTTP 503 with Retry-After). */
  overloaded: 'overloaded',
  /** A redelivered message (same idempotency key) whose content differs from what was committed for it. */
  redeliveryMismatch: 'redelivery_mismatch',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export class AccrueError extends Error {
  readonly reason: RejectReason | 'transient' | 'internal';
  readonly permanent: boolean;
  /** `permanent` is ignored for `transient`: a transient error is never permanent (callers test only `permanent`). */
  constructor(reason: RejectReason | 'transient' | 'internal', message: string, permanent = true) {
    const isPermanent = permanent && reason !== 'transient';
    // A refusal of input is an answer, not a bug: no stack trace (capturing one is most of the cost of
    // refusing a hostile request, measured by `npm run hostile`). Internal and transient errors keep theirs.
    const limit = Error.stackTraceLimit;
    if (isPermanent && reason !== 'internal') Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = new.target.name;
    this.reason = reason;
    this.permanent = isPermanent;
  }
}

/** One problem found while validating input; `path` is like `events[17].latency_seconds`. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** Input failed validation; carries every problem found, not just the first. */
export class ValidationError extends AccrueError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[], reason: RejectReason = RejectReason.invalid) {
    // Paths and messages echo input (names, values): bounded here, so no error, HTTP answer, log line or
    // DLQ detail repeats a hostile 2 MB name.
    const { shown, text } = boundedProblems(problems);
    super(reason, text);
    this.problems = shown;
  }
}

/** Bounds of what a ValidationError echoes (its message stays under about 4 KiB). */
const MAX_PROBLEMS_SHOWN = 8;
const MAX_PATH_CHARS = 160;
const MAX_MESSAGE_CHARS = 320;

/**
 * The problems as echoed: at most MAX_PROBLEMS_SHOWN, each path and message clipped, and their one-line
 * text (`path: message; …`). Every error that lists problems goes through this.
 */
export function boundedProblems(problems: readonly Problem[]): { shown: Problem[]; text: string } {
  const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => ({
    path: clipText(p.path, MAX_PATH_CHARS),
    message: clipText(p.message, MAX_MESSAGE_CHARS),
  }));
  const more = problems.length - shown.length;
  const text = shown.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
  return { shown, text: more > 0 ? `${text}; …and ${more} more problems` : text };
}

function clipText(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…(${s.length - max} more characters)`;
}

/** Exposition text that does not parse. `line` is 1-based. */
export class ParseError extends AccrueError {
  readonly line: number;
  /**
   * True when the text is malformed (what the Go parser refuses too: the Pushgateway then records no
   * failure on the group); false when it is well-formed and breaks a rule (a reserved `__` label name, a
   * repeated series), which is refused like the same rule in a protobuf body.
   */
  readonly syntax: boolean;
  /** `reason` is `decode` for syntax; a bad name is `invalid_name`, a repeated series `duplicate_series`. */
  constructor(
    line: number,
    msg: string,
    reason: RejectReason = RejectReason.decode,
    syntax = reason === RejectReason.decode,
  ) {
    super(reason, `text format parsing error in line ${line}: ${msg}`);
    this.line = line;
    this.syntax = syntax;
  }
}

/** A family's type, label names or bucket layout disagree with its first definition. */
export class FamilyConflictError extends AccrueError {
  readonly family: string;
  constructor(family: string, detail: string) {
    super(RejectReason.familyConflict, `family ${family}: ${detail}`);
    this.family = family;
  }
}

/** A configured limit was reached. */
export class LimitError extends AccrueError {
  readonly limit: string;
  constructor(limit: string, message: string) {
    super(RejectReason.limit, message);
    this.limit = limit;
  }
}

/** Worth retrying (throttling, conflicts that outlived retries, an unreachable store). */
export class TransientError extends AccrueError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('transient', message, false);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
