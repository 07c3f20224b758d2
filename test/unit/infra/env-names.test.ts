/**
 * The construct and shared/config.ts share the environment variable names (shared/env-names.ts) and the
 * ledger TTL default (shared/store/types.ts), so a variable the construct sets is always one a runtime reads.
 */
import { Duration } from 'aws-cdk-lib';
import { loadConfig } from '../../../shared/config';
import { ENV, LIMIT_ENV } from '../../../shared/env-names';
import { DEFAULT_LEDGER_TTL_SECONDS, DEFAULT_LIMITS } from '../../../shared/store/types';
import { buildGateway, cleanup, testSecrets } from './helpers';

afterAll(cleanup);

/** Variables every runtime gets from outside Accrue's configuration. */
const PLATFORM = new Set(['NODE_OPTIONS']);

function variablesSet(props: Parameters<typeof buildGateway>[0]): string[] {
  const { template } = buildGateway(props);
  const names: string[] = [];
  for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
    const vars = (fn as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties
      .Environment?.Variables;
    names.push(...Object.keys(vars ?? {}));
  }
  for (const td of Object.values(template.findResources('AWS::ECS::TaskDefinition'))) {
    const defs = (
      td as {
        Properties: {
          ContainerDefinitions: { Environment?: { Name: string }[]; Secrets?: { Name: string }[] }[];
        };
      }
    ).Properties.ContainerDefinitions;
    for (const d of defs)
      names.push(...(d.Environment ?? []).map((e) => e.Name), ...(d.Secrets ?? []).map((e) => e.Name));
  }
  return [...new Set(names)].sort();
}

describe('environment variable names', () => {
  it('every variable the construct sets is one shared/config.ts reads', () => {
    const names = variablesSet({
      ...testSecrets(),
      groupTtl: Duration.hours(6),
      limits: { maxSeriesTotal: 5000, maxGroups: 10, maxLabelsPerSeries: 8 },
    });
    const known = new Set<string>(Object.values(ENV));
    expect(names.filter((n) => !known.has(n) && !PLATFORM.has(n))).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining([ENV.STORE, ENV.PUSH_AUTH, ENV.SCRAPE_AUTH, LIMIT_ENV.maxGroups]),
    );
  });

  it('openMetricsCreated: false reaches the service as ACCRUE_OPENMETRICS_CREATED=false, which loadConfig reads', () => {
    expect(variablesSet({ ...testSecrets() })).not.toContain(ENV.OPENMETRICS_CREATED);
    const { template } = buildGateway({ ...testSecrets(), openMetricsCreated: false });
    const env: Record<string, string> = {};
    for (const td of Object.values(template.findResources('AWS::ECS::TaskDefinition'))) {
      const defs = (
        td as { Properties: { ContainerDefinitions: { Environment?: { Name: string; Value: unknown }[] }[] } }
      ).Properties.ContainerDefinitions;
      for (const d of defs)
        for (const e of d.Environment ?? []) if (typeof e.Value === 'string') env[e.Name] = e.Value;
    }
    expect(env[ENV.OPENMETRICS_CREATED]).toBe('false');
    expect(loadConfig(env).service.openMetricsCreated).toBe(false);
    expect(loadConfig({}).service.openMetricsCreated).toBe(true);
  });

  it('every store limit has a variable that loadConfig reads', () => {
    const env: Record<string, string> = {};
    for (const [k, name] of Object.entries(LIMIT_ENV))
      env[name] = String(DEFAULT_LIMITS[k as keyof typeof DEFAULT_LIMITS] + 1);
    const limits = loadConfig(env).store.limits;
    for (const k of Object.keys(LIMIT_ENV) as (keyof typeof DEFAULT_LIMITS)[]) {
      expect({ k, v: limits[k] }).toEqual({ k, v: DEFAULT_LIMITS[k] + 1 });
    }
  });
});

describe('ledger TTL default', () => {
  it('loadConfig uses the stores default', () => {
    expect(loadConfig({}).store.ledgerTtlSeconds).toBe(DEFAULT_LEDGER_TTL_SECONDS);
  });

  it('the construct never sets less than the stores default, even with short queue retention', () => {
    const { template } = buildGateway({ queueRetention: Duration.days(1), dlqRetention: Duration.days(1) });
    const fns = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (fn) =>
        (fn as { Properties: { Environment?: { Variables?: Record<string, string> } } }).Properties
          .Environment?.Variables ?? {},
    );
    const ttls = fns.map((v) => v[ENV.LEDGER_TTL_SECONDS]).filter((v) => v !== undefined);
    expect(ttls).toEqual([String(DEFAULT_LEDGER_TTL_SECONDS)]);
  });
});
