/**
 * Profiles through the construct: a profile file is validated with the full loader at synth (synth fails
 * listing every problem), converted to JSON and embedded in the ingest bundle with esbuild `define`.
 */
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { AccrueGateway, checkAccrueGatewayProps, ingestProfile } from '../../../infra/accrue-gateway';
import { REPO_ROOT } from '../../../infra/bundling';
import { compileProfile, loadDeployedProfile, loadProfile, ProfileError } from '../../../shared/profiles';
import { buildGateway, cleanup, newStack, STUB_PROPS } from './helpers';

const FIXTURES = 'test/unit/infra/fixtures';
const DESK_YAML = `${FIXTURES}/desk.profile.yaml`;
const BROKEN_JSON = `${FIXTURES}/broken.profile.json`;

afterEach(cleanup);

describe('ingestProfile (what the ingest Lambda gets)', () => {
  it('passes a built-in profile by name, with nothing embedded', () => {
    expect(ingestProfile('aria', REPO_ROOT)).toEqual({ env: 'aria', define: {} });
  });

  it.each([
    ['a YAML file (relative to projectRoot)', DESK_YAML, REPO_ROOT],
    ['the same file by absolute path', path.join(REPO_ROOT, DESK_YAML), '/nonexistent'],
  ])('embeds %s as the JSON the Lambda compiles to the same profile', (_n, profile, root) => {
    const shipped = ingestProfile(profile, root);
    expect(shipped.env).toBe('embedded:desk');
    expect(Object.keys(shipped.define)).toEqual(['ACCRUE_EMBEDDED_PROFILE']);
    // The define is a JS string literal of the JSON (JSON.parse at cold start, quotes/newlines intact).
    const literal = shipped.define['ACCRUE_EMBEDDED_PROFILE']!;
    const embedded: unknown = JSON.parse(JSON.parse(literal) as string);
    const full = loadProfile(path.join(REPO_ROOT, DESK_YAML));
    expect(embedded).toEqual(full.definition);
    expect((embedded as { description: string }).description).toContain('"as is"\nsecond');
    expect(loadDeployedProfile(shipped.env, embedded)).toEqual(compileProfile(full.definition, shipped.env));
  });

  it.each([
    ['an unknown built-in name', 'acme', /acme: is neither a built-in profile/],
    ['__proto__', '__proto__', /is neither a built-in profile/],
    ['constructor', 'constructor', /is neither a built-in profile/],
    ['a missing file', `${FIXTURES}/missing.json`, /missing\.json: can't be read/],
    ['an invalid profile', BROKEN_JSON, /metrics\.broken_total\.lables/],
  ])('refuses %s with a ProfileError', (_n, profile, message) => {
    const run = () => ingestProfile(profile, REPO_ROOT);
    expect(run).toThrow(ProfileError);
    expect(run).toThrow(message);
  });
});

describe('the construct checks a profile at synth', () => {
  it('lists every problem of an invalid profile file as a profile prop problem', () => {
    const problems = checkAccrueGatewayProps({ profile: BROKEN_JSON });
    expect(problems.every((p) => p.path === 'profile')).toBe(true);
    const text = problems.map((p) => p.message).join('\n');
    expect(text).toMatch(/broken\.profile\.json: metrics\.broken_total\.lables: /);
    expect(text).toMatch(/events\.tick\.emit\[0\]\.metric: no metric "broken_missing"/);
  });

  it('fails synth before building anything, together with the other prop problems', () => {
    const stack = newStack();
    const build = () =>
      new AccrueGateway(stack, 'Gateway', { ...STUB_PROPS, profile: BROKEN_JSON, batchSize: 0 });
    expect(build).toThrow(
      /invalid prop\(s\).*batchSize.*profile: .*broken\.profile\.json: metrics\.broken_total\.lables/s,
    );
    // Nothing was built inside the construct.
    expect(stack.node.findAll().some((c) => c.node.id === 'IngestFunction')).toBe(false);
  });

  it.each([
    ['the default (aria)', {}, 'aria'],
    ['a YAML profile file', { profile: DESK_YAML }, 'embedded:desk'],
  ])('sets ACCRUE_PROFILE of the ingest function for %s', (_n, props, env) => {
    const { template } = buildGateway(props);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('aggregates SQS batches'),
      Environment: { Variables: Match.objectLike({ ACCRUE_PROFILE: env }) },
    });
  });
});
