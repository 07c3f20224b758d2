/**
 * The status page's script and style, read once from ./static (next to this module in the source tree,
 * next to the bundle in the container: service/build.mjs copies the folder). Served as same-origin files
 * because the page's CSP allows no inline script or style.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

export function loadAssets(dir = STATIC_DIR): ReadonlyMap<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(TYPES)) {
    const body = readFileSync(join(dir, name), 'utf8');
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    out.set(name, { body, contentType, etag });
  }
  return out;
}
