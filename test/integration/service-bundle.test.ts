/**
 * The bundle the Dockerfile builds (service/build.mjs → one main.js) starts with plain node, answers
 * /-/healthy and a push, and stops cleanly on SIGTERM. (Docker itself can't run here.)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');

describe('service bundle', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'accrue-bundle-'));
  });
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds one file that serves /-/healthy, a push and /metrics, and exits 0 on SIGTERM', async () => {
    const out = execFileSync(process.execPath, [join(root, 'service/build.mjs'), join(dir, 'out')], {
      encoding: 'utf8',
    }).trim();
    expect(out).toBe(join(dir, 'out', 'main.js'));
    expect(existsSync(out)).toBe(true);
    // Dependencies are inside the file: it runs from a temp folder with no node_modules above it.
    for (let d = dirname(out); d !== dirname(d); d = dirname(d))
      expect(existsSync(join(d, 'node_modules'))).toBe(false);
    child = spawn(process.execPath, [out], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        ACCRUE_PORT: '0',
        ACCRUE_HOST: '127.0.0.1',
        ACCRUE_DATA_DIR: join(dir, 'data'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const c = child;
    const base = await new Promise<string>((resolveBase, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no listen line; output: ${buf}`)), 20_000);
      c.stdout!.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolveBase(m[1]!);
        }
      });
      c.on('exit', (code) => reject(new Error(`exited ${code}: ${buf}`)));
    });
    const h = await fetch(`${base}/-/healthy`);
    expect(h.status).toBe(200);
    expect(
      (await fetch(`${base}/metrics/job/bundle`, { method: 'PUT', body: '# TYPE b gauge\nb 1\n' })).status,
    ).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^b\{instance="",job="bundle"\} 1$/m);
    // The status page and its script and style, which the bundle serves from the copied static/ folder.
    expect(await (await fetch(`${base}/`)).text()).toContain('job="bundle"');
    const js = await fetch(`${base}/static/status.js`);
    expect([js.status, js.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    const script = await js.text();
    expect(script).toContain('confirm-delete');
    // The minified bundle's shared/format/ago.ts, put in front of the script, still runs on its own.
    const prelude = script.slice(0, script.indexOf(');\n') + 3);
    const accrueAgo = new Function(`${prelude}return accrueAgo;`)() as (ms: number, nowMs: number) => string;
    expect([accrueAgo(0, 23_000), accrueAgo(0, 7_200_000), accrueAgo(4_000, 0)]).toEqual([
      '23 s ago',
      '2 h ago',
      'in 4 s',
    ]);
    expect((await fetch(`${base}/static/status.css`)).status).toBe(200);
    // The bundle carries its build stamp (service/build.mjs): a 40-hex revision in a git checkout.
    const build = (
      (await (await fetch(`${base}/api/v1/status`)).json()) as {
        data: { build_information: Record<string, string> };
      }
    ).data.build_information;
    expect(build['revision']).toMatch(/^[0-9a-f]{40}$/);
    expect(build['buildDate']).toMatch(/^\d{8}-\d\d:\d\d:\d\d$/);
    const code = await new Promise<number | null>((res) => {
      c.on('exit', (cd) => res(cd));
      c.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
