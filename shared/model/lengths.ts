/**
 * How Accrue counts a string's length in its limits (label values, names, HELP, domain string fields):
 * in Unicode code points, as JSON Schema's `maxLength`/`minLength` do
 * (https://json-schema.org/draft/2020-12/json-schema-validation#section-6.3.1). A producer that validates
 * its events against the published schema therefore sees the limit every path applies: the SQS decoder,
 * HTTP pushes (text and protobuf), the store and the client. A surrogate pair is one code point; a lone
 * surrogate counts as one too (such strings are refused anyway: `loneSurrogateProblem` in names.ts).
 *
 * Kept cheap for the hot path: a string of n UTF-16 units has between n/2 and n code points, so a string
 * of at most `max` units is never too long and one of more than 2·max always is; only the lengths between
 * are counted. ASCII stays one length compare.
 */

/** The number of code points in `s` (a lone surrogate counts as one). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** True when `s` has more than `max` code points. */
export function longerThan(s: string, max: number): boolean {
  const n = s.length;
  return n > max && (n > 2 * max || codePointLength(s) > max);
}

/** True when `s` has fewer than `min` code points. */
export function shorterThan(s: string, min: number): boolean {
  const n = s.length;
  return n < min || (n < 2 * min && codePointLength(s) < min);
}
