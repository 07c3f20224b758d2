// Bundles the service entry (service/main.ts) into one file with esbuild; used by service/Dockerfile and
// by test/integration/service-bundle.test.ts. The status page's static/ folder is copied beside it. Usage: node service/build.mjs [outdir] (default dist/service).
// `buildLocal` bundles what `npm start` runs (service/local.ts) the same way, for `npm run hostile -- --bundle`
// (the gateway's memory without the tsx loader); its SQS emulator stays a file beside it (fauxqs is ESM-only
// and resolved from node_modules, so the folder must be inside the repository). It goes to .accrue/ (ignored
// by git and not in the package's `files`), never to dist/, which `npm pack` ships.
import { execFileSync } from 'node:child_process';
import { cp, mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `git <args>` in the repository, or 'unknown' (a Docker build context has no .git). */
function git(args) {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** What /api/v1/status reports as build_information (service/build-info.ts), in the Pushgateway's form. */
function buildStamp() {
  const d = new Date().toISOString(); // 2026-12-03T10:14:32.123Z -> 20261203-10:14:32
  return {
    revision: git(['rev-parse', 'HEAD']),
    branch: git(['rev-parse', '--abbrev-ref', 'HEAD']),
    buildUser: `${userInfo().username}@${hostname()}`,
    buildDate: `${d.slice(0, 10).replaceAll('-', '')}-${d.slice(11, 19)}`,
  };
}

/** @param {string} outdir @returns {Promise<string>} the bundle's path */
export async function buildService(outdir = join(root, 'dist', 'service')) {
  return bundle(join(root, 'service', 'main.ts'), outdir, 'main.js');
}

/** @param {string} outdir @returns {Promise<string>} the bundle of `npm start` (service/local.ts) */
export async function buildLocal(outdir = join(root, '.accrue', 'hostile-bundle')) {
  const out = await bundle(join(root, 'service', 'local.ts'), outdir, 'local.js');
  await cp(join(root, 'service', 'local', 'sqs-emulator.mjs'), join(outdir, 'sqs-emulator.mjs'));
  return out;
}

/** @param {string} entry @param {string} outdir @param {string} name @returns {Promise<string>} */
async function bundle(entry, outdir, name) {
  await mkdir(outdir, { recursive: true });
  const outfile = join(outdir, name);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    define: { __ACCRUE_BUILD__: JSON.stringify(buildStamp()) },
  });
  // The status page's script and style are files next to the bundle (service/status/assets.ts).
  await cp(join(root, 'service', 'status', 'static'), join(outdir, 'static'), { recursive: true });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await buildService(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`${out}\n`);
}
