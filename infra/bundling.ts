/**
 * How Accrue's Lambda functions are bundled: one definition used by the CDK construct (NodejsFunction's
 * esbuild bundling) and by `bench/bundle.ts` (the esbuild API), so the measured bundle is the deployed one.
 *
 * Decisions:
 * - CommonJS output, target node22 (the Lambda runtime is `nodejs22.x`), minified, tree-shaken (esbuild
 *   does that whenever it bundles), source maps without `sourcesContent` (stack traces keep file/line, the
 *   bundle doesn't carry the sources twice).
 * - The AWS SDK v3 (`@aws-sdk/*` and its `@smithy/*` packages) is NOT bundled: the `nodejs22.x` runtime
 *   provides it (CDK's own default for Node 18+ runtimes). Measured with bench/bundle.ts: bundling it makes
 *   the ingest bundle 690 KB instead of 142 KB (the SDK's @smithy/core alone is 200 KB minified) for no
 *   cold-start gain (CPU time of require + first event 133 ms bundled, 114 ms not). The price:
 *   the deployed code runs the runtime's SDK version, not the one in package-lock.json; Accrue uses
 *   long-stable APIs only (TransactWriteItems, conditional updates, SendMessage). To pin the SDK instead,
 *   set LAMBDA_EXTERNAL_MODULES to [] (docs/deploy.md).
 * - Budget: the ingest bundle stays <= 250 KB minified (`INGEST_BUNDLE_BUDGET_BYTES`; checked by
 *   test/unit/infra/bundle.test.ts and reported by bench/bundle.ts). What keeps it there: the Lambda's
 *   decode path imports no schema library and no YAML parser (shared/model/envelope-constants.ts,
 *   shared/profiles/types.ts and deployed.ts; docs/deploy.md, "Profiles in the Lambda").
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BuildOptions } from 'esbuild';

/**
 * The project root: the nearest folder above this file that holds `functions/ingest/index.ts` — `<root>`
 * when this runs from `<root>/infra` (a checkout), and the package folder when it runs compiled from
 * `<package>/dist/infra` (the npm package ships the sources the construct bundles at synth).
 */
export function findProjectRoot(from: string = __dirname): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'functions', 'ingest', 'index.ts'))) return d;
    if (path.dirname(d) === d)
      throw new Error(`no Accrue project root (functions/ingest/index.ts) above ${from}`);
  }
}

/** The repository (or installed package) root. */
export const REPO_ROOT = findProjectRoot();

/** Size budget of the minified ingest bundle (issue 6). */
export const INGEST_BUNDLE_BUDGET_BYTES = 250 * 1024;

/** esbuild target matching the Lambda runtime `nodejs22.x`. */
export const LAMBDA_NODE_TARGET = 'node22';

/** Modules left out of the bundle: the AWS SDK, which the Lambda runtime provides (see above). */
export const LAMBDA_EXTERNAL_MODULES: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/** NodejsFunction `bundling` options (a plain object so this module doesn't load aws-cdk-lib). */
export function lambdaBundlingOptions(): {
  minify: boolean;
  sourceMap: boolean;
  sourcesContent: boolean;
  target: string;
  externalModules: string[];
  metafile: boolean;
} {
  return {
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    target: LAMBDA_NODE_TARGET,
    externalModules: [...LAMBDA_EXTERNAL_MODULES],
    // NodejsFunction's default format is CJS; `OutputFormat` is left to the construct to avoid loading CDK here.
    metafile: false,
  };
}

/**
 * The same bundle through the esbuild API (bench/bundle.ts, test/unit/infra/bundle.test.ts). `define` is
 * what the construct adds for the ingest function (`ingestProfile(...).define`: an embedded profile).
 */
export function esbuildOptions(
  entry: string,
  outfile: string,
  define: Readonly<Record<string, string>> = {},
): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: LAMBDA_NODE_TARGET,
    minify: true,
    treeShaking: true,
    sourcemap: true,
    sourcesContent: false,
    external: [...LAMBDA_EXTERNAL_MODULES],
    metafile: true,
    define: { ...define },
    logLevel: 'silent',
  };
}

/**
 * Where NodejsFunction runs esbuild (`npx --no-install esbuild` in that folder, which must contain the
 * entries): the nearest folder at or above the project root whose node_modules/.bin has esbuild — the
 * checkout itself, or, for the installed npm package (node_modules/accrue, where npm hoists esbuild to the
 * app's node_modules), the consuming app. NodejsFunction only needs an existing lock file to anchor it
 * (no install runs): that folder's package-lock.json, else the project's package.json (npm packs no lockfile).
 */
export function lambdaBundlingRoot(projectRoot: string): { bundlingRoot: string; lockFile: string } {
  let bundlingRoot = projectRoot;
  for (let d = projectRoot; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules', '.bin', 'esbuild'))) {
      bundlingRoot = d;
      break;
    }
    if (path.dirname(d) === d) break;
  }
  const lockFile = [
    path.join(bundlingRoot, 'package-lock.json'),
    path.join(projectRoot, 'package.json'),
  ].find((f) => existsSync(f))!;
  return { bundlingRoot, lockFile };
}
