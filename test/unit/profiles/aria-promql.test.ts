/**
 * The ARIA specification's PromQL must make sense on what the profile produces. The series below are built
 * from the operations `decodeMessage` returns for one ARIA message, as a store would accumulate them when
 * the same message arrives once a minute; the real `promtool test rules` evaluates the specification's
 * queries on them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '../../../shared/ingest/decode';
import { ARIA_PROFILE } from '../../../shared/profiles/load';
import type { MetricOp } from '../../../shared/store/types';

const PROMTOOL = '/usr/bin/promtool';
const T0 = 1_767_225_600_000;

function ev(over: Record<string, unknown>) {
  return {
    kind: 'execution',
    time: T0,
    symbol: 'EURUSD',
    action: 'BUY',
    status: 'success',
    regime: 'T',
    slippage_pips: 0.3,
    ...over,
  };
}

function selector(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(',')}}`;
}

/** promtool input series: each op's value accumulates once per minute over 5 minutes (gauges stay). */
function inputSeries(ops: readonly MetricOp[]): { series: string; values: string }[] {
  const out: { series: string; values: string }[] = [];
  for (const op of ops) {
    if (op.kind === 'histogram_observe') {
      let cum = 0;
      op.bounds.forEach((le, i) => {
        cum += op.counts[i]!;
        out.push({
          series: selector(`${op.name}_bucket`, { ...op.labels, le: String(le) }),
          values: `0+${cum}x5`,
        });
      });
      out.push({
        series: selector(`${op.name}_bucket`, { ...op.labels, le: '+Inf' }),
        values: `0+${op.count}x5`,
      });
      out.push({ series: selector(`${op.name}_count`, { ...op.labels }), values: `0+${op.count}x5` });
      out.push({ series: selector(`${op.name}_sum`, { ...op.labels }), values: `0+${op.sum}x5` });
    } else if (op.kind === 'counter_inc') {
      out.push({ series: selector(op.name, { ...op.labels }), values: `0+${op.value}x5` });
    } else {
      out.push({ series: selector(op.name, { ...op.labels }), values: `${op.value}x5` });
    }
  }
  return out;
}

// promtool is a test prerequisite (README, .ci/run): without it this suite fails rather than skipping.
describe('the ARIA specification queries on the profile output (promtool)', () => {
  it('has promtool installed (Debian package prometheus)', () => {
    expect(existsSync(PROMTOOL)).toBe(true);
  });

  const dir = mkdtempSync(join(tmpdir(), 'accrue-promql-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('evaluates p95 latency, error rate, P&L, win rate and MT5 status as expected', () => {
    // 90 fast executions (20 ms), 10 slow ones (0.8 s): p95 falls in the (0.5, 1] bucket at rank 95 of 100,
    // so histogram_quantile interpolates 0.5 + 0.5 * (95 - 90) / 10 = 0.75.
    const events: unknown[] = [];
    for (let i = 0; i < 90; i++) events.push(ev({ latency_seconds: 0.02 }));
    for (let i = 0; i < 10; i++) events.push(ev({ latency_seconds: 0.8 }));
    for (let i = 0; i < 6; i++)
      events.push({ kind: 'error', time: T0, error_type: 'timeout', symbol: 'EURUSD' });
    events.push({ kind: 'pnl', time: T0, type: 'real_time', value: 1250.5 });
    events.push({ kind: 'pnl', time: T0, type: 'daily', value: -20 });
    events.push({ kind: 'performance', time: T0, win_rate: 0.62, drawdown_percent: 3.5 });
    events.push({ kind: 'connection', time: T0, connected: true });
    const decoded = decodeMessage(
      JSON.stringify({ v: 1, group: { job: 'aria' }, events }),
      'm',
      ARIA_PROFILE,
      { nowMs: T0 },
    );
    expect(decoded.rejected).toEqual([]);

    const test = {
      rule_files: [],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: inputSeries(decoded.apply.ops),
          promql_expr_test: [
            {
              // round(): promtool compares exactly and the interpolation gives 0.7499999999999997.
              expr: 'round(histogram_quantile(0.95, rate(aria_execution_latency_seconds_bucket[5m])), 0.001)',
              eval_time: '5m',
              exp_samples: [
                { labels: '{action="BUY",regime="T",status="success",symbol="EURUSD"}', value: 0.75 },
              ],
            },
            {
              expr: 'rate(aria_errors_total[5m])',
              eval_time: '5m',
              exp_samples: [{ labels: '{error_type="timeout",symbol="EURUSD"}', value: 0.1 }],
            },
            {
              expr: 'aria_pnl_dollars{type="real_time"}',
              eval_time: '5m',
              exp_samples: [{ labels: 'aria_pnl_dollars{type="real_time"}', value: 1250.5 }],
            },
            {
              expr: 'aria_win_rate_ratio',
              eval_time: '5m',
              exp_samples: [{ labels: 'aria_win_rate_ratio', value: 0.62 }],
            },
            {
              expr: 'aria_mt5_connection_status',
              eval_time: '5m',
              exp_samples: [{ labels: 'aria_mt5_connection_status', value: 1 }],
            },
            {
              expr: 'sum(rate(aria_trade_volume_total[5m]))',
              eval_time: '5m',
              exp_samples: [{ labels: '{}', value: 100 / 60 }],
            },
          ],
        },
      ],
    };
    const file = join(dir, 'aria.test.yml');
    writeFileSync(file, JSON.stringify(test)); // JSON is YAML
    let output = '';
    try {
      output = execFileSync(PROMTOOL, ['test', 'rules', file], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
    expect(output).toContain('SUCCESS');
  });
});
