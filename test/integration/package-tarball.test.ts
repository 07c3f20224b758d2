/**
 * The npm package as another team gets it: `npm pack` (prepack runs the build: JS + .d.ts in dist/), the
 * tarball unpacked into a fresh CDK app's node_modules, the app type-checked against the package's types
 * and synthesized with `AccrueGateway` on an existing VPC with auth secrets — Lambda bundles and the
 * service image context made from the installed package, not the checkout.
 *
 * Offline: the package's dependencies are linked from this checkout's node_modules (the npm cache here
 * can't serve an `npm install --offline`), and instead a test checks that every package the shipped code
 * imports is declared in the package's dependencies or peerDependencies — what a real install relies on.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const ROOT_PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

let work: string;
let pkgDir: string;
let appDir: string;
let files: string[];

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, {
    cwd,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'accrue-pack-'));
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', work], ROOT, { npm_config_loglevel: 'silent' }),
  ) as { filename: string; files: { path: string }[] }[];
  files = packed[0]!.files.map((f) => f.path);
  appDir = path.join(work, 'app');
  pkgDir = path.join(appDir, 'node_modules', ROOT_PKG.name);
  mkdirSync(pkgDir, { recursive: true });
  run('tar', ['-xzf', path.join(work, packed[0]!.filename), '-C', pkgDir, '--strip-components=1'], work);
  // Dependencies and peers from this checkout (see the file comment).
  for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name.startsWith('.') || name === ROOT_PKG.name) continue;
    symlinkSync(path.join(ROOT, 'node_modules', name), path.join(appDir, 'node_modules', name));
  }
  // npm links the dependencies' executables (esbuild, which the construct runs at synth) here.
  symlinkSync(path.join(ROOT, 'node_modules', '.bin'), path.join(appDir, 'node_modules', '.bin'));
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the built entry points with types, the sources the construct bundles, and no tests', () => {
    for (const f of [
      'package.json',
      'CHANGELOG.md',
      'dist/infra/index.js',
      'dist/infra/index.d.ts',
      'dist/shared/client/index.js',
      'dist/shared/client/index.d.ts',
      'functions/ingest/index.ts',
      'functions/janitor/index.ts',
      'service/main.ts',
      'service/build.mjs',
      'service/Dockerfile',
    ])
      expect([f, files.includes(f)]).toEqual([f, true]);
    expect(files.filter((f) => /^(test|bench|ops|node_modules|cdk\.out|\.git)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('package-lock.json'))).toEqual([]);
  });

  it('declares every package its shipped code imports (dependencies or peerDependencies)', () => {
    const declared = new Set([
      ...Object.keys(ROOT_PKG.dependencies),
      ...Object.keys(ROOT_PKG.peerDependencies),
    ]);
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const missing = new Set<string>();
    for (const f of files.filter((f) => /\.(js|mjs|ts)$/.test(f) && !f.endsWith('.d.ts'))) {
      const text = readFileSync(path.join(pkgDir, f), 'utf8');
      // Runtime imports only: `import type` and `export type` vanish in the bundle.
      const specs = [
        ...text.matchAll(/(?:^|[^.\w])require\(\s*['"]([^'"]+)['"]\s*\)/g),
        ...text.matchAll(/^\s*import\s+(?!type\b)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm),
        ...text.matchAll(/^\s*export\s+(?!type\b)[^'"]*?\s+from\s+['"]([^'"]+)['"]/gm),
      ].map((m) => m[1]!);
      for (const s of specs) {
        if (s.startsWith('.') || builtins.has(s) || builtins.has(s.split('/')[0]!)) continue;
        const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
        if (!declared.has(name)) missing.add(`${name} (${f})`);
      }
    }
    expect([...missing].sort()).toEqual([]);
  });
});

describe('a CDK app using the installed package', () => {
  let outdir: string;
  let output: string;
  beforeAll(() => {
    writeFileSync(
      path.join(appDir, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        dependencies: { [ROOT_PKG.name]: ROOT_PKG.version },
      }),
    );
    writeFileSync(
      path.join(appDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'node16',
          moduleResolution: 'node16',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['app.ts'],
      }),
    );
    // The app a platform engineer writes: an existing VPC (no lookup: no credentials here), auth secrets,
    // a producer granted send; the publisher client from the same package.
    writeFileSync(
      path.join(appDir, 'app.ts'),
      `import { App, Stack, aws_ec2 as ec2, aws_iam as iam, aws_secretsmanager as sm } from 'aws-cdk-lib';
import { AccrueGateway, type AccrueGatewayProps } from '${ROOT_PKG.name}/cdk';
import { AccruePublisher } from '${ROOT_PKG.name}';

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Shared', {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidrBlock: '10.50.0.0/16',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  publicSubnetIds: ['subnet-0000000000000000a', 'subnet-0000000000000000b'],
  privateSubnetIds: ['subnet-0000000000000001a', 'subnet-0000000000000001b'],
});
const props: AccrueGatewayProps = {
  existingVpc: vpc,
  pushAuthSecret: sm.Secret.fromSecretCompleteArn(stack, 'Push', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:accrue/push-AbCdEf'),
  scrapeAuthSecret: sm.Secret.fromSecretCompleteArn(stack, 'Scrape', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:accrue/scrape-GhIjKl'),
};
const gateway = new AccrueGateway(stack, 'Accrue', props);
gateway.grantSend(new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() }));
const publisher: typeof AccruePublisher = AccruePublisher;
if (typeof publisher !== 'function') throw new Error('AccruePublisher is not exported');
app.synth();
`,
    );
    // Type-checked against the package's .d.ts (exports → types) while compiled; a type error fails it.
    run(
      process.execPath,
      [
        path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        '.',
        '--noEmit',
        'false',
        '--outDir',
        'build',
      ],
      appDir,
    );
    outdir = path.join(work, 'cdk.out');
    output = run(process.execPath, [path.join(appDir, 'build', 'app.js'), outdir], appDir, {
      CDK_VALIDATION: 'false',
    });
  }, 240_000);

  it('synthesizes with the existing VPC: no VPC created, the service in its private subnets', () => {
    const t = JSON.parse(readFileSync(path.join(outdir, 'Consumer.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const types = Object.values(t.Resources).map((r) => r.Type);
    expect(types).not.toContain('AWS::EC2::VPC');
    expect(types.filter((x) => x === 'AWS::DynamoDB::Table')).toHaveLength(2);
    const service = Object.values(t.Resources).find((r) => r.Type === 'AWS::ECS::Service')!;
    expect(JSON.stringify(service.Properties)).toContain('subnet-0000000000000001a');
    const task = Object.values(t.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition')!;
    expect(JSON.stringify(task.Properties)).toContain('accrue/push-AbCdEf');
    expect(output).not.toMatch(/push is open/);
  });

  it('bundled both functions and staged the service image from the installed package', () => {
    const assets = JSON.parse(readFileSync(path.join(outdir, 'Consumer.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
      dockerImages: Record<string, { source: { directory: string } }>;
    };
    const zips = Object.values(assets.files).filter((f) => f.source.packaging === 'zip');
    const bundles = zips.map((f) => readFileSync(path.join(outdir, f.source.path, 'index.js'), 'utf8'));
    expect(bundles.some((js) => js.includes('accrue-ingest'))).toBe(true);
    expect(bundles.every((js) => js.length > 10_000)).toBe(true);
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    const ctx = path.join(outdir, images[0]!.source.directory);
    expect(readdirSync(ctx).sort()).toEqual(['Dockerfile', 'main.js', 'main.js.map', 'static']);
    expect(statSync(path.join(ctx, 'main.js')).size).toBeGreaterThan(100_000);
    expect(existsSync(path.join(pkgDir, 'package-lock.json'))).toBe(false);
  });
});
