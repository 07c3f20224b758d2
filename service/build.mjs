// Bundles the service entry (service/main.ts) into one file with esbuild; used by service/Dockerfile and
// by test/integration/service-bundle.test.ts. Usage: node service/build.mjs [outdir] (default dist/service).
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} outdir @returns {Promise<string>} the bundle's path */
export async function buildService(outdir = join(root, 'dist', 'service')) {
  await mkdir(outdir, { recursive: true });
  const outfile = join(outdir, 'main.js');
  await build({
    entryPoints: [join(root, 'service', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await buildService(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`${out}\n`);
}
