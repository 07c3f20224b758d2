/**
 * The service image's Docker build context, staged as an allow-list: a folder holding only the Dockerfile
 * and what service/build.mjs (esbuild, the script the bundle test runs) makes from service/main.ts: the
 * bundle (`main.js`, `main.js.map`) and the status page's `static/` folder. Nothing else of the project — sources, tests, `.git`, `.env`
 * files, `node_modules` — can reach the image, and the same staging works from a checkout and from the
 * installed npm package (which has no lockfile for an `npm ci` inside Docker).
 *
 * The bundle is pure JavaScript (no native modules), so one bundle serves arm64 and x86_64 images.
 * When the stack skips bundling (`aws:cdk:bundling-stacks`, e.g. `cdk deploy OtherStack` or unit tests),
 * a placeholder stands in for the bundle, as CDK does for Lambda assets.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What the staged context holds besides the Dockerfile: the bundle and the status page's static folder. */
export const SERVICE_IMAGE_FILES: readonly string[] = ['main.js', 'main.js.map', 'static'];

/**
 * The container health check, as run by ECS (the task's `healthCheck`) and by Docker (the Dockerfile's
 * HEALTHCHECK, which a test keeps identical): GET /-/healthy on the container's port, exit 0 on 200.
 */
export const SERVICE_HEALTHCHECK_SCRIPT =
  "require('http').get('http://127.0.0.1:'+(process.env.ACCRUE_PORT||9091)+'/-/healthy',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))";

export interface StageServiceImageOptions {
  /** Project root: where service/build.mjs and the Dockerfile are. */
  readonly projectRoot: string;
  /** Dockerfile, relative to `projectRoot` (or absolute). */
  readonly dockerfile: string;
  /** The folder to (re)create as the build context. */
  readonly outDir: string;
  /** Whether to bundle the service; false writes a placeholder bundle. */
  readonly bundle: boolean;
}

/** Creates the build context folder and returns it. */
export function stageServiceImage(o: StageServiceImageOptions): string {
  rmSync(o.outDir, { recursive: true, force: true });
  mkdirSync(o.outDir, { recursive: true });
  copyFileSync(path.resolve(o.projectRoot, o.dockerfile), path.join(o.outDir, 'Dockerfile'));
  if (o.bundle) {
    execFileSync(process.execPath, [path.join(o.projectRoot, 'service', 'build.mjs'), o.outDir], {
      cwd: o.projectRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } else {
    const note = '// bundling skipped for this stack (aws:cdk:bundling-stacks)\n';
    for (const f of ['main.js', 'main.js.map']) writeFileSync(path.join(o.outDir, f), note);
    mkdirSync(path.join(o.outDir, 'static'));
  }
  return o.outDir;
}
