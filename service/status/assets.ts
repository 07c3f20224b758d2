/**
 * The status page's script and style, read once from ./static (next to this module in the source tree,
 * next to the bundle in the container: service/build.mjs copies the folder). Served as same-origin files
 * because the page's CSP allows no inline script or style. The script is served with the one "… ago"
 * rule (shared/format/ago.ts) in front of it, as the global `accrueAgo`: the browser runs the same
 * function as the server and the CLI, not a copy.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ago } from '../../shared/format/ago';

export interface Asset {
  readonly body: string;
  readonly contentType: string;
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  'status.js': 'text/javascript; charset=utf-8',
  'status.css': 'text/css; charset=utf-8',
};

/** The folder the assets are read from (also used by the bundle build). */
export const STATIC_DIR = join(__dirname, 'static');

/** What is put in front of status.js: `accrueAgo(ms, nowMs)`, the compiled shared/format/ago.ts (self-contained). */
export const STATUS_SCRIPT_PRELUDE = `const accrueAgo = (${ago.toString()});\n`;

export function loadAssets(dir = STATIC_DIR): ReadonlyMap<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(TYPES)) {
    const file = readFileSync(join(dir, name), 'utf8');
    const body = name === 'status.js' ? STATUS_SCRIPT_PRELUDE + file : file;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    out.set(name, { body, contentType, etag });
  }
  return out;
}
