/**
 * Grafana dashboards: provisioning-ready JSON, equal to the generator's output, and every panel query is
 * valid PromQL — checked by the real promtool on a generated rules file (one recording rule per expr,
 * Grafana's $__rate_interval / $__range / template variables substituted).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ARIA_PROFILE } from '../../../shared/profiles';

const ROOT = path.resolve(__dirname, '../../..');
const DIR = path.join(ROOT, 'ops/grafana/dashboards');
const EXPECTED = ['business.json', 'performance.json', 'system-health.json', 'trading-activity.json'];

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; definition?: string }[] };
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const boards = files.map(
  (f) => [f, JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Dashboard] as const,
);

/** Grafana-only syntax → plain PromQL. Exported for the negative test below. */
function substitute(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '5m')
    .replace(/\$__interval|\$\{__interval\}/g, '1m')
    .replace(/\$__range|\$\{__range\}/g, '1h')
    .replace(/\$\{?([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}?/g, '.*');
}

function checkRules(exprs: string[]): { code: number | null; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'accrue-dash-'));
  try {
    const doc = {
      groups: [
        { name: 'dashboards', rules: exprs.map((expr, i) => ({ record: `dashboard:expr:${i}`, expr })) },
      ],
    };
    const file = path.join(dir, 'dashboards.rules.yml');
    writeFileSync(file, stringify(doc));
    const r = spawnSync('/usr/bin/promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 });
    if (r.error) throw new Error(`cannot run promtool: ${r.error.message}`);
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

it('the four seed dashboards exist', () => {
  expect(files).toEqual(EXPECTED);
});

it('the committed JSON equals the generator output (node ops/grafana/generate-dashboards.mjs)', () => {
  const gen = path.join(ROOT, 'ops/grafana/generate-dashboards.mjs');
  const code = `import('${gen}').then(m => process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(m.dashboards).map(([k, d]) => [k, m.render(d)])))))`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const generated = JSON.parse(r.stdout) as Record<string, string>;
  expect(Object.keys(generated).sort()).toEqual(EXPECTED.map((f) => f.replace(/\.json$/, '')));
  for (const [name, text] of Object.entries(generated)) {
    expect(readFileSync(path.join(DIR, `${name}.json`), 'utf8')).toBe(text);
  }
});

describe.each(boards)('%s', (_file, d) => {
  it('is provisioning-ready: uid, title, datasource variable, unique panel ids, fits 24 columns', () => {
    expect(d.uid).toMatch(/^aria-[a-z-]+$/);
    expect(d.title).toMatch(/^ARIA \/ /);
    expect(d.templating.list.map((v) => v.name)).toEqual(
      expect.arrayContaining(['datasource', 'job', 'instance']),
    );
    // The job and instance dropdowns come from push_time_seconds, which every group has, not from an
    // ARIA metric some producers never send.
    const def = (n: string) => d.templating.list.find((v) => v.name === n)?.definition;
    expect(def('job')).toBe('label_values(push_time_seconds{job!="accrue"}, job)');
    expect(def('instance')).toBe('label_values(push_time_seconds{job=~"$job"}, instance)');
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.targets.length).toBeGreaterThan(0);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
      for (const t of p.targets) expect(t.datasource.uid).toBe('${datasource}');
    }
  });

  it('every panel expression passes promtool check rules', () => {
    const exprs = d.panels.flatMap((p) => p.targets.map((t) => substitute(t.expr)));
    expect(exprs.every((e) => !e.includes('$'))).toBe(true);
    const r = checkRules(exprs);
    expect(r.out).toContain(`SUCCESS: ${exprs.length} rules found`);
    expect(r.code).toBe(0);
  });
});

it('dashboard uids are unique across files', () => {
  const uids = boards.map(([, d]) => d.uid);
  expect(new Set(uids).size).toBe(uids.length);
});

it.each([
  ['unbalanced parenthesis', 'sum(rate(aria_errors_total[5m])'],
  ['range on a function result', 'rate(sum(aria_errors_total)[5m])'],
  ['unsubstituted Grafana macro', 'rate(aria_errors_total[$__rate_interval])'],
  ['quote in a matcher left open', 'aria_errors_total{symbol="EUR"USD"}'],
])('the promtool check refuses %s (it can fail)', (_what, bad) => {
  const r = checkRules(['up', bad]);
  expect(r.code).not.toBe(0);
});

it('dashboards cover the seed metrics', () => {
  const all = boards.flatMap(([, d]) => d.panels.flatMap((p) => p.targets.map((t) => t.expr))).join('\n');
  for (const m of [
    'aria_execution_latency_seconds_bucket',
    'aria_slippage_pips_bucket',
    'aria_errors_total',
    'aria_trade_volume_total',
    'aria_pnl_dollars',
    'aria_win_rate_ratio',
    'aria_drawdown_percent',
    'aria_mt5_connection_status',
    'aria_kill_switch_active',
  ]) {
    expect(all).toContain(m);
  }
});

it('the provisioning files point at the dashboards and a Prometheus datasource', () => {
  const ds = parse(
    readFileSync(path.join(ROOT, 'ops/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
  );
  expect(ds.datasources[0].type).toBe('prometheus');
  const prov = parse(readFileSync(path.join(ROOT, 'ops/grafana/provisioning/dashboards/aria.yml'), 'utf8'));
  expect(prov.providers[0].type).toBe('file');
  expect(typeof prov.providers[0].options.path).toBe('string');
});

describe('metric names match the ARIA profile', () => {
  const profileNames = new Set(ARIA_PROFILE.metrics.map((m) => m.name));
  const sources: [string, string][] = [
    ...boards.map(
      ([f, d]) => [f, d.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n')] as [string, string],
    ),
    ['aria.rules.yml', readFileSync(path.join(ROOT, 'ops/prometheus/rules/aria.rules.yml'), 'utf8')],
  ];
  it.each(sources)('%s uses only aria_* metrics the profile defines', (_name, text) => {
    const used = new Set(
      [...text.matchAll(/(?<![:\w])aria_[a-z0-9_]+(?![:\w])/g)]
        .map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))
        .filter((n) => !n.includes(':')),
    );
    // recording-rule names (job_instance:aria_…:rate5m) are excluded by the look-arounds
    for (const n of used) expect([n, profileNames.has(n)]).toEqual([n, true]);
  });
});
