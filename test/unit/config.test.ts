import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../shared/config';
import { ENV } from '../../shared/env-names';

const root = path.join(__dirname, '..', '..');

describe('loadConfig', () => {
  it('gives the documented defaults on an empty environment', () => {
    const c = loadConfig({});
    expect(c.store.kind).toBe('memory');
    expect(c.service.host).toBe('127.0.0.1');
    expect(c.service.port).toBe(9091);
    expect(c.store.groupTtlSeconds).toBe(0);
    expect(c.ingest.profile).toBe('aria');
    expect(c.service.limits?.responseDeadlineMs).toBe(50_000);
  });

  it('reads the response deadline (ACCRUE_RESPONSE_DEADLINE_MS)', () => {
    expect(loadConfig({ ACCRUE_RESPONSE_DEADLINE_MS: '45000' }).service.limits?.responseDeadlineMs).toBe(
      45_000,
    );
  });

  it.each([
    [{ ACCRUE_STORE: 'redis' }, /ACCRUE_STORE: must be memory or dynamodb, got "redis"/],
    [{ ACCRUE_PORT: '-1' }, /ACCRUE_PORT: must be a non-negative integer, got "-1"/],
    [{ ACCRUE_PORT: '1e400' }, /ACCRUE_PORT: must be a non-negative integer/],
    [{ ACCRUE_PORT: '80\n' }, /ACCRUE_PORT: must be a non-negative integer/],
    [{ ACCRUE_ADMIN_API: 'maybe' }, /ACCRUE_ADMIN_API: must be true or false, got "maybe"/],
    [{ ACCRUE_RESPONSE_DEADLINE_MS: '0' }, /ACCRUE_RESPONSE_DEADLINE_MS: must be positive/],
    [
      { ACCRUE_RESPONSE_DEADLINE_MS: '__proto__' },
      /ACCRUE_RESPONSE_DEADLINE_MS: must be a non-negative integer/,
    ],
    [
      { ACCRUE_RESPONSE_DEADLINE_MS: '2147483648' },
      /ACCRUE_RESPONSE_DEADLINE_MS: must be at most 2147483647/,
    ],
    [{ ACCRUE_OPENMETRICS_CREATED: 'nope' }, /ACCRUE_OPENMETRICS_CREATED: must be true or false, got "nope"/],
  ])('refuses %p naming the variable and the rule', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('takes per-service endpoints over the general one', () => {
    const c = loadConfig({ AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_DYNAMODB: 'http://d' });
    expect(c.aws.sqsEndpoint).toBe('http://a');
    expect(c.aws.dynamodbEndpoint).toBe('http://d');
  });
});

describe('docs/configuration.md', () => {
  it('names every environment variable that shared/config.ts reads', () => {
    const doc = readFileSync(path.join(root, 'docs', 'configuration.md'), 'utf8');
    const read = new Set<string>(Object.values(ENV));
    expect(read.size).toBeGreaterThan(20);
    const missing = [...read].filter((v) => !doc.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });
});
