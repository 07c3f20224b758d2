/**
 * The real `npx cdk synth` of the app (cdk.json), offline: no credentials, no Docker (the image asset is
 * only staged), Lambda code bundled by the local esbuild, cdk-nag applied. Then the cloud assembly is read.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../../infra/bundling';
import { cleanup, tempDir } from './helpers';

afterAll(cleanup);

interface Assembly {
  dir: string;
  template: {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    Outputs: Record<string, unknown>;
  };
  assets: {
    files: Record<string, { source: { path: string; packaging: string } }>;
    dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
  };
}

let asm: Assembly;
let output = '';

beforeAll(async () => {
  const out = tempDir('accrue-cdk-synth-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    TMPDIR: out,
  };
  delete env['AWS_ACCESS_KEY_ID'];
  delete env['AWS_SECRET_ACCESS_KEY'];
  delete env['CDK_VALIDATION']; // the CLI run keeps CloudFormation's own validation on
  const code = await new Promise<number | null>((resolve, reject) => {
    // No --quiet: cdk.json sets it, so synth prints no template.
    const child = spawn('npx', ['cdk', 'synth', '-o', path.join(out, 'cdk.out')], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`cdk synth exited with ${code}:\n${output}`);
  const dir = path.join(out, 'cdk.out');
  asm = {
    dir,
    template: JSON.parse(readFileSync(path.join(dir, 'Accrue.template.json'), 'utf8')),
    assets: JSON.parse(readFileSync(path.join(dir, 'Accrue.assets.json'), 'utf8')),
  };
}, 180_000);

const count = (type: string) => Object.values(asm.template.Resources).filter((r) => r.Type === type).length;

describe('npx cdk synth (offline)', () => {
  it.each([
    ['AWS::SQS::Queue', 2],
    ['AWS::Lambda::Function', 3], // ingest, janitor, CDK's default-security-group restriction (feature flag)
    ['AWS::Lambda::EventSourceMapping', 1],
    ['AWS::DynamoDB::Table', 2],
    ['AWS::ECS::Service', 1],
    ['AWS::ElasticLoadBalancingV2::LoadBalancer', 1],
    ['AWS::Events::Rule', 1],
    ['AWS::CloudWatch::Alarm', 7],
    ['AWS::SNS::Topic', 1],
  ])('has %s x%i', (type, n) => {
    expect(count(type)).toBe(n);
  });

  it('outputs the queue, DLQ, key, URLs, VPC, security group and tables', () => {
    const keys = Object.keys(asm.template.Outputs);
    for (const name of [
      'QueueUrl',
      'QueueArn',
      'DeadLetterQueueUrl',
      'DeadLetterQueueArn',
      'KmsKeyArn',
      'ServiceUrl',
      'MetricsUrl',
      'VpcId',
      'LoadBalancerSecurityGroupId',
      'SeriesTableName',
      'LedgerTableName',
    ])
      expect([name, keys.some((k) => k.startsWith(`Gateway${name}`))]).toEqual([name, true]);
  });

  it('passes cdk-nag (the validation report lists no AwsSolutions violation)', () => {
    const report = JSON.parse(readFileSync(path.join(asm.dir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: { ruleName: string }[] }[];
    };
    const violations = report.pluginReports.flatMap((r) => r.violations ?? []);
    expect(violations.filter((v) => v.ruleName.startsWith('AwsSolutions'))).toEqual([]);
    expect(output).not.toMatch(/AwsSolutions-\w+/);
  });

  it('is quiet: no template on stdout, no unconfigured feature flags, and the push-open warning', () => {
    expect(output).not.toMatch(/^Resources:/m);
    expect(output).not.toMatch(/AWSTemplateFormatVersion/);
    expect(output).not.toMatch(/feature flags are not configured/);
    expect(output).toMatch(/push is open: without pushAuthSecret/);
    expect(output.split('\n').length).toBeLessThan(60);
  });

  it('bundles both functions as minified CJS with source maps, the AWS SDK left to the runtime', () => {
    const zips = Object.values(asm.assets.files).filter(
      (f) =>
        f.source.packaging === 'zip' && /^Gateway\//.test((f as { displayName?: string }).displayName ?? ''),
    );
    expect(zips).toHaveLength(2);
    for (const f of zips) {
      const folder = path.join(asm.dir, f.source.path);
      const js = readFileSync(path.join(folder, 'index.js'), 'utf8');
      expect(existsSync(path.join(folder, 'index.js.map'))).toBe(true);
      expect(js.length / js.split('\n').length).toBeGreaterThan(1000); // minified: long lines, no indentation
      expect(js).not.toMatch(/\n {4}\w/);
      expect(js).toMatch(/exports|module\.exports/);
    }
    const ingest = zips
      .map((f) => readFileSync(path.join(asm.dir, f.source.path, 'index.js'), 'utf8'))
      .find((js) => js.includes('accrue-ingest'));
    expect(ingest).toBeDefined();
    expect(ingest).toMatch(/require\("@aws-sdk\/client-sqs"\)/);
  });

  it('stages the Docker build context as an allow-list: the Dockerfile, the service bundle and its static files only', () => {
    const images = Object.values(asm.assets.dockerImages);
    expect(images).toHaveLength(1);
    const img = images[0]!;
    expect(img.source.platform).toBe('linux/arm64');
    const ctx = path.join(asm.dir, img.source.directory);
    expect(readdirSync(ctx).sort()).toEqual(['Dockerfile', 'main.js', 'main.js.map', 'static']);
    const bundle = readFileSync(path.join(ctx, 'main.js'), 'utf8');
    expect(bundle).toContain('/-/healthy');
    expect(statSync(path.join(ctx, 'main.js')).size).toBeGreaterThan(100_000); // the real bundle, not a placeholder
  });
});
