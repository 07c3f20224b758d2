// Bundles the service entry (service/main.ts) into one file with esbuild; used by service/Dockerfile and
// by test/integration/service-bundle.test.ts. The status page's static/ folder is copied beside it. Usage: node service/build.mjs [outdir] (default dist/service).
import { cp, mkdir } from 'node:fs/promises';
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
  // The status page's script and style are files next to the bundle (service/status/assets.ts).
  await cp(join(root, 'service', 'status', 'static'), join(outdir, 'static'), { recursive: true });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await buildService(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`${out}\n`);
}
