/**
 * Short rooms: no function over MAX_FUNCTION_LINES lines and no file over MAX_FILE_LINES lines in the
 * code that runs or measures (shared/, functions/, service/, infra/, bench/, scripts/; tests aside),
 * unless docs/architecture.md ("Size exceptions") lists it with its reason. An entry that is no longer
 * needed fails too, so the list only shrinks.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '../../..');
const SCANNED = ['shared', 'functions', 'service', 'infra', 'bench', 'scripts'];
const MAX_FUNCTION_LINES = 80;
const MAX_FILE_LINES = 600;

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'cdk.out' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Name of a function-like node as a reader finds it: `name`, `Class.method`, `Class.constructor`. */
function nameOf(n: ts.SignatureDeclaration, sf: ts.SourceFile): string {
  const own = ts.isConstructorDeclaration(n) ? 'constructor' : n.name ? n.name.getText(sf) : undefined;
  const parent = n.parent;
  if (own && (ts.isClassDeclaration(parent) || ts.isClassExpression(parent)) && parent.name)
    return `${parent.name.text}.${own}`;
  if (own) return own;
  // An arrow or function expression: the variable or property it is assigned to.
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText(sf);
  return '<anonymous>';
}

/** `path` (file) and `path name` (function) entries over the limits, with their sizes. */
function oversized(): Map<string, number> {
  const out = new Map<string, number>();
  for (const top of SCANNED) {
    for (const f of files(join(ROOT, top))) {
      const rel = relative(ROOT, f);
      const src = readFileSync(f, 'utf8');
      const lines = src.split('\n').length;
      if (lines > MAX_FILE_LINES) out.set(rel, lines);
      const sf = ts.createSourceFile(f, src, ts.ScriptTarget.Latest, true);
      const visit = (n: ts.Node): void => {
        if (ts.isFunctionLike(n) && (n as { body?: ts.Node }).body !== undefined) {
          const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
          const last = sf.getLineAndCharacterOfPosition(n.end).line;
          const size = last - first + 1;
          const key = `${rel} ${nameOf(n as ts.SignatureDeclaration, sf)}`;
          if (size > MAX_FUNCTION_LINES) out.set(key, Math.max(size, out.get(key) ?? 0));
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
  }
  return out;
}

/** The exceptions table of docs/architecture.md: first cell `path` or `path name`, last cell the reason. */
function exceptions(doc: string): Map<string, string> {
  const start = doc.indexOf('<!-- size-exceptions: start -->');
  const end = doc.indexOf('<!-- size-exceptions: end -->');
  if (start < 0 || end < start) throw new Error('docs/architecture.md has no size exceptions table');
  const out = new Map<string, string>();
  for (const line of doc.slice(start, end).split('\n')) {
    const m = /^\| `([^`]+)` \|.*\| ([^|]+) \|$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

describe('sizes (docs/architecture.md, Size exceptions)', () => {
  const found = oversized();
  const allowed = exceptions(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));

  it('every function over 80 lines and file over 600 is listed with a reason', () => {
    const missing = [...found].filter(([k]) => !allowed.has(k)).map(([k, n]) => `${k} (${n} lines)`);
    expect(missing).toEqual([]);
  });

  it('every listed exception is still over its limit (the list only shrinks)', () => {
    expect([...allowed.keys()].filter((k) => !found.has(k))).toEqual([]);
  });

  it('every reason says something', () => {
    for (const [k, why] of allowed) expect(`${k}: ${why}`.length).toBeGreaterThan(k.length + 20);
  });
});
