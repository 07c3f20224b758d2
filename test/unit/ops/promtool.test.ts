/**
 * The ops kit's Prometheus side, checked by the real promtool (/usr/bin/promtool, Debian `prometheus`):
 * the scrape config, the rules, the rules' unit tests, and that broken rules or wrong thresholds FAIL.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../../..');
const PROM = path.join(ROOT, 'ops/prometheus');
const RULES = path.join(PROM, 'rules/aria.rules.yml');
const RULES_TEST = path.join(PROM, 'rules/aria.rules.test.yml');
const PROMTOOL = '/usr/bin/promtool';

function promtool(args: string[], cwd = ROOT): { code: number | null; out: string } {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`cannot run ${PROMTOOL}: ${r.error.message} (apt-get install -y prometheus)`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rulesDoc = parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const alerts = rulesDoc.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
const testsDoc = parse(readFileSync(RULES_TEST, 'utf8')) as {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
};

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'accrue-ops-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('promtool accepts the kit', () => {
  it('check config (scrape config and the rule files it loads)', () => {
    const r = promtool(['check', 'config', path.join(PROM, 'prometheus.yml')]);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  it('test rules: every alert unit test passes', () => {
    const r = promtool(['test', 'rules', path.basename(RULES_TEST)], path.dirname(RULES_TEST));
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });
});

describe('the scrape config', () => {
  const cfg = parse(readFileSync(path.join(PROM, 'prometheus.yml'), 'utf8')) as {
    scrape_configs: { job_name: string; honor_labels?: boolean }[];
  };
  it('scrapes Accrue with honor_labels: true (else job/instance become exported_*)', () => {
    const accrue = cfg.scrape_configs.find((s) => s.job_name === 'accrue');
    expect(accrue?.honor_labels).toBe(true);
  });
});

describe('every alert is complete and unit-tested', () => {
  const ops = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
  const headings = new Set(
    [...ops.matchAll(/^#+\s+(.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );

  it('there are alerts for each required concern', () => {
    const exprs = alerts.map((a) => a.expr).join('\n');
    for (const needle of [
      'aria_kill_switch_active',
      'aria_mt5_connection_status',
      'aria_errors',
      'aria_execution_latency_seconds:p95',
      'aria_drawdown_percent',
      'dead_lettered',
      'rejection_ratio',
      'accrue_snapshot_age_seconds',
      'age_of_oldest_message',
    ]) {
      expect(exprs).toContain(needle);
    }
  });

  it.each(alerts.map((a) => [a.alert!, a] as const))(
    '%s has severity, team, summary and a runbook entry',
    (_name, a) => {
      expect(['critical', 'warning']).toContain(a.labels?.severity);
      expect(['trading', 'platform']).toContain(a.labels?.team);
      expect(a.annotations?.summary).toBeTruthy();
      const anchor = a.annotations?.runbook_url?.split('#')[1];
      expect(anchor).toBe(a.alert!.toLowerCase());
      expect(headings.has(anchor!)).toBe(true);
    },
  );

  it.each(alerts.map((a) => [a.alert!]))('%s is tested firing and quiet', (name) => {
    const cases = testsDoc.tests.flatMap((t) => t.alert_rule_test ?? []).filter((c) => c.alertname === name);
    expect(cases.some((c) => c.exp_alerts.length > 0)).toBe(true);
    expect(cases.some((c) => c.exp_alerts.length === 0)).toBe(true);
  });
});

describe('broken rules fail (the checks above can fail)', () => {
  const original = readFileSync(RULES, 'utf8');

  /** Writes a mutated copy of the rules next to a copy of the tests and runs promtool on it. */
  function withMutation(from: string, to: string, args: (dir: string) => string[]) {
    expect(original).toContain(from);
    const dir = mkdtempSync(path.join(work, 'm-'));
    writeFileSync(path.join(dir, 'aria.rules.yml'), original.replace(from, to));
    copyFileSync(RULES_TEST, path.join(dir, 'aria.rules.test.yml'));
    return promtool(args(dir), dir);
  }

  it.each([
    [
      'unbalanced parenthesis',
      'sum by (job, instance) (rate(aria_errors_total[5m]))',
      'sum by (job, instance) (rate(aria_errors_total[5m])',
    ],
    [
      'unknown function',
      'max by (job, instance) (aria_kill_switch_active) > 0',
      'maxx by (job, instance) (aria_kill_switch_active) > 0',
    ],
    ['bad duration', 'for: 1m', 'for: 1 minute'],
    [
      'invalid metric name in record',
      'record: job_instance:aria_errors:rate5m',
      'record: "job instance:aria errors"',
    ],
  ])('check rules refuses %s', (_what, from, to) => {
    const r = withMutation(from, to, () => ['check', 'rules', 'aria.rules.yml']);
    expect(r.code).not.toBe(0);
  });

  it.each([
    [
      'kill switch threshold',
      'max by (job, instance) (aria_kill_switch_active) > 0',
      'max by (job, instance) (aria_kill_switch_active) > 1',
    ],
    [
      'drawdown threshold',
      'max by (job, instance) (aria_drawdown_percent) > 20',
      'max by (job, instance) (aria_drawdown_percent) > 30',
    ],
    [
      'MT5 hold time',
      '(aria_mt5_connection_status) == 0\n        for: 1m',
      '(aria_mt5_connection_status) == 0\n        for: 5m',
    ],
    [
      'p95 quantile',
      'histogram_quantile(0.95, sum by (job, instance, le)',
      'histogram_quantile(0.5, sum by (job, instance, le)',
    ],
    ['snapshot age', 'accrue_snapshot_age_seconds) > 60', 'accrue_snapshot_age_seconds) > 600'],
  ])('test rules notices a changed %s', (_what, from, to) => {
    const r = withMutation(from, to, () => ['test', 'rules', 'aria.rules.test.yml']);
    expect(r.out).toContain('FAILED');
    expect(r.code).not.toBe(0);
  });
});
