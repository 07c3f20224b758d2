/**
 * `npm run demo` end to end: the local gateway (`accrue start`, i.e. `npm start`) runs as a child process
 * on free ports with a temporary data folder (its printed banner gives the URLs); the demo runs as a real
 * process (node + tsx, scripts/demo.ts) against it for a few seconds; then /metrics must show the ARIA
 * series of the demo's group, and Accrue's own counters must have accepted every event it sent.
 * Starting through the CLI also checks that it forwards SIGTERM (afterAll: the ports stop answering).
 */
import { sumFamily } from '../../scripts/demo';
import { type LocalGateway, runDemo, startGateway } from './client-local-gateway';

let local: LocalGateway;

beforeAll(async () => {
  local = await startGateway();
}, 60_000);

afterAll(async () => {
  await local?.stop();
  if (local) await expect(fetch(local.metricsUrl, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
});

it('publishes a few seconds of ARIA trading that the gateway accepts in full', async () => {
  const r = await runDemo([
    '--duration',
    '3',
    '--rate',
    '300',
    '--seed',
    '7',
    '--instance',
    'demo-test',
    '--queue-url',
    local.queueUrl,
    '--endpoint',
    local.sqsEndpoint,
    '--url',
    local.baseUrl,
  ]);
  expect(r.code).toBe(0);
  // Output is a pipe here, not a terminal: the progress line comes as plain lines, never redrawn with \r.
  expect(r.out).not.toContain('\r');
  expect(r.out).toMatch(
    /^\[[12]s\] sent \d+ \(\d+\/s\) \| accrue accepted (\d+|n\/a) rejected (\d+|n\/a) \| msgs \d+ \| MT5 (up|DOWN)/m,
  );
  const m = /demo done: sent (\d+) events in (\d+) messages; accrue accepted (\d+), rejected (\d+)/.exec(
    r.out,
  );
  expect(m).not.toBeNull();
  const sent = Number(m![1]);
  expect(sent).toBeGreaterThan(500);
  expect(Number(m![3])).toBe(sent);
  expect(Number(m![4])).toBe(0);

  const text = await (await fetch(local.metricsUrl)).text();
  expect(text).toMatch(/aria_execution_latency_seconds_bucket\{[^}]*job="aria-pro"[^}]*\} \d+/);
  expect(text).toMatch(/aria_mt5_connection_status\{[^}]*instance="demo-test"[^}]*\} 1/);
  expect(text).toMatch(/aria_pnl_dollars\{[^}]*type="daily"/);
  expect(text).toMatch(/aria_kill_switch_active\{[^}]*instance="demo-test"[^}]*\} 0/); // tripped at 70% and reset at the end
  expect(sumFamily(text, 'accrue_ingest_events_accepted_total')).toBeGreaterThanOrEqual(sent);
  expect(sumFamily(text, 'aria_execution_latency_seconds_count') ?? 0).toBeGreaterThan(0);
  expect(sumFamily(text, 'aria_errors_total') ?? 0).toBeGreaterThan(0);
}, 60_000);

it('refuses bad flags with a clear message', async () => {
  const r = await runDemo(['--rate', 'NaN', '--queue-url', local.queueUrl, '--endpoint', local.sqsEndpoint]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/--rate NaN: must be events per second/);
});

it.each([
  ['a b 1\nx_total{a="1"} 2\nx_total 3\nx_totally 100\n# x_total 9', 'x_total', 5],
  ['nothing here', 'x_total', undefined],
])('sumFamily case %#: one family only', (text, name, total) => {
  expect(sumFamily(text, name)).toBe(total);
});
