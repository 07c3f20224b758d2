/**
 * Compiled fast path for domain events: a function generated per event kind from the (validated) profile
 * that reads every field with a static property access (`ev.symbol`), so V8's inline caches stay
 * monomorphic for the objects JSON.parse builds, and that answers one question: is this event certainly
 * valid? It fills the decoder's scratch arrays (field values, enum indexes) as it goes.
 *
 * It is deliberately conservative: anything it isn't sure about (a string near its length bounds, where
 * code points and UTF-16 units differ; any problem at all) returns false, and the decoder runs the full
 * validator in map.ts, which decides and reports every problem. Tests run every corpus event through both
 * (test/unit/ingest/equivalence.test.ts).
 *
 * Safety of the generated code: field names are checked by the profile compiler to match
 * [a-zA-Z_][a-zA-Z0-9_]* (so `ev.<name>` is a valid property access and never an Object.prototype name);
 * enum values are embedded with JSON.stringify (a valid JS string literal); bounds are finite numbers.
 * If code generation is unavailable (`new Function` forbidden), the decoder uses the full validator only.
 */
import type { CompiledKind } from '../profiles/types';
import { FieldType } from '../profiles/types';

/** (event, field values, enum indexes, max event time, max label value length) → certainly valid. */
export type FastCheck = (
  ev: Record<string, unknown>,
  s: unknown[],
  ei: number[],
  maxTime: number,
  maxLabel: number,
) => boolean;

const cache = new WeakMap<CompiledKind, FastCheck | null>();

function num(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`non-finite bound ${n}`);
  return Object.is(n, -0) ? '0' : String(n);
}

export function generateSource(kind: CompiledKind): string {
  const lines: string[] = ['let v; let present = 1;'];
  lines.push(
    'v = ev.time; if (!(typeof v === "number" && v >= 0 && v <= maxTime && Math.floor(v) === v)) return false; present++;',
  );
  kind.fields.forEach((f, i) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(f.name) || f.name.startsWith('__'))
      throw new Error(`unsafe field name ${f.name}`);
    lines.push(`v = ev.${f.name}; s[${i}] = v;`);
    const absent = f.optional ? '' : ' else return false;';
    let check: string;
    switch (f.type) {
      case FieldType.enum:
        check =
          f.valueList
            .map((x, j) => `${j === 0 ? '' : 'else '}if (v === ${JSON.stringify(x)}) ei[${i}] = ${j};`)
            .join(' ') + ' else return false;';
        break;
      case FieldType.number:
        check = `if (!(typeof v === "number" && v >= ${num(f.minimum)} && v <= ${num(f.maximum)}${f.integer ? ' && Math.floor(v) === v' : ''})) return false;`;
        break;
      case FieldType.string:
        // Below 2*minLength UTF-16 units the code-point count may differ: leave it to the full validator.
        check = `if (typeof v !== "string" || v.length > ${f.maxLength} || v.length > maxLabel${f.minLength > 0 ? ` || v.length < ${2 * f.minLength}` : ''} || v.indexOf("\\u0000") !== -1 || !v.isWellFormed()) return false;`;
        break;
      default:
        check = 'if (v !== true && v !== false) return false;';
    }
    lines.push(`if (v !== undefined) { present++; ${check} }${absent}`);
  });
  lines.push('let n = 0; for (const _ in ev) n++;', 'return n === present;');
  return lines.join('\n');
}

/** The compiled check of a kind, or null when code generation isn't available. */
export function fastCheck(kind: CompiledKind): FastCheck | null {
  let fn = cache.get(kind);
  if (fn !== undefined) return fn;
  try {
    fn = new Function('ev', 's', 'ei', 'maxTime', 'maxLabel', generateSource(kind)) as FastCheck;
  } catch {
    fn = null;
  }
  cache.set(kind, fn);
  return fn;
}
