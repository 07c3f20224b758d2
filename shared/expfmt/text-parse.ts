/**
 * Text exposition format 0.0.4 → MetricFamily[].
 *
 * A hand-written, line-oriented state machine (one pass, `charCodeAt` scanning, no regular expression per
 * line) in the manner of prometheus/common `expfmt/text_parse.go`, stricter where a gateway must be:
 *
 * - LF line endings only: a CR anywhere is an error naming its line. NUL is refused anywhere (identity keys
 *   use NUL as their separator).
 * - `# HELP` and `# TYPE` at most once per family; TYPE before the family's first sample; all lines of a
 *   family in one contiguous block (a family seen again after another family is an error). Other `#` lines
 *   are comments. Types: counter, gauge, histogram, summary, untyped (case-insensitive, as Go's parser).
 * - Metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*` without the reserved
 *   `__` prefix (shared/model/names.ts). A label name may appear once per sample.
 * - Quoted names, as Prometheus 3 writes names outside the legacy set: `{"my.metric", "my.label"="x"} 1`
 *   (the metric name first inside the braces) and `# HELP "my.metric" …` / `# TYPE "my.metric" …`, with
 *   the label-value escapes. A quoted name that is a legacy name is always accepted; any other one only
 *   with `names: 'utf8'` (ACCRUE_UTF8_NAMES), else it is an invalid name.
 * - Label values escape `\\`, `\"`, `\n`; HELP escapes `\\`, `\n`; any other escape is an error. A label with
 *   an empty value is the same as no label in Prometheus, so it is dropped.
 * - Values are parsed like Go's ParseFloat (shared/expfmt/float.ts): `NaN`, `+Inf`, `-Inf` and friends;
 *   overflowing decimals are an error. Timestamps (an integer of milliseconds) are kept in `timestampMs`;
 *   refusing them is the push path's decision, not the parser's.
 * - Each series (name + label set) may appear once per body.
 * - Histograms: `x_bucket{le=…}`, `x_sum`, `x_count` samples are assembled per label set into a
 *   HistogramSeries. `le` must parse as a float; buckets are sorted by `le` and must be cumulative
 *   (non-decreasing); `+Inf` is taken as the count when `_count` is missing and must equal `_count` when
 *   both are present; `_sum` is required (a gateway must not invent one). Summaries likewise with
 *   `quantile`, `_sum` and `_count`.
 * - Samples without a TYPE become `untyped` families. Families without samples are dropped (as Go does).
 *
 * Errors are `ParseError(line, msg)`: `text format parsing error in line N: …`, 1-based.
 */

import { bucketProblemText, checkCumulativeBuckets, isBucketProblem } from '../model/buckets';
import { LimitError, ParseError, RejectReason } from '../model/errors';
import { reservedSuffixes, reservesSuffix, suffixOwners } from '../model/exposed-names';
import { labelsKey } from '../model/identity';
import { labelNameProblem, metricNameProblem, type NameValidation } from '../model/names';
import {
  type Bucket,
  type HistogramSeries,
  isMetricType,
  type Labels,
  type MetricFamily,
  type MetricType,
  type Quantile,
  type ScalarSeries,
  type SummarySeries,
} from '../model/types';
import { escapeLabelValue } from './escape';
import { canonicalBound, formatFloat, parseGoFloat, parseSimpleDecimalAt } from './float';

/** What a sample line contributes to its family. */
const Role = { Scalar: 0, Bucket: 1, Sum: 2, Count: 3, Quantile: 4 } as const;
type Role = (typeof Role)[keyof typeof Role];

interface ComplexBuilder {
  readonly labels: Labels;
  readonly line: number;
  /** Bucket `le` or summary `quantile` values, with their sample values and lines (parallel arrays). */
  readonly ats: number[];
  readonly values: number[];
  readonly lines: number[];
  sum: number | undefined;
  count: number | undefined;
  inf: number | undefined;
  timestampMs: number | undefined;
}

interface FamilyBuilder {
  readonly name: string;
  help: string;
  helpSeen: boolean;
  type: MetricType;
  typeSeen: boolean;
  readonly line: number;
  nSamples: number;
  readonly scalars: ScalarSeries[];
  readonly keys: Set<string>;
  readonly complex: Map<string, ComplexBuilder>;
  /** Label names of the family's first labelled sample, in their order (see slowKey). */
  refNames: string[] | undefined;
  /** The complex series the previous sample belonged to (consecutive lines usually share it). */
  lastKey: string | undefined;
  lastCb: ComplexBuilder | undefined;
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57);
}

function lineOf(body: string, index: number): number {
  let n = 1;
  let i = body.indexOf('\n');
  while (i !== -1 && i < index) {
    n++;
    i = body.indexOf('\n', i + 1);
  }
  return n;
}

function show(s: string): string {
  return JSON.stringify(s.length > 64 ? s.slice(0, 64) + '…' : s);
}

export interface TextParseOptions {
  /** Most series (distinct name + label set; a histogram series counts once) the body may hold; checked as each new series appears. */
  readonly maxSeries?: number;
  /** Which quoted names are accepted (see above). @default 'legacy' */
  readonly names?: NameValidation;
}

/** Parses a text format 0.0.4 body. Throws ParseError (or LimitError beyond `maxSeries`). */
export function parseText(body: string, opts: TextParseOptions = {}): MetricFamily[] {
  const p = new TextParser(body, opts.maxSeries, opts.names);
  p.begin();
  p.step(Number.POSITIVE_INFINITY);
  return p.finish();
}

/**
 * `parseText` in slices of about `sliceMs` of work, giving the event loop back between them, so that a
 * large body never holds up health checks and scrapes for longer than one slice.
 */
export async function parseTextYielding(
  body: string,
  opts: TextParseOptions & { readonly sliceMs?: number } = {},
): Promise<MetricFamily[]> {
  const p = new TextParser(body, opts.maxSeries, opts.names);
  const sliceMs = opts.sliceMs ?? 10;
  p.begin();
  while (!p.step(performance.now() + sliceMs)) await new Promise<void>((r) => setImmediate(r));
  return p.finish();
}

class TextParser {
  private readonly body: string;
  private line = 0;
  private readonly families = new Map<string, FamilyBuilder>();
  private readonly order: FamilyBuilder[] = [];
  private current: FamilyBuilder | undefined;
  /** Reusable per-sample label buffers. */
  private readonly names: string[] = [];
  private readonly vStart: number[] = [];
  private readonly vEnd: number[] = [];
  private readonly vEsc: boolean[] = [];

  private pos = 0;
  private series = 0;

  constructor(
    body: string,
    private readonly maxSeries = Number.POSITIVE_INFINITY,
    private readonly nameRules: NameValidation = 'legacy',
  ) {
    this.body = body;
  }

  /**
   * Reads the quoted string whose opening `"` is at i (escapes `\\`, `\"`, `\n`); `quoted.end` is the
   * index after the closing quote.
   */
  private readQuoted(i: number, eol: number, what: () => string): string {
    const b = this.body;
    let out = '';
    let j = i + 1;
    let from = j;
    for (;;) {
      if (j >= eol) this.fail(`unterminated quoted string in ${what()}`);
      const c = b.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) {
        const d = this.quotedEscape(j, eol, what);
        out += b.slice(from, j) + (d === 110 ? '\n' : d === 34 ? '"' : '\\');
        j += 2;
        from = j;
        continue;
      }
      j++;
    }
    this.quotedEnd = j + 1;
    return out + b.slice(from, j);
  }

  /**
   * The escape at j (a backslash) inside a quoted string: `\\`, `\"` or `\n`; returns the escaped char code.
   * `what` names the string for the error, built only when there is one.
   */
  private quotedEscape(j: number, eol: number, what: () => string): number {
    const d = j + 1 < eol ? this.body.charCodeAt(j + 1) : -1;
    if (d !== 92 && d !== 110 && d !== 34) {
      const e = d === -1 ? '\\ at end of line' : `'\\${String.fromCharCode(d)}'`;
      this.fail(`invalid escape sequence ${e} in ${what()}`);
    }
    return d;
  }

  /** End index of the last quoted string read (after its closing quote). */
  private quotedEnd = 0;

  /** A quoted metric name must be a valid name under the configured rules. */
  private checkQuotedMetricName(name: string): void {
    const p = metricNameProblem(name, this.nameRules);
    if (p) this.fail(`invalid metric name ${show(name)}: ${p}`, this.line, RejectReason.invalidName, true);
  }

  private fail(
    msg: string,
    line = this.line,
    reason: RejectReason = RejectReason.decode,
    syntax = reason === RejectReason.decode,
  ): never {
    throw new ParseError(line, msg, reason, syntax);
  }

  /** Counts a new series; throws once the body holds more than `maxSeries`. */
  private countSeries(): void {
    if (++this.series > this.maxSeries)
      throw new LimitError(
        'maxSeriesPerPush',
        `body: more than ${this.maxSeries} series (maxSeriesPerPush; refused at line ${this.line}, before reading the rest)`,
      );
  }

  /** Whole-body checks, before any line. */
  begin(): void {
    const body = this.body;
    if (typeof body !== 'string') throw new ParseError(1, 'body must be a string');
    const cr = body.indexOf('\r');
    if (cr !== -1) this.fail('carriage return (CR) found; line endings must be LF', lineOf(body, cr));
    const nul = body.indexOf('\u0000');
    if (nul !== -1) this.fail('NUL character found; NUL is not allowed anywhere', lineOf(body, nul));
  }

  /** Parses lines until the body ends (true) or `deadline` (performance.now() ms) has passed (false). */
  step(deadline: number): boolean {
    const body = this.body;
    const len = body.length;
    let pos = this.pos;
    let n = 0;
    while (pos < len) {
      if ((++n & 1023) === 0 && performance.now() >= deadline) {
        this.pos = pos;
        return false;
      }
      this.line++;
      let eol = body.indexOf('\n', pos);
      if (eol === -1) eol = len;
      this.parseLine(pos, eol);
      pos = eol + 1;
    }
    this.pos = pos;
    return true;
  }

  private skipBlank(i: number, eol: number): number {
    const b = this.body;
    while (i < eol) {
      const c = b.charCodeAt(i);
      if (c !== 32 && c !== 9) break;
      i++;
    }
    return i;
  }

  private parseLine(start: number, eol: number): void {
    const b = this.body;
    const i = this.skipBlank(start, eol);
    if (i === eol) return;
    if (b.charCodeAt(i) === 35 /* # */) this.parseComment(i + 1, eol);
    else this.parseSample(i, eol);
  }

  /** Reads a metric name at i; returns its end (i when there is none). */
  private metricNameEnd(i: number, eol: number): number {
    const b = this.body;
    if (i >= eol) return i;
    const c0 = b.charCodeAt(i);
    if (!isNameStart(c0) && c0 !== 58) return i;
    let j = i + 1;
    while (j < eol) {
      const c = b.charCodeAt(j);
      if (!isNameChar(c) && c !== 58) break;
      j++;
    }
    return j;
  }

  private parseComment(i: number, eol: number): void {
    const b = this.body;
    i = this.skipBlank(i, eol);
    let j = i;
    while (j < eol) {
      const c = b.charCodeAt(j);
      if (c === 32 || c === 9) break;
      j++;
    }
    const kw = b.slice(i, j);
    if (kw !== 'HELP' && kw !== 'TYPE') return; // plain comment
    i = this.skipBlank(j, eol);
    if (i === eol) return; // "# HELP" alone: a comment, as in Go
    let ne: number;
    let name: string;
    if (b.charCodeAt(i) === 34) {
      name = this.readQuoted(i, eol, () => `metric name of ${kw} line`);
      ne = this.quotedEnd;
      if (ne < eol && b.charCodeAt(ne) !== 32 && b.charCodeAt(ne) !== 9)
        this.fail(`expected a blank after the quoted metric name in ${kw} line`);
      this.checkQuotedMetricName(name);
    } else {
      ne = this.metricNameEnd(i, eol);
      name = this.declaredName(i, ne, eol, kw);
    }
    const fam = this.familyForDeclaration(name, kw);
    this.parseDeclarationRest(fam, name, kw, this.skipBlank(ne, eol), eol);
  }

  /** The unquoted metric name of a HELP/TYPE line ([i, ne)), or a failure naming it. */
  private declaredName(i: number, ne: number, eol: number, kw: string): string {
    const b = this.body;
    if (ne === i || (ne < eol && b.charCodeAt(ne) !== 32 && b.charCodeAt(ne) !== 9)) {
      let k = i;
      while (k < eol && b.charCodeAt(k) !== 32 && b.charCodeAt(k) !== 9) k++;
      this.fail(
        `invalid metric name ${show(b.slice(i, k))} in ${kw} line (must match [a-zA-Z_:][a-zA-Z0-9_:]*)`,
        this.line,
        RejectReason.invalidName,
        true,
      );
    }
    return b.slice(i, ne);
  }

  private parseDeclarationRest(fam: FamilyBuilder, name: string, kw: string, i: number, eol: number): void {
    const b = this.body;
    if (kw === 'HELP') {
      if (fam.helpSeen) this.fail(`second HELP line for metric name ${show(name)}`);
      fam.helpSeen = true;
      fam.help = this.readHelp(i, eol, name);
      return;
    }
    if (fam.typeSeen) this.fail(`second TYPE line for metric name ${show(name)}`);
    if (fam.nSamples > 0) this.fail(`TYPE line for metric name ${show(name)} after its samples`);
    let k = i;
    while (k < eol && b.charCodeAt(k) !== 32 && b.charCodeAt(k) !== 9) k++;
    const tok = b.slice(i, k);
    if (tok === '') this.fail(`missing type in TYPE line for metric name ${show(name)}`);
    const lower = tok.toLowerCase();
    const t = isMetricType(lower) ? lower : undefined;
    if (t === undefined) {
      this.fail(
        `unknown metric type ${show(tok)} for metric name ${show(name)} (counter, gauge, histogram, summary or untyped)`,
      );
    }
    if (this.skipBlank(k, eol) !== eol)
      this.fail(`unexpected text after type in TYPE line for ${show(name)}`);
    for (const suffix of reservedSuffixes(t)) {
      if (this.families.has(name + suffix)) {
        this.fail(
          `${t} ${show(name)} reserves the name ${show(name + suffix)}, which is already a metric family`,
        );
      }
    }
    fam.type = t;
    fam.typeSeen = true;
  }

  /** Family named by a HELP/TYPE line: the current one, or a new one (never an earlier one). */
  private familyForDeclaration(name: string, kw: string): FamilyBuilder {
    const cur = this.current;
    if (cur !== undefined && cur.name === name) return cur;
    const existing = this.families.get(name);
    if (existing !== undefined) {
      this.fail(
        `${kw} line for metric name ${show(name)} whose lines started at line ${existing.line}; a family's lines must be contiguous`,
      );
    }
    this.checkReserved(name);
    return this.newFamily(name);
  }

  /** A new family name must not be a sample name of an existing histogram or summary. */
  private checkReserved(name: string): void {
    for (const { base, suffix } of suffixOwners(name)) {
      const f = this.families.get(base);
      if (f !== undefined && reservesSuffix(f.type, suffix)) {
        this.fail(
          `${show(name)} belongs to ${f.type} ${show(base)} whose lines started at line ${f.line}; a family's lines must be contiguous`,
        );
      }
    }
  }

  private newFamily(name: string): FamilyBuilder {
    const f: FamilyBuilder = {
      name,
      help: '',
      helpSeen: false,
      type: 'untyped',
      typeSeen: false,
      line: this.line,
      nSamples: 0,
      scalars: [],
      keys: new Set(),
      complex: new Map(),
      refNames: undefined,
      lastKey: undefined,
      lastCb: undefined,
    };
    this.families.set(name, f);
    this.order.push(f);
    this.current = f;
    return f;
  }

  /** Reads HELP text to the end of the line, unescaping `\\` and `\n` (any other escape is an error). */
  private readHelp(i: number, eol: number, name: string): string {
    const b = this.body;
    let j = b.indexOf('\\', i);
    if (j === -1 || j >= eol) return b.slice(i, eol);
    let out = b.slice(i, j);
    while (j < eol) {
      const c = b.charCodeAt(j);
      if (c === 92) {
        const d = j + 1 < eol ? b.charCodeAt(j + 1) : -1;
        if (d === 92) out += '\\';
        else if (d === 110) out += '\n';
        else {
          const esc = d === -1 ? '\\ at end of line' : `'\\${String.fromCharCode(d)}'`;
          this.fail(`invalid escape sequence ${esc} in HELP text of ${show(name)}`);
        }
        j += 2;
        continue;
      }
      let k = b.indexOf('\\', j);
      if (k === -1 || k > eol) k = eol;
      out += b.slice(j, k);
      j = k;
    }
    return out;
  }

  /**
   * A `{` where the value belongs: a second label set, as in `m{a="1"}{b="2"} 1` or `{"m"}{a="1"} 1`.
   * Prometheus refuses both (its parser reads the value there); the message names the rule.
   */
  private secondLabelSet(f: FamilyBuilder, r: Role, quoted: boolean): never {
    const name = this.sampleName(f, r);
    const form = quoted
      ? `with the quoted metric name inside it: {${show(name)},a="1"} 1`
      : `after the metric name: ${name}{a="1",b="2"} 1`;
    this.fail(`second label set for ${show(name)}: a sample has at most one label set, ${form}`);
  }

  /** "value of label "x" for "m"", for error messages. */
  private labelWhat(lname: string, f: FamilyBuilder, r: Role): string {
    return `value of label ${show(lname)} for ${show(this.sampleName(f, r))}`;
  }

  private sampleName(f: FamilyBuilder, role: Role): string {
    return (
      f.name +
      (role === Role.Sum ? '_sum' : role === Role.Count ? '_count' : role === Role.Bucket ? '_bucket' : '')
    );
  }

  /** The unescaped label value at [vs, ve) (escapes already validated). */
  private unescapeValue(vs: number, ve: number): string {
    const b = this.body;
    let out = '';
    let j = vs;
    while (j < ve) {
      const c = b.charCodeAt(j);
      if (c === 92) {
        const d = b.charCodeAt(j + 1);
        out += d === 110 ? '\n' : d === 34 ? '"' : '\\';
        j += 2;
        continue;
      }
      let k = j + 1;
      while (k < ve && b.charCodeAt(k) !== 92) k++;
      out += b.slice(j, k);
      j = k;
    }
    return out;
  }

  /** Labels object of the current sample (empty values dropped). */
  private labelsOf(n: number): Record<string, string> {
    if (n === 0) return EMPTY_LABELS;
    const b = this.body;
    const o: Record<string, string> = {};
    let any = false;
    for (let k = 0; k < n; k++) {
      const vs = this.vStart[k]!;
      const ve = this.vEnd[k]!;
      if (vs === ve) continue;
      o[this.names[k]!] = this.vEsc[k] ? this.unescapeValue(vs, ve) : b.slice(vs, ve);
      any = true;
    }
    return any ? o : EMPTY_LABELS;
  }

  /**
   * Key of the current sample's label set within its family, independent of label order and spacing.
   * Canonical form: `name="escaped value"` pairs in the family's reference order (the first sample's
   * label names) joined by `,`, i.e. exactly the text between the braces of a canonically written line,
   * which is then used as is. Label sets with other names use `labelsKey` (contains NUL, so the two forms
   * never meet: NUL is refused in the body).
   */
  private slowKey(f: FamilyBuilder, n: number, labels: Labels): string {
    if (n === 0) return '';
    let ref = f.refNames;
    const names = Object.keys(labels);
    if (names.length === 0) return '';
    if (ref === undefined) {
      ref = names;
      f.refNames = ref;
    }
    if (names.length !== ref.length) return labelsKey(labels);
    let key = '';
    for (let k = 0; k < ref.length; k++) {
      const nm = ref[k]!;
      if (!Object.hasOwn(labels, nm)) return labelsKey(labels);
      key += (k === 0 ? '' : ',') + nm + '="' + escapeLabelValue(labels[nm]!) + '"';
    }
    return key;
  }

  /** The role of a sample named `name` in the current family, or -1 when it starts a new family. */
  private roleByName(fam: FamilyBuilder | undefined, name: string): Role | -1 {
    if (fam === undefined || !name.startsWith(fam.name)) return -1;
    const fn = fam.name;
    const rest = name.slice(fn.length);
    if (rest === '') {
      if (fam.type === 'histogram') {
        this.fail(
          `sample ${show(fn)} of histogram ${show(fn)} must be named ${fn}_bucket, ${fn}_sum or ${fn}_count`,
        );
      }
      return fam.type === 'summary' ? Role.Quantile : Role.Scalar;
    }
    if (fam.type !== 'histogram' && fam.type !== 'summary') return -1;
    if (rest === '_sum') return Role.Sum;
    if (rest === '_count') return Role.Count;
    if (rest === '_bucket' && fam.type === 'histogram') return Role.Bucket;
    return -1;
  }

  /** A quoted label name at j: valid under the configured rules and not reserved, or a failure. */
  private quotedLabelName(j: number, eol: number, f: FamilyBuilder, r: Role): string {
    const name = this.readQuoted(j, eol, () => `label name for ${show(this.sampleName(f, r))}`);
    const p = labelNameProblem(name, this.nameRules);
    if (p) {
      this.fail(
        `invalid label name ${show(name)} for ${show(this.sampleName(f, r))}: ${p}`,
        this.line,
        RejectReason.invalidName,
        !name.startsWith('__'),
      );
    }
    return name;
  }

  private parseSample(i: number, eol: number): void {
    const b = this.body;
    // `{"name", …}`: the quoted metric name inside the braces (qname), read before the labels.
    let qname: string | undefined;
    let qj = 0;
    if (b.charCodeAt(i) === 123) {
      const q = this.skipBlank(i + 1, eol);
      if (q < eol && b.charCodeAt(q) === 34) {
        qname = this.readQuoted(q, eol, () => 'quoted metric name');
        this.checkQuotedMetricName(qname);
        qj = this.skipBlank(this.quotedEnd, eol);
        const c = qj < eol ? b.charCodeAt(qj) : -1;
        if (c !== 44 && c !== 125)
          this.fail(`expected ',' or '}' after the quoted metric name ${show(qname)}`);
      }
    }
    const ne = qname === undefined ? this.metricNameEnd(i, eol) : qj;
    if (ne === i) {
      let k = i;
      while (k < eol && b.charCodeAt(k) !== 32 && b.charCodeAt(k) !== 9 && b.charCodeAt(k) !== 123) k++;
      this.fail(
        `invalid metric name ${show(b.slice(i, k))} (must match [a-zA-Z_:][a-zA-Z0-9_:]*)`,
        this.line,
        RejectReason.invalidName,
        true,
      );
    }
    // Resolve the family and the sample's role without slicing the name when it is the current family.
    let fam = this.current;
    let role = -1 as Role | -1;
    const nlen = ne - i;
    if (qname !== undefined) role = this.roleByName(fam, qname);
    else if (fam !== undefined) {
      const fn = fam.name;
      const fl = fn.length;
      if (nlen >= fl && b.startsWith(fn, i)) {
        const rest = nlen - fl;
        if (rest === 0) {
          if (fam.type === 'histogram') {
            this.fail(
              `sample ${show(fn)} of histogram ${show(fn)} must be named ${fn}_bucket, ${fn}_sum or ${fn}_count`,
            );
          }
          role = fam.type === 'summary' ? Role.Quantile : Role.Scalar;
        } else if (fam.type === 'histogram' || fam.type === 'summary') {
          if (rest === 4 && b.startsWith('_sum', i + fl)) role = Role.Sum;
          else if (rest === 6 && b.startsWith('_count', i + fl)) role = Role.Count;
          else if (rest === 7 && fam.type === 'histogram' && b.startsWith('_bucket', i + fl))
            role = Role.Bucket;
        }
      }
    }
    if (role === -1) {
      const name = qname ?? b.slice(i, ne);
      const existing = this.families.get(name);
      if (existing !== undefined) {
        this.fail(
          `sample of metric family ${show(name)} whose lines started at line ${existing.line}; a family's lines must be contiguous`,
        );
      }
      this.checkReserved(name);
      fam = this.newFamily(name);
      role = Role.Scalar;
    }
    const f = fam as FamilyBuilder;
    const r = role as Role;
    const special = r === Role.Bucket ? 'le' : r === Role.Quantile ? 'quantile' : '';

    // Labels: names into the reusable `names` array (reusing the family's reference name strings, no
    // allocation), values as [start, end) positions into the body, materialized only for new series.
    const names = this.names;
    const vStart = this.vStart;
    const vEnd = this.vEnd;
    const vEsc = this.vEsc;
    const ref = f.refNames;
    let n = 0;
    let j = this.skipBlank(ne, eol);
    let specialValue: string | undefined;
    let spStart = 0;
    let spEnd = 0;
    let seen: Set<string> | undefined;
    // The label text between the braces is the series key when it is canonical: no blanks, names in the
    // reference order, no empty value, the special label (le/quantile) last or absent.
    let canon = ref !== undefined;
    let keyStart = 0;
    let keyEnd = 0;
    // Fast path for consecutive samples of one histogram/summary series: the label text equals the previous
    // sample's key (already validated), followed by the special label or the closing brace.
    let same: ComplexBuilder | undefined;
    const lk = f.lastKey;
    if (
      r !== Role.Scalar &&
      qname === undefined &&
      lk !== undefined &&
      lk !== '' &&
      j === ne &&
      b.charCodeAt(j) === 123 &&
      b.startsWith(lk, j + 1)
    ) {
      const p = j + 1 + lk.length;
      const c = b.charCodeAt(p);
      if (c === 125 && special === '') {
        same = f.lastCb;
        j = this.skipBlank(p + 1, eol);
      } else if (
        c === 44 &&
        special !== '' &&
        b.startsWith(special, p + 1) &&
        b.charCodeAt(p + 1 + special.length) === 61
      ) {
        const q = p + 2 + special.length;
        if (b.charCodeAt(q) === 34) {
          let e = q + 1;
          while (e < eol) {
            const d = b.charCodeAt(e);
            if (d === 34 || d === 92) break;
            e++;
          }
          if (e < eol && b.charCodeAt(e) === 34 && b.charCodeAt(e + 1) === 125) {
            same = f.lastCb;
            specialValue = '';
            spStart = q + 1;
            spEnd = e;
            j = this.skipBlank(e + 2, eol);
          }
        }
      }
    }
    // Quoted name: the labels (if any) follow its comma, inside the braces already open.
    let openAtComma = false;
    if (qname !== undefined) {
      canon = false;
      if (b.charCodeAt(j) === 125) j = this.skipBlank(j + 1, eol);
      else openAtComma = true;
    }
    // A quoted name closed by `}` has an empty label set: a `{` after it is a second label set, refused below.
    if (
      same === undefined &&
      j < eol &&
      ((b.charCodeAt(j) === 123 /* { */ && qname === undefined) || openAtComma)
    ) {
      keyStart = j + 1;
      let k0 = j + 1;
      j = this.skipBlank(j + 1, eol);
      if (j !== k0) canon = false;
      for (;;) {
        if (j >= eol) this.fail(`unterminated label set for ${show(this.sampleName(f, r))}`);
        if (b.charCodeAt(j) === 125 /* } */) {
          if (specialValue === undefined) keyEnd = j;
          if (j > keyStart && b.charCodeAt(j - 1) === 44) canon = false; // trailing comma
          j++;
          break;
        }
        const ls = j;
        let qlabel: string | undefined;
        if (isNameStart(b.charCodeAt(j))) {
          j++;
          while (j < eol && isNameChar(b.charCodeAt(j))) j++;
        } else if (b.charCodeAt(j) === 34) {
          qlabel = this.quotedLabelName(j, eol, f, r);
          j = this.quotedEnd;
          canon = false;
        }
        if (j === ls) {
          let k = ls;
          while (k < eol && b.charCodeAt(k) !== 61 && b.charCodeAt(k) !== 32) k++;
          this.fail(
            `invalid label name ${show(b.slice(ls, k))} for ${show(this.sampleName(f, r))} (must match [a-zA-Z_][a-zA-Z0-9_]*)`,
            this.line,
            RejectReason.invalidName,
            true,
          );
        }
        const nl = j - ls;
        const isSpecial =
          special !== '' &&
          (qlabel === undefined ? nl === special.length && b.startsWith(special, ls) : qlabel === special);
        let lname: string;
        if (isSpecial) lname = special;
        else if (qlabel !== undefined) lname = qlabel;
        else if (ref !== undefined && n < ref.length && ref[n]!.length === nl && b.startsWith(ref[n]!, ls)) {
          lname = ref[n]!;
        } else {
          lname = b.slice(ls, j);
          canon = false;
          if (b.charCodeAt(ls) === 95 && b.charCodeAt(ls + 1) === 95) {
            this.fail(
              `label name ${show(lname)} for ${show(this.sampleName(f, r))} must not start with "__" (reserved)`,
              this.line,
              // The Go parser refuses only __name__ as syntax; other __ names are refused later, by rule.
              lname === '__name__' ? RejectReason.decode : RejectReason.invalidName,
            );
          }
        }
        k0 = j;
        j = this.skipBlank(j, eol);
        if (j >= eol || b.charCodeAt(j) !== 61 /* = */) {
          this.fail(`expected '=' after label name ${show(lname)} for ${show(this.sampleName(f, r))}`);
        }
        j = this.skipBlank(j + 1, eol);
        if (j >= eol || b.charCodeAt(j) !== 34 /* " */) {
          this.fail(
            `expected '"' to start the value of label ${show(lname)} for ${show(this.sampleName(f, r))}`,
          );
        }
        if (j !== k0 + 1) canon = false;
        // Scan the quoted value, validating escapes.
        const vs = j + 1;
        let esc = false;
        j = vs;
        for (;;) {
          if (j >= eol) {
            this.fail(`unterminated quoted string in ${this.labelWhat(lname, f, r)}`);
          }
          const c = b.charCodeAt(j);
          if (c === 34) break;
          if (c === 92) {
            this.quotedEscape(j, eol, () => this.labelWhat(lname, f, r));
            esc = true;
            j += 2;
            continue;
          }
          j++;
        }
        const ve = j;
        j++;
        k0 = j;
        j = this.skipBlank(j, eol);
        if (j !== k0) canon = false;
        if (isSpecial) {
          if (specialValue !== undefined)
            this.fail(`duplicate label name ${show(lname)} for ${show(this.sampleName(f, r))}`);
          specialValue = esc ? this.unescapeValue(vs, ve) : '';
          spStart = vs;
          spEnd = ve;
          keyEnd = ls > keyStart ? ls - 1 : keyStart; // the comma before the special label
        } else {
          if (specialValue !== undefined) canon = false; // special label not last
          if (!canon) {
            // Linear scan for the usual handful of labels; a Set beyond that, so that a hostile line with
            // thousands of labels stays linear.
            let dup = false;
            if (n < 16) {
              for (let k = 0; k < n; k++) if (names[k] === lname) dup = true;
            } else {
              if (seen === undefined) seen = new Set(names.slice(0, n));
              dup = seen.has(lname);
              seen.add(lname);
            }
            if (dup) this.fail(`duplicate label name ${show(lname)} for ${show(this.sampleName(f, r))}`);
          } else if (seen !== undefined) seen.add(lname);
          if (r !== Role.Scalar && (f.type === 'histogram' ? lname === 'le' : lname === 'quantile')) {
            this.fail(`label ${show(lname)} is not allowed on ${show(this.sampleName(f, r))}`);
          }
          if (ve === vs) canon = false;
          names[n] = lname;
          vStart[n] = vs;
          vEnd[n] = ve;
          vEsc[n] = esc;
          n++;
        }
        if (j >= eol) this.fail(`unterminated label set for ${show(this.sampleName(f, r))}`);
        const c = b.charCodeAt(j);
        if (c === 44 /* , */) {
          k0 = j + 1;
          j = this.skipBlank(j + 1, eol);
          if (j !== k0) canon = false;
          continue;
        }
        if (c !== 125) {
          this.fail(
            `expected ',' or '}' after value of label ${show(lname)} for ${show(this.sampleName(f, r))}`,
          );
        }
      }
      j = this.skipBlank(j, eol);
    }
    // Value
    const vs = j;
    while (j < eol) {
      const c = b.charCodeAt(j);
      if (c === 32 || c === 9) break;
      j++;
    }
    if (j === vs) this.fail(`expected a value for ${show(this.sampleName(f, r))}`);
    let value = j === vs ? undefined : parseSimpleDecimalAt(b, vs, j);
    if (value === undefined) {
      const vtok = b.slice(vs, j);
      value = parseGoFloat(vtok);
      if (value === undefined) {
        if (vtok.charCodeAt(0) === 123) this.secondLabelSet(f, r, qname !== undefined);
        this.fail(`expected float as value for ${show(this.sampleName(f, r))}, got ${show(vtok)}`);
      }
    }
    const valueEnd = j;
    // Timestamp
    let timestampMs: number | undefined;
    j = this.skipBlank(j, eol);
    if (j < eol) {
      const ts = j;
      while (j < eol) {
        const c = b.charCodeAt(j);
        if (c === 32 || c === 9) break;
        j++;
      }
      const ttok = b.slice(ts, j);
      timestampMs = parseTimestamp(ttok);
      if (timestampMs === undefined) {
        this.fail(
          `expected integer (milliseconds) as timestamp for ${show(this.sampleName(f, r))}, got ${show(ttok)}`,
        );
      }
      if (this.skipBlank(j, eol) !== eol)
        this.fail(`spurious string after timestamp for ${show(this.sampleName(f, r))}`);
    }
    f.nSamples++;
    let labels: Labels | undefined;
    let key: string;
    if (same !== undefined) key = lk!;
    else if (n === 0) key = '';
    else if (canon && n === ref!.length) {
      const lk = f.lastKey;
      // Consecutive samples of one histogram/summary series: compare in place instead of slicing.
      key =
        lk !== undefined && lk.length === keyEnd - keyStart && b.startsWith(lk, keyStart)
          ? lk
          : b.slice(keyStart, keyEnd);
    } else {
      labels = this.labelsOf(n);
      key = this.slowKey(f, n, labels);
    }
    if (r === Role.Scalar) {
      if (f.keys.has(key))
        this.fail(
          `duplicate series ${seriesText(this.sampleName(f, r), labels ?? this.labelsOf(n))}`,
          this.line,
          RejectReason.duplicateSeries,
        );
      f.keys.add(key);
      this.countSeries();
      const l = labels ?? this.labelsOf(n);
      f.scalars.push(timestampMs === undefined ? { labels: l, value } : { labels: l, value, timestampMs });
      return;
    }
    let cb: ComplexBuilder | undefined = same ?? (f.lastKey === key ? f.lastCb : f.complex.get(key));
    if (cb === undefined) {
      cb = {
        labels: labels ?? this.labelsOf(n),
        line: this.line,
        ats: [],
        values: [],
        lines: [],
        sum: undefined,
        count: undefined,
        inf: undefined,
        timestampMs,
      };
      f.complex.set(key, cb);
      this.countSeries();
    } else if (cb.timestampMs === undefined) cb.timestampMs = timestampMs;
    f.lastKey = key;
    f.lastCb = cb;
    switch (r) {
      case Role.Sum:
        if (cb.sum !== undefined)
          this.fail(
            `duplicate series ${seriesText(this.sampleName(f, r), cb.labels)}`,
            this.line,
            RejectReason.duplicateSeries,
          );
        cb.sum = value;
        return;
      case Role.Count:
        if (cb.count !== undefined)
          this.fail(
            `duplicate series ${seriesText(this.sampleName(f, r), cb.labels)}`,
            this.line,
            RejectReason.duplicateSeries,
          );
        if (!(value >= 0) || value === Infinity) {
          this.fail(
            `${seriesText(this.sampleName(f, r), cb.labels)}: count must be a finite number >= 0, got ${b.slice(vs, valueEnd)}`,
          );
        }
        cb.count = value;
        return;
      default: {
        if (specialValue === undefined)
          this.fail(`${seriesText(this.sampleName(f, r), cb.labels)}: missing label ${show(special)}`);
        // specialValue is '' when unescaped: read it from the body (fast path without slicing).
        let spText = specialValue;
        let at = spText === '' ? parseSimpleDecimalAt(b, spStart, spEnd) : undefined;
        if (at === undefined) {
          if (spText === '') spText = b.slice(spStart, spEnd);
          at = parseGoFloat(spText);
        }
        if (at === undefined || Number.isNaN(at)) {
          this.fail(
            `${seriesText(this.sampleName(f, r), cb.labels)}: expected float as value for label ${show(special)}, got ${show(spText)}`,
          );
        }
        if (r === Role.Bucket) {
          if (!(value >= 0) || value === Infinity) {
            this.fail(
              `${seriesText(this.sampleName(f, r), cb.labels)}: bucket count must be a finite number >= 0, got ${b.slice(vs, valueEnd)}`,
            );
          }
          if (at === Infinity) {
            if (cb.inf !== undefined) {
              this.fail(
                `duplicate series ${seriesText(this.sampleName(f, r), cb.labels, 'le', '+Inf')}`,
                this.line,
                RejectReason.duplicateSeries,
              );
            }
            cb.inf = value;
            return;
          }
        }
        if (at === Infinity || at === -Infinity) {
          this.fail(
            `${seriesText(this.sampleName(f, r), cb.labels)}: label ${show(special)} must be finite${r === Role.Bucket ? ' or +Inf' : ''}, got ${show(spText)}`,
          );
        }
        cb.ats.push(at);
        cb.values.push(value);
        cb.lines.push(this.line);
      }
    }
  }

  finish(): MetricFamily[] {
    const out: MetricFamily[] = [];
    for (const f of this.order) {
      if (f.nSamples === 0) continue;
      if (f.type === 'histogram') {
        const series: HistogramSeries[] = [];
        for (const cb of f.complex.values()) series.push(this.finishHistogram(f.name, cb));
        out.push({ name: f.name, help: f.help, type: 'histogram', series });
      } else if (f.type === 'summary') {
        const series: SummarySeries[] = [];
        for (const cb of f.complex.values()) series.push(this.finishSummary(f.name, cb));
        out.push({ name: f.name, help: f.help, type: 'summary', series });
      } else {
        out.push({ name: f.name, help: f.help, type: f.type, series: f.scalars });
      }
    }
    return out;
  }

  /** Orders the points of a series by `le`/`quantile` (stable), refusing duplicates. */
  private sortPoints(name: string, cb: ComplexBuilder, what: string): number[] {
    const ats = cb.ats;
    const idx = ats.map((_, k) => k);
    let sorted = true;
    for (let k = 1; k < ats.length; k++) {
      if (ats[k]! <= ats[k - 1]!) {
        sorted = false;
        break;
      }
    }
    if (sorted) return idx;
    idx.sort((x, y) => ats[x]! - ats[y]! || x - y);
    for (let k = 1; k < idx.length; k++) {
      const at = ats[idx[k]!]!;
      if (at === ats[idx[k - 1]!]!) {
        this.fail(
          `duplicate series ${seriesText(name, cb.labels, what, formatFloat(at))}`,
          cb.lines[idx[k]!]!,
          RejectReason.duplicateSeries,
        );
      }
    }
    return idx;
  }

  private finishHistogram(name: string, cb: ComplexBuilder): HistogramSeries {
    const order = this.sortPoints(name + '_bucket', cb, 'le');
    if (cb.sum === undefined)
      this.fail(`histogram ${seriesText(name, cb.labels)} has no ${name}_sum sample`, cb.line);
    const ats = cb.ats;
    const values = cb.values;
    const settled = checkCumulativeBuckets(
      order.length,
      (i) => ats[order[i]!]!,
      (i) => values[order[i]!]!,
      cb.count,
      cb.inf,
    );
    if (isBucketProblem(settled)) {
      this.fail(
        `histogram ${seriesText(name, cb.labels)}${settled.rule === 'noCount' ? ' ' : ': '}${bucketProblemText(settled, `${name}_count`, formatFloat)}`,
        settled.index < 0 ? cb.line : cb.lines[order[settled.index]!]!,
      );
    }
    const buckets: Bucket[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const k = order[i]!;
      buckets[i] = { le: canonicalBound(ats[k]!), count: values[k]! };
    }
    const count = settled.count;
    return cb.timestampMs === undefined
      ? { labels: cb.labels, buckets, sum: cb.sum, count }
      : { labels: cb.labels, buckets, sum: cb.sum, count, timestampMs: cb.timestampMs };
  }

  private finishSummary(name: string, cb: ComplexBuilder): SummarySeries {
    if (cb.sum === undefined)
      this.fail(`summary ${seriesText(name, cb.labels)} has no ${name}_sum sample`, cb.line);
    if (cb.count === undefined)
      this.fail(`summary ${seriesText(name, cb.labels)} has no ${name}_count sample`, cb.line);
    const order = this.sortPoints(name, cb, 'quantile');
    const quantiles: Quantile[] = order.map((k) => ({
      quantile: canonicalBound(cb.ats[k]!),
      value: cb.values[k]!,
    }));
    return cb.timestampMs === undefined
      ? { labels: cb.labels, quantiles, sum: cb.sum, count: cb.count }
      : { labels: cb.labels, quantiles, sum: cb.sum, count: cb.count, timestampMs: cb.timestampMs };
  }
}

/** Shared frozen empty label set (no labels is the common case for `_sum`-less scalars). */
const EMPTY_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function parseTimestamp(tok: string): number | undefined {
  let i = 0;
  const c0 = tok.charCodeAt(0);
  if (c0 === 43 || c0 === 45) i = 1;
  if (i === tok.length) return undefined;
  for (; i < tok.length; i++) {
    const c = tok.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const v = Number(tok);
  return Number.isSafeInteger(v) ? v : undefined;
}

function seriesText(name: string, labels: Labels, extraName?: string, extraValue?: string): string {
  const parts: string[] = [];
  for (const k of Object.keys(labels)) parts.push(`${k}=${JSON.stringify(labels[k])}`);
  if (extraName !== undefined) parts.push(`${extraName}=${JSON.stringify(extraValue)}`);
  const s = parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
