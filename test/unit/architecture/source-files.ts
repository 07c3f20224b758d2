import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The TypeScript sources under `dir` (no declarations, no node_modules or cdk.out), recursively. */
export function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'cdk.out') continue;
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
