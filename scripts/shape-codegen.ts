/**
 * Build-time generator of structural checks (shared/model/shape-check.ts) from TypeBox schemas: every
 * node's check is `TypeCompiler.Code` of that node, and its rule is the node's constraints in words. The
 * output is a plain TypeScript module without TypeBox, so the ingest Lambda bundle can carry it (TypeBox
 * itself is ~100 KB minified and stays out of the bundle). Run by `npm run schema` (scripts/gen-schema.ts).
 */
import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { RULE_NOTE } from '../shared/model/shape-check';

type Schema = TSchema & Record<string, unknown>;

const kindOf = (s: TSchema): string => (s as unknown as Record<symbol, string>)[Kind]!;
const isOptional = (s: TSchema): boolean =>
  (s as unknown as Record<symbol, unknown>)[OptionalKind] === 'Optional';

function range(s: Schema, low: string, high: string, unit = ''): string {
  const min = s[low] as number | undefined;
  const max = s[high] as number | undefined;
  if (min !== undefined && max !== undefined) return ` of ${min} to ${max}${unit}`;
  if (min !== undefined) return ` of at least ${min}${unit}`;
  if (max !== undefined) return ` of at most ${max}${unit}`;
  return '';
}

function bounds(s: Schema): string {
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`>= ${s.minimum}`);
  if (s.maximum !== undefined) parts.push(`<= ${s.maximum}`);
  return parts.length === 0 ? '' : ` ${parts.join(' and ')}`;
}

function stringNoun(s: Schema): string {
  const length =
    s.minLength === 1 && s.maxLength === undefined ? '' : range(s, 'minLength', 'maxLength', ' characters');
  const base = s.minLength === 1 && s.maxLength === undefined ? 'a non-empty string' : `a string${length}`;
  return s.pattern === undefined ? base : `${base} matching ${s.pattern}`;
}

function objectNoun(s: Schema): string {
  const props = Object.entries(s.properties as Record<string, TSchema>);
  if (props.length > 3) return 'an object';
  return `an object { ${props.map(([k, p]) => `${k}${isOptional(p) ? '?' : ''}: ${noun(p)}`).join(', ')} }`;
}

/** The schema's constraints as a noun phrase: `an integer >= 0`, `one of "inc", "dec"`. */
export function noun(schema: TSchema): string {
  const s = schema as Schema;
  switch (kindOf(schema)) {
    case 'Literal':
      return JSON.stringify(s.const);
    case 'Union': {
      const branches = s.anyOf as TSchema[];
      if (branches.every((b) => kindOf(b) === 'Literal'))
        return `one of ${branches.map((b) => JSON.stringify((b as Schema).const)).join(', ')}`;
      return branches.map(noun).join(' or ');
    }
    case 'String':
      return stringNoun(s);
    case 'Number':
      return `a number${bounds(s)}`;
    case 'Integer':
      return `an integer${bounds(s)}`;
    case 'Boolean':
      return 'true or false';
    case 'Array': {
      const items = s.items as TSchema;
      const each = kindOf(items) === 'Unknown' ? '' : `, each ${noun(items)}`;
      return `an array${range(s, 'minItems', 'maxItems', ' item(s)')}${each}`;
    }
    case 'Object':
      return objectNoun(s);
    case 'Record':
      return 'an object';
    case 'Unknown':
      return 'any value';
    default:
      throw new Error(`shape-codegen: no rule text for a ${kindOf(schema)} schema`);
  }
}

/** Generated sources, deduplicated: one constant per distinct check. */
class Checks {
  readonly names = new Map<string, string>();

  name(schema: TSchema): string {
    // TypeBox's JavaScript, verbatim (its TypeScript flavour annotates inside for-of, which tsc refuses);
    // the module is `@ts-nocheck` and its exports are typed.
    const code = TypeCompiler.Code(schema, [], { language: 'javascript' });
    let name = this.names.get(code);
    if (name === undefined) {
      name = `c${this.names.size}`;
      this.names.set(code, name);
    }
    return name;
  }

  source(): string {
    return [...this.names].map(([code, name]) => `const ${name} = (() => {\n${code}\n})();\n`).join('');
  }
}

function recordValues(s: Schema): TSchema | undefined {
  const patterns = s.patternProperties as Record<string, TSchema> | undefined;
  return patterns === undefined ? undefined : Object.values(patterns)[0];
}

/** The `ShapeNode` literal of a schema, its children first. */
function nodeLiteral(schema: TSchema, checks: Checks): string {
  const s = schema as Schema;
  const kind = kindOf(schema);
  // An object's parts get their own rules; its own says only what it must be.
  const note = (schema as unknown as Record<symbol, string | undefined>)[RULE_NOTE];
  const rule =
    (kind === 'Object' ? 'must be an object' : `must be ${noun(schema)}`) + (note ? ` (${note})` : '');
  const fields = [`check: ${checks.name(schema)}`, `rule: ${JSON.stringify(rule)}`];
  if (kind === 'Object') {
    const props = Object.entries(s.properties as Record<string, TSchema>).map(
      ([k, p]) => `${JSON.stringify(k)}: ${nodeLiteral(p, checks)}`,
    );
    fields.push(`props: { ${props.join(', ')} }`);
    fields.push(`required: ${JSON.stringify((s.required as string[] | undefined) ?? [])}`);
  } else if (kind === 'Array' && kindOf(s.items as TSchema) !== 'Unknown') {
    fields.push(`items: ${nodeLiteral(s.items as TSchema, checks)}`);
  } else if (kind === 'Record') {
    const values = recordValues(s);
    if (values !== undefined && kindOf(values) !== 'Unknown')
      fields.push(`values: ${nodeLiteral(values, checks)}`);
  }
  return `{ ${fields.join(', ')} }`;
}

/**
 * A TypeScript module exporting one `ShapeNode` per entry of `exports` (name → schema), and each entry of
 * `constants` (name → JSON value read off the schemas) as a readonly constant. `header` is the module's doc
 * comment (what it is generated from, how to regenerate).
 */
export function shapeModuleSource(
  header: string,
  modelImport: string,
  exports: Record<string, TSchema>,
  constants: Record<string, unknown> = {},
): string {
  const checks = new Checks();
  const nodes = Object.entries(exports).map(
    ([name, schema]) => `export const ${name}: ShapeNode = ${nodeLiteral(schema, checks)};\n`,
  );
  for (const [name, value] of Object.entries(constants))
    nodes.push(`export const ${name} = ${JSON.stringify(value)} as const;\n`);
  return [
    `/**\n${header
      .split('\n')
      .map((l) => ` * ${l}`.trimEnd())
      .join('\n')}\n */\n`,
    "// @ts-nocheck: the checks are TypeBox's generated JavaScript\n",
    `import type { ShapeNode } from '${modelImport}';\n\n`,
    checks.source(),
    '\n',
    ...nodes,
  ].join('');
}
