/**
 * The example Alertmanager config: every receiver referenced exists, and each alert of the rules file
 * reaches the intended receiver by Alertmanager's routing (first matching child route, depth first).
 * (amtool isn't installed on this machine; the routing is evaluated here with equality matchers only.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../../..');

interface Route {
  receiver?: string;
  matchers?: string[];
  routes?: Route[];
  continue?: boolean;
}
const am = parse(readFileSync(path.join(ROOT, 'ops/alertmanager/alertmanager.yml'), 'utf8')) as {
  route: Route;
  receivers: { name: string }[];
};
const rules = parse(readFileSync(path.join(ROOT, 'ops/prometheus/rules/aria.rules.yml'), 'utf8')) as {
  groups: { rules: { alert?: string; labels?: Record<string, string> }[] }[];
};

function matches(matcher: string, labels: Record<string, string>): boolean {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=|!=)\s*"([^"]*)"\s*$/.exec(matcher);
  if (!m) throw new Error(`unsupported matcher in test: ${matcher}`);
  const v = Object.hasOwn(labels, m[1]!) ? labels[m[1]!] : '';
  return m[2] === '=' ? v === m[3] : v !== m[3];
}

/** Alertmanager routing: the deepest first-matching route's receiver, inheriting from the parent. */
function route(r: Route, labels: Record<string, string>, inherited: string): string {
  const receiver = r.receiver ?? inherited;
  for (const child of r.routes ?? []) {
    if ((child.matchers ?? []).every((m) => matches(m, labels))) return route(child, labels, receiver);
  }
  return receiver;
}

function collect(r: Route): string[] {
  return [...(r.receiver ? [r.receiver] : []), ...(r.routes ?? []).flatMap(collect)];
}

it('every referenced receiver is defined', () => {
  const defined = new Set(am.receivers.map((r) => r.name));
  for (const name of collect(am.route)) expect(defined.has(name)).toBe(true);
});

const expected: Record<string, string> = {
  'trading/critical': 'trading-team-pager',
  'trading/warning': 'trading-team-chat',
  'platform/critical': 'platform-pager',
  'platform/warning': 'platform-chat',
};
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);

it.each(alerts.map((a) => [a.alert!, a.labels ?? {}] as const))(
  '%s is routed by team and severity',
  (_n, labels) => {
    const key = `${labels.team}/${labels.severity}`;
    expect(Object.hasOwn(expected, key)).toBe(true);
    expect(route(am.route, { ...labels, alertname: _n }, '')).toBe(expected[key]);
  },
);

it.each([
  ['no labels at all', {}],
  ['unknown team', { team: 'marketing', severity: 'critical' }],
  ['hostile label names', { __proto__: 'x', constructor: 'y' }],
  ['quotes and newlines in values', { team: 'trading"\n', severity: 'critical' }],
] as const)('an alert with %s falls back to the default receiver', (_n, labels) => {
  expect(route(am.route, labels as Record<string, string>, '')).toBe(am.route.receiver);
});
