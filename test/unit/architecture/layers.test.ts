/**
 * Imports go one way: each module imports only the modules listed above it in docs/architecture.md
 * ("Layers"). The list is read from the doc, so the doc and this check can't disagree.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { sources } from './source-files';

const ROOT = join(__dirname, '../../..');
const SCANNED = ['shared', 'functions', 'service', 'infra'];

/** The layer list between the markers of docs/architecture.md, lowest first. */
function readLayers(doc: string): string[] {
  const start = doc.indexOf('<!-- layers: start -->');
  const end = doc.indexOf('<!-- layers: end -->');
  if (start < 0 || end < start) throw new Error('docs/architecture.md has no layers list');
  const layers: string[] = [];
  for (const line of doc.slice(start, end).split('\n')) {
    const m = /^\d+\. `([^`]+)`/.exec(line);
    if (m) layers.push(m[1]!);
  }
  return layers;
}

/** The layer a repository path belongs to: the longest listed entry that contains it. */
function layerOf(layers: readonly string[], path: string): number {
  let best = -1;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    // A file path (`x.ts`), an import specifier (`x`) or anything under a folder entry (`x/…`).
    const inside = path === l || `${path}.ts` === l || path.startsWith(`${l}/`);
    if (inside && (best < 0 || l.length > layers[best]!.length)) best = i;
  }
  return best;
}

/** Relative import specifiers of a source file (static, type-only, re-exports and dynamic). */
function relativeImports(src: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (let m = re.exec(src); m !== null; m = re.exec(src)) out.push(m[1]!);
  return out;
}

describe('import direction (docs/architecture.md, Layers)', () => {
  const layers = readLayers(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));

  it('the doc lists the layers', () => {
    expect(layers.length).toBeGreaterThan(10);
    expect(layers[0]).toBe('shared/model');
  });

  it('every scanned file belongs to a layer and imports only layers above it', () => {
    const upward: string[] = [];
    const unlisted: string[] = [];
    for (const top of SCANNED) {
      for (const file of sources(join(ROOT, top))) {
        const from = relative(ROOT, file);
        const own = layerOf(layers, from);
        if (own < 0) {
          unlisted.push(from);
          continue;
        }
        for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
          const to = relative(ROOT, normalize(join(dirname(file), spec)));
          if (!SCANNED.some((t) => to === t || to.startsWith(`${t}/`))) continue; // package.json, schema/, …
          const target = layerOf(layers, to);
          if (target > own) upward.push(`${from} imports ${spec} (${layers[own]} → ${layers[target]})`);
          else if (target < 0) unlisted.push(to);
        }
      }
    }
    expect(unlisted).toEqual([]);
    expect(upward).toEqual([]);
  });

  it('finds an upward import (the check could fail)', () => {
    expect(layerOf(layers, 'shared/store/index.ts')).toBeLessThan(layerOf(layers, 'shared/config.ts'));
    expect(
      relativeImports("import type { A } from '../config';\nexport { b } from './b';\nawait import('./c');"),
    ).toEqual(['../config', './b', './c']);
    expect(layerOf(layers, 'shared/store/dynamodb/store.ts')).toBe(layers.indexOf('shared/store/dynamodb'));
    expect(layerOf(layers, 'shared/aws/retry.ts')).toBe(layers.indexOf('shared/aws/retry.ts'));
    expect(layerOf(layers, 'shared/aws/dead-letter.ts')).toBe(layers.indexOf('shared/aws'));
    expect(layerOf(layers, 'shared/config.ts')).toBe(layers.indexOf('shared/config.ts'));
  });
});
