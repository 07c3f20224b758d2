import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import ariaDefinition from './aria.json';
import { compileProfile } from './compile';
import { ProfileError } from './errors';
import type { CompiledProfile } from './types';

/** The built-in ARIA PRO profile (shared/profiles/aria.json), compiled once. */
export const ARIA_PROFILE: CompiledProfile = compileProfile(ariaDefinition, 'built-in profile aria');

const BUILT_IN: ReadonlyMap<string, CompiledProfile> = new Map([['aria', ARIA_PROFILE]]);

/** Parses profile text (JSON or YAML by `format`) and compiles it; errors name `source`. */
export function parseProfile(text: string, format: 'json' | 'yaml', source = 'profile'): CompiledProfile {
  let parsed: unknown;
  try {
    parsed = format === 'json' ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    throw new ProfileError(source, [
      { path: '', message: `is not valid ${format.toUpperCase()}: ${(e as Error).message}` },
    ]);
  }
  return compileProfile(parsed, source);
}

/**
 * A built-in profile by name (`aria`), or a JSON (`.json`) / YAML (`.yaml`, `.yml`) file by path.
 * Throws `ProfileError` with every problem found.
 */
export function loadProfile(nameOrPath: string): CompiledProfile {
  const builtIn = BUILT_IN.get(nameOrPath);
  if (builtIn) return builtIn;
  const ext = extname(nameOrPath).toLowerCase();
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') {
    throw new ProfileError(nameOrPath, [
      {
        path: '',
        message: `is neither a built-in profile (${[...BUILT_IN.keys()].join(', ')}) nor a .json/.yaml/.yml file`,
      },
    ]);
  }
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (e) {
    throw new ProfileError(nameOrPath, [{ path: '', message: `can't be read: ${(e as Error).message}` }]);
  }
  return parseProfile(text, ext === '.json' ? 'json' : 'yaml', nameOrPath);
}
