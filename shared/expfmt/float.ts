/**
 * Floats as Prometheus reads and writes them.
 *
 * Writing follows Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which prometheus/common's text writer uses:
 * the shortest digits that round-trip, exponent form when the decimal exponent is < -4 or >= 6 (Go's %g
 * uses precision 6 for that decision when printing the shortest form), the exponent written with a sign
 * and at least two digits: `1e-05`, `0.005`, `123456`, `1e+06`, `1.234567e+06`. Special values are exactly
 * `NaN`, `+Inf`, `-Inf` (never JavaScript's `Infinity`); negative zero is `-0` as in Go.
 *
 * Reading follows Go's `strconv.ParseFloat(s, 64)` for the inputs Prometheus accepts: decimal numbers with
 * optional sign, fraction and exponent, hexadecimal floats with a `p` exponent, and the case-insensitive
 * specials `NaN`, `Inf`, `+Inf`, `-Inf`, `Infinity`, `+Infinity`, `-Infinity`. Out-of-range values (a
 * decimal that overflows to ±Inf, e.g. `1e400`) are an error, as in Go (ErrRange). Underscores, which Go
 * accepts only after a base prefix, are refused.
 */

/** Formats a float like Go's `strconv.FormatFloat(f, 'g', -1, 64)`, with Prometheus's special values. */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  const a = f < 0 ? -f : f;
  if (a < 1e6) {
    if (a >= 1e-4) return '' + f; // JS prints these in plain decimal with the shortest digits, as Go does
    if (f === 0) return Object.is(f, -0) ? '-0' : '0';
    return exponentForm(f);
  }
  if (a === Infinity) return f > 0 ? '+Inf' : '-Inf';
  return exponentForm(f);
}

/** Go's `%e` with the shortest digits: mantissa from JS (same digits), exponent sign and two digits. */
function exponentForm(f: number): string {
  const e = f.toExponential(); // shortest round-trip digits, like "1.234567e+6"
  const ei = e.indexOf('e');
  const exp = Number(e.slice(ei + 1));
  const ae = exp < 0 ? -exp : exp;
  return e.slice(0, ei) + (exp < 0 ? 'e-' : 'e+') + (ae < 10 ? '0' + ae : '' + ae);
}

/** Case-insensitive specials Go's ParseFloat accepts (sign allowed before inf/infinity, not before nan). */
function special(s: string): number | undefined {
  const l = s.length;
  if (l < 3 || l > 9) return undefined;
  const t = s.toLowerCase();
  switch (t) {
    case 'nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

const HEX_FLOAT_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/;

/**
 * Parses a float the way Go's `strconv.ParseFloat(s, 64)` does for exposition input.
 * Returns undefined when `s` is not a float or is out of range (overflows to ±Inf).
 */
export function parseGoFloat(s: string): number | undefined {
  const n = s.length;
  if (n === 0) return undefined;
  let plain = true;
  let digits = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits = true;
    else if (c !== 46 && c !== 43 && c !== 45 && c !== 101 && c !== 69) {
      plain = false;
      break;
    }
  }
  if (plain) {
    if (!digits) return undefined;
    const v = +s;
    if (Number.isNaN(v)) return undefined; // not a well-formed decimal ("1e", "1..2", "+-1")
    if (v === Infinity || v === -Infinity) return undefined; // out of range, like Go's ErrRange
    return v;
  }
  const sp = special(s);
  if (sp !== undefined) return sp;
  const m = HEX_FLOAT_RE.exec(s);
  if (m === null) return undefined;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  if (intPart.length + fracPart.length === 0) return undefined;
  let mant = 0;
  for (const ch of intPart + fracPart) mant = mant * 16 + Number.parseInt(ch, 16);
  const v = mant * 2 ** (Number(m[4]) - 4 * fracPart.length);
  if (v === Infinity) return undefined;
  return m[1] === '-' ? -v : v;
}

/** Exact powers of ten as doubles (10^0 … 10^22 are exactly representable). */
const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];

/**
 * Fast path of `parseGoFloat` for the common plain decimals (`123`, `-0.005`, `+1.5`) read straight from
 * `s[start, end)` without slicing: at most 15 significant digits and no exponent, so the value is
 * `integer / 10^k` with both operands exact, which IEEE division rounds correctly (Clinger's fast path),
 * giving the same double as `Number()`. Returns undefined when the input is outside that path; the caller
 * then falls back to `parseGoFloat`.
 */
export function parseSimpleDecimalAt(s: string, start: number, end: number): number | undefined {
  let i = start;
  let neg = false;
  let c = s.charCodeAt(i);
  if (c === 45 || c === 43) {
    neg = c === 45;
    i++;
  }
  let mant = 0;
  let significant = 0;
  let sawDigit = false;
  let frac = -1;
  for (; i < end; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      sawDigit = true;
      if (significant > 0 || c !== 48) {
        if (++significant > 15) return undefined;
      }
      mant = mant * 10 + (c - 48);
      if (frac >= 0) frac++;
    } else if (c === 46 && frac < 0) frac = 0;
    else return undefined;
  }
  if (!sawDigit || frac > 22) return undefined;
  const v = frac > 0 ? mant / POW10[frac]! : mant;
  return neg ? -v : v;
}

/**
 * A histogram bound or summary quantile in canonical form: -0 is the bound 0 (Go would print `-0`, which
 * Prometheus 2.x, keeping `le` as a string, would treat as another series). Parsers and writers use it.
 */
export function canonicalBound(v: number): number {
  return v === 0 ? 0 : v;
}
