/**
 * Dead code: an exported function, class, constant, type or interface of the runtime folders that no file
 * names again (not its own module, not another, not a test, bench or script) is removed, not kept "just in
 * case".
 * A grep-level check (identifiers counted as words), cheap enough to run with the unit tests.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '../../..');
const RUNTIME = ['shared', 'functions', 'service', 'infra'];
const EVERYWHERE = [...RUNTIME, 'test', 'bench', 'scripts', 'bin'];

/** Exports nothing uses yet, each with its reason (none today: keep it that way). */
const ALLOWED: Record<string, string> = {};

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'cdk.out' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (/\.(ts|mts|js|mjs|cjs)$/.test(name)) out.push(p);
  }
  return out;
}

describe('no unused exports', () => {
  it('every exported function, class, constant and type is named somewhere else than its declaration', () => {
    const counts = new Map<string, number>();
    const sources = new Map<string, string>();
    for (const top of EVERYWHERE) {
      for (const f of files(join(ROOT, top))) {
        if (f === __filename) continue; // its allow-list names what it allows
        const src = readFileSync(f, 'utf8');
        sources.set(f, src);
        for (const word of src.match(/[A-Za-z_$][\w$]*/g) ?? [])
          counts.set(word, (counts.get(word) ?? 0) + 1);
      }
    }
    const unused: string[] = [];
    const allowedSeen = new Set<string>();
    const decl =
      /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|abstract\s+class|type|interface|enum)\s+([A-Za-z_$][\w$]*)/gm;
    for (const [f, src] of sources) {
      const rel = relative(ROOT, f);
      if (!RUNTIME.some((t) => rel.startsWith(`${t}/`))) continue;
      for (let m = decl.exec(src); m !== null; m = decl.exec(src)) {
        const key = `${rel} ${m[1]}`;
        if (counts.get(m[1]!) !== 1) continue;
        if (ALLOWED[key] === undefined) unused.push(key);
        else allowedSeen.add(key);
      }
    }
    expect(unused).toEqual([]);
    // An allowed entry that is used (or gone) leaves the list.
    expect(Object.keys(ALLOWED).filter((k) => !allowedSeen.has(k))).toEqual([]);
  });
});
