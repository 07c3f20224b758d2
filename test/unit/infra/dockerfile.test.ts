/**
 * service/Dockerfile and its staged build context, checked without Docker (none here): the base image is
 * pinned by digest; the Node flags (NODE_OPTIONS and the CMD's) are accepted by the Node running the tests
 * (CI: Node 20; the image: Node 22) — Node 20 refuses V8 flags in NODE_OPTIONS; the HEALTHCHECK is the
 * construct's ECS health check and tells a healthy service from a failing one; the staged context holds
 * exactly what the Dockerfile copies, and that bundle, started as the CMD starts it, passes the health check.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  SERVICE_HEALTHCHECK_SCRIPT,
  SERVICE_IMAGE_FILES,
  stageServiceImage,
} from '../../../infra/service-image';
import { cleanup, tempDir } from './helpers';

const ROOT = path.join(__dirname, '..', '..', '..');
const DOCKERFILE = readFileSync(path.join(ROOT, 'service', 'Dockerfile'), 'utf8');

/** Instructions with their continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

const INSTR = instructions(DOCKERFILE);
const one = (op: string) => {
  const found = INSTR.filter((i) => i.op === op);
  expect(found).toHaveLength(1);
  return found[0]!.args;
};

/** NODE_OPTIONS from the ENV instruction. */
function nodeOptions(): string {
  const m = /NODE_OPTIONS="([^"]*)"/.exec(one('ENV'));
  expect(m).not.toBeNull();
  return m![1]!;
}

/** The CMD's exec form, e.g. ["node", "--flag", "main.js"]. */
function cmd(): string[] {
  return JSON.parse(one('CMD')) as string[];
}

function runNode(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, args, {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr };
}

/** The same, without blocking the event loop (for a server in this process). */
function runNodeAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: 'ignore',
    });
    c.on('error', reject);
    c.on('exit', (code) => resolve(code));
  });
}

afterAll(cleanup);

describe('service/Dockerfile', () => {
  it('pins its one base image by digest', () => {
    expect(one('FROM')).toMatch(/^node:22[\w.-]*-alpine[\w.]*@sha256:[0-9a-f]{64}$/);
  });

  it(`has Node flags that Node ${process.versions.node} accepts, in NODE_OPTIONS and on the command line`, () => {
    const [bin, ...rest] = cmd();
    expect(bin).toBe('node');
    const flags = rest.slice(0, -1);
    expect(rest.at(-1)).toBe('main.js');
    const r = runNode([...flags, '-e', 'process.exit(0)'], { NODE_OPTIONS: nodeOptions() });
    expect(r).toEqual({ status: 0, stderr: '' });
  });

  it('would catch a flag Node refuses in NODE_OPTIONS (the check can fail)', () => {
    const r = runNode(['-e', 'process.exit(0)'], { NODE_OPTIONS: `${nodeOptions()} --no-such-flag-here` });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not allowed in NODE_OPTIONS|bad option/);
  });

  it("runs the ECS task's health check command as its HEALTHCHECK", () => {
    const m = /CMD (\[.*\])$/.exec(one('HEALTHCHECK'));
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1]!)).toEqual(['node', '-e', SERVICE_HEALTHCHECK_SCRIPT]);
  });

  it('copies only the staged files', () => {
    const copies = INSTR.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copies.flat().sort()).toEqual([...SERVICE_IMAGE_FILES].sort());
    expect(INSTR.filter((i) => i.op === 'ADD')).toEqual([]);
  });
});

describe('health check script', () => {
  let server: Server;
  let status = 200;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/-/healthy' ? status : 404;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([
    [200, 0],
    [503, 1],
  ])('exits %i → %i', async (code, exit) => {
    status = code;
    expect(await runNodeAsync(['-e', SERVICE_HEALTHCHECK_SCRIPT], { ACCRUE_PORT: String(port) })).toBe(exit);
  });

  it('exits 1 when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await runNodeAsync(['-e', SERVICE_HEALTHCHECK_SCRIPT], { ACCRUE_PORT: String(free) })).toBe(1);
  });
});

describe('staged build context', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  beforeAll(() => {
    dir = stageServiceImage({
      projectRoot: ROOT,
      dockerfile: 'service/Dockerfile',
      outDir: path.join(tempDir('accrue-image-'), 'context'),
      bundle: true,
    });
  }, 60_000);
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('holds the Dockerfile, the bundle and the static folder, nothing else', () => {
    expect(readdirSync(dir).sort()).toEqual(['Dockerfile', ...SERVICE_IMAGE_FILES].sort());
    expect(readdirSync(path.join(dir, 'static')).length).toBeGreaterThan(0);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(DOCKERFILE);
  });

  it('starts as the CMD starts it, with the image environment, and passes the health check', async () => {
    const [, ...rest] = cmd();
    const data = tempDir('accrue-image-data-');
    child = spawn(process.execPath, rest, {
      cwd: dir,
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'production',
        NODE_OPTIONS: nodeOptions(),
        ACCRUE_HOST: '127.0.0.1',
        ACCRUE_PORT: '0',
        ACCRUE_DATA_DIR: data,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    const deadline = Date.now() + 30_000;
    let port: string | undefined;
    while (Date.now() < deadline && port === undefined) {
      port = /127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(port).toBeDefined();
    expect(await runNodeAsync(['-e', SERVICE_HEALTHCHECK_SCRIPT], { ACCRUE_PORT: port! })).toBe(0);
    // The status page's files come from the staged static/ folder.
    expect((await fetch(`http://127.0.0.1:${port}/static/status.css`)).status).toBe(200);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child!.on('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  }, 60_000);
});
