/**
 * Structural checks generated at build time from TypeBox schemas (`npm run schema` writes them with
 * scripts/shape-codegen.ts; a test fails when a committed file differs from what it generates).
 *
 * A `ShapeNode` is one schema node: its `check` is TypeBox's compiled code for that node, so every
 * accept/refuse decision is the schema's, and `rule` is the node's constraints in words, written by the
 * generator from the same schema. `shapeProblems` only walks: when a node's check refuses a value it
 * descends into the properties, items or record values the node names to point at the part that is wrong,
 * and falls back to the node's own rule when no part is (a missing item count, a wrong type). Nothing
 * here knows any particular schema, so nothing is kept in step with one by hand.
 */
import type { Problem } from './errors';

export interface ShapeNode {
  /** TypeBox's compiled check of this node (generated). */
  readonly check: (value: unknown) => boolean;
  /** The node's rule, e.g. `must be an integer >= 0`. */
  readonly rule: string;
  /** Object nodes: property → node. */
  readonly props?: Readonly<Record<string, ShapeNode>>;
  /** Object nodes: the properties that must be present. */
  readonly required?: readonly string[];
  /** Array nodes: the node of every item. */
  readonly items?: ShapeNode;
  /** Record nodes: the node of every value. */
  readonly values?: ShapeNode;
}

/**
 * A schema option naming why a rule exists, appended to the rule the generator writes (a symbol, so it stays
 * out of the JSON Schema): `Type.String({ pattern, [RULE_NOTE]: "'#' is reserved for the store's part keys" })`.
 */
export const RULE_NOTE = Symbol.for('accrue.rule-note');

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const join = (base: string, key: string): string => (base === '' ? key : `${base}.${key}`);

function objectProblems(
  node: ShapeNode,
  v: Record<string, unknown>,
  path: string,
  problems: Problem[],
): void {
  const props = node.props!;
  const known = Object.keys(props);
  for (const key of Object.keys(v))
    if (!Object.hasOwn(props, key))
      problems.push({ path: join(path, key), message: `unknown field (known: ${known.join(', ')})` });
  for (const key of known) {
    if (!Object.hasOwn(v, key) || v[key] === undefined) {
      if (node.required?.includes(key))
        problems.push({ path: join(path, key), message: `is required (${props[key]!.rule})` });
    } else shapeProblems(props[key]!, v[key], join(path, key), problems);
  }
}

/**
 * Whether `value` passes `node`'s generated check; if not, every problem found is added to `problems`
 * with its path (`metrics.x.help`, `emit[0].op`) and the rule it breaks.
 */
export function shapeProblems(node: ShapeNode, value: unknown, path: string, problems: Problem[]): boolean {
  if (node.check(value)) return true;
  const before = problems.length;
  if (node.props !== undefined && isRecord(value)) objectProblems(node, value, path, problems);
  else if (node.items !== undefined && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) shapeProblems(node.items, value[i], `${path}[${i}]`, problems);
  } else if (node.values !== undefined && isRecord(value)) {
    const values = node.values;
    for (const key of Object.keys(value)) shapeProblems(values, value[key], join(path, key), problems);
  }
  if (problems.length === before) problems.push({ path, message: node.rule });
  return false;
}
