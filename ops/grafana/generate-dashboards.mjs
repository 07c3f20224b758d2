// Generates the four provisioning-ready ARIA dashboards in ./dashboards from the compact panel lists below.
// Run: node ops/grafana/generate-dashboards.mjs   (test/unit/ops/dashboards.test.ts checks the committed
// JSON equals this output, and runs every panel expression through `promtool check rules`).
// Panels follow the seed's recommendations: performance, business, system health, trading activity.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal
const DS = { type: 'prometheus', uid: '${datasource}' };
const SEL = 'job=~"$job", instance=~"$instance"';

/** A multi-value query variable with "All" matching everything. */
/**
 * Execution-latency quantile from the classic buckets, or (`or`) from the native series on a Prometheus with
 * native histograms on, which ingests the ARIA latency as native only (docs/events.md): panels work on both.
 */
function latencyQuantile(q, by) {
  const sel = `{${SYMSEL}}[$__rate_interval]`;
  const classic = `histogram_quantile(${q}, sum by (${by ? `${by}, ` : ''}le) (rate(aria_execution_latency_seconds_bucket${sel})))`;
  const native = `histogram_quantile(${q}, sum${by ? ` by (${by})` : ''} (rate(aria_execution_latency_seconds${sel})))`;
  return `${classic} or ${native}`;
}

function queryVariable(name, label, query) {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: {},
    sort: 1,
    hide: 0,
    query: { query, refId: name },
    definition: query,
  };
}

/** Template variables shared by every dashboard. */
function templating(withSymbol) {
  const list = [
    {
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      current: {},
      hide: 0,
    },
    // Every group on the gateway has push_time_seconds (Accrue and the Pushgateway write it), so the
    // dropdowns list every producer, also those that never send a particular ARIA metric. Accrue's own
    // group (job="accrue") is not a trading service.
    queryVariable('job', 'Job', 'label_values(push_time_seconds{job!="accrue"}, job)'),
    queryVariable('instance', 'Instance', 'label_values(push_time_seconds{job=~"$job"}, instance)'),
  ];
  if (withSymbol) {
    list.push(
      queryVariable('symbol', 'Symbol', 'label_values(aria_trade_volume_total{job=~"$job"}, symbol)'),
    );
  }
  return { list };
}

/**
 * A panel: [type, title, unit, [[expr, legend], ...], width?, height?, extra?]. Laid out left to right,
 * wrapping at 24 columns.
 */
function panels(defs) {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return defs.map((d, i) => {
    const [type, title, unit, targets, w = 12, h = 8, extra = {}] = d;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const panel = {
      id: i + 1,
      type,
      title,
      datasource: DS,
      gridPos: { h, w, x, y },
      fieldConfig: { defaults: { unit, ...(extra.defaults ?? {}) }, overrides: [] },
      options:
        extra.options ??
        (type === 'timeseries'
          ? { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } }
          : {
              reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
              colorMode: 'background',
            }),
      targets: targets.map(([expr, legendFormat], j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: DS,
        expr,
        legendFormat,
        range: true,
      })),
    };
    if (extra.description) panel.description = extra.description;
    x += w;
    rowH = Math.max(rowH, h);
    return panel;
  });
}

function dashboard(uid, title, description, withSymbol, defs) {
  return {
    uid,
    title,
    description,
    tags: ['aria', 'accrue'],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    templating: templating(withSymbol),
    annotations: { list: [] },
    links: [{ title: 'ARIA dashboards', type: 'dashboards', tags: ['aria'], asDropdown: true }],
    panels: panels(defs),
  };
}

const onOff = (on, off, onColor, offColor) => ({
  defaults: {
    mappings: [
      { type: 'value', options: { 0: { text: off, color: offColor }, 1: { text: on, color: onColor } } },
    ],
    thresholds: {
      mode: 'absolute',
      steps: [
        { color: offColor, value: null },
        { color: onColor, value: 1 },
      ],
    },
  },
});

const SYMSEL = 'job=~"$job", instance=~"$instance", symbol=~"$symbol"';

export const dashboards = {
  performance: dashboard(
    'aria-performance',
    'ARIA / Performance',
    'Execution latency, slippage and error rates (seed: Performance Dashboard).',
    true,
    [
      [
        'timeseries',
        'Execution latency p50 / p95 / p99',
        's',
        [
          [latencyQuantile(0.5, ''), 'p50'],
          [latencyQuantile(0.95, ''), 'p95'],
          [latencyQuantile(0.99, ''), 'p99'],
        ],
      ],
      [
        'timeseries',
        'Execution latency p95 by symbol',
        's',
        [[latencyQuantile(0.95, 'symbol'), '{{symbol}}']],
      ],
      [
        'timeseries',
        'Slippage p95 by symbol',
        'none',
        [
          [
            `histogram_quantile(0.95, sum by (symbol, le) (rate(aria_slippage_pips_bucket{${SYMSEL}}[$__rate_interval])))`,
            '{{symbol}}',
          ],
        ],
        12,
        8,
        { description: 'In pips.' },
      ],
      [
        'timeseries',
        'Average slippage by action',
        'none',
        [
          [
            `sum by (action) (rate(aria_slippage_pips_sum{${SYMSEL}}[$__rate_interval])) / sum by (action) (rate(aria_slippage_pips_count{${SYMSEL}}[$__rate_interval]))`,
            '{{action}}',
          ],
        ],
      ],
      [
        'timeseries',
        'Errors per second by type',
        'ops',
        [[`sum by (error_type) (rate(aria_errors_total{${SYMSEL}}[$__rate_interval]))`, '{{error_type}}']],
      ],
      [
        'timeseries',
        'Execution failure ratio',
        'percentunit',
        [
          [
            `sum(rate(aria_execution_latency_seconds_count{${SYMSEL}, status="failed"}[$__rate_interval])) / sum(rate(aria_execution_latency_seconds_count{${SYMSEL}}[$__rate_interval]))`,
            'failed / all',
          ],
        ],
      ],
      [
        'timeseries',
        'Latency p95 by regime',
        's',
        [[latencyQuantile(0.95, 'regime'), 'regime {{regime}}']],
        24,
        8,
      ],
    ],
  ),

  business: dashboard(
    'aria-business',
    'ARIA / Business',
    'P&L, win rate and drawdown (seed: Business Dashboard).',
    false,
    [
      [
        'stat',
        'P&L real time',
        'currencyUSD',
        [[`sum(aria_pnl_dollars{${SEL}, type="real_time"})`, 'real time']],
        6,
        5,
      ],
      ['stat', 'P&L today', 'currencyUSD', [[`sum(aria_pnl_dollars{${SEL}, type="daily"})`, 'daily']], 6, 5],
      ['stat', 'Win rate', 'percentunit', [[`avg(aria_win_rate_ratio{${SEL}})`, 'win rate']], 6, 5],
      [
        'stat',
        'Drawdown',
        'percent',
        [[`max(aria_drawdown_percent{${SEL}})`, 'drawdown']],
        6,
        5,
        {
          defaults: {
            thresholds: {
              mode: 'absolute',
              steps: [
                { color: 'green', value: null },
                { color: 'orange', value: 10 },
                { color: 'red', value: 20 },
              ],
            },
          },
        },
      ],
      ['timeseries', 'P&L', 'currencyUSD', [[`sum by (type) (aria_pnl_dollars{${SEL}})`, '{{type}}']], 24, 8],
      ['timeseries', 'Win rate', 'percentunit', [[`aria_win_rate_ratio{${SEL}}`, '{{instance}}']]],
      ['timeseries', 'Drawdown', 'percent', [[`aria_drawdown_percent{${SEL}}`, '{{instance}}']]],
    ],
  ),

  'system-health': dashboard(
    'aria-system-health',
    'ARIA / System health',
    'MT5 connection, kill switch, and the health of the Accrue pipeline (seed: System Health Dashboard).',
    false,
    [
      [
        'stat',
        'MT5 connection',
        'none',
        [[`aria_mt5_connection_status{${SEL}}`, '{{instance}}']],
        6,
        5,
        onOff('connected', 'DISCONNECTED', 'green', 'red'),
      ],
      [
        'stat',
        'Kill switch',
        'none',
        [[`aria_kill_switch_active{${SEL}}`, '{{instance}}']],
        6,
        5,
        onOff('ACTIVE', 'off', 'red', 'green'),
      ],
      [
        'stat',
        'Firing ARIA / Accrue alerts',
        'none',
        [['count(ALERTS{alertstate="firing", alertname=~"Aria.*|Accrue.*"}) or vector(0)', 'alerts']],
        6,
        5,
      ],
      ['stat', 'Snapshot age', 's', [['max(accrue_snapshot_age_seconds)', 'age']], 6, 5],
      [
        'timeseries',
        'MT5 connection and kill switch',
        'none',
        [
          [`aria_mt5_connection_status{${SEL}}`, 'mt5 {{instance}}'],
          [`aria_kill_switch_active{${SEL}}`, 'kill switch {{instance}}'],
        ],
        24,
        7,
      ],
      [
        'timeseries',
        'Accrue events accepted / rejected per second',
        'ops',
        [
          ['sum(rate(accrue_ingest_events_accepted_total[$__rate_interval]))', 'accepted'],
          [
            'sum by (reason) (rate(accrue_ingest_events_rejected_total[$__rate_interval]))',
            'rejected {{reason}}',
          ],
        ],
      ],
      [
        'timeseries',
        'Accrue messages by outcome',
        'ops',
        [['sum by (outcome) (rate(accrue_ingest_messages_total[$__rate_interval]))', '{{outcome}}']],
      ],
      [
        'timeseries',
        'Accrue apply duration p95',
        's',
        [
          [
            'histogram_quantile(0.95, sum by (le) (rate(accrue_ingest_apply_duration_seconds_bucket[$__rate_interval])))',
            'p95',
          ],
        ],
      ],
      [
        'timeseries',
        'Pushgateway API requests by method and code',
        'ops',
        [
          [
            'sum by (method, code) (rate(accrue_push_requests_total[$__rate_interval]))',
            '{{method}} {{code}}',
          ],
          ['sum by (reason) (rate(accrue_push_rejected_total[$__rate_interval]))', 'rejected {{reason}}'],
        ],
        24,
        8,
      ],
      [
        'timeseries',
        'Dead-lettered messages (last hour)',
        'none',
        [
          ['sum(increase(accrue_ingest_messages_total{outcome="dead_lettered"}[1h]))', 'dead-lettered'],
          [
            'max by (dimension_QueueName) (aws_sqs_approximate_number_of_messages_visible_maximum{dimension_QueueName=~".*(dlq|DLQ|DeadLetter).*"})',
            'DLQ depth {{dimension_QueueName}}',
          ],
        ],
      ],
    ],
  ),

  'trading-activity': dashboard(
    'aria-trading-activity',
    'ARIA / Trading activity',
    'Trade volume and execution counts (seed: Trading Activity Dashboard).',
    true,
    [
      [
        'stat',
        'Executions (range)',
        'none',
        [[`sum(increase(aria_execution_latency_seconds_count{${SYMSEL}}[$__range]))`, 'executions']],
        8,
        5,
      ],
      [
        'stat',
        'Volume traded (range)',
        'none',
        [[`sum(increase(aria_trade_volume_total{${SYMSEL}}[$__range]))`, 'volume']],
        8,
        5,
      ],
      [
        'stat',
        'Failed executions (range)',
        'none',
        [
          [
            `sum(increase(aria_execution_latency_seconds_count{${SYMSEL}, status="failed"}[$__range]))`,
            'failed',
          ],
        ],
        8,
        5,
      ],
      [
        'timeseries',
        'Trade volume per second by symbol',
        'none',
        [[`sum by (symbol) (rate(aria_trade_volume_total{${SYMSEL}}[$__rate_interval]))`, '{{symbol}}']],
      ],
      [
        'timeseries',
        'Executions per second by action and status',
        'ops',
        [
          [
            `sum by (action, status) (rate(aria_execution_latency_seconds_count{${SYMSEL}}[$__rate_interval]))`,
            '{{action}} {{status}}',
          ],
        ],
      ],
      [
        'timeseries',
        'Executions per second by regime',
        'ops',
        [
          [
            `sum by (regime) (rate(aria_execution_latency_seconds_count{${SYMSEL}}[$__rate_interval]))`,
            'regime {{regime}}',
          ],
        ],
      ],
      [
        'timeseries',
        'Buy / sell volume ratio',
        'none',
        [
          [
            `sum(rate(aria_trade_volume_total{${SYMSEL}, action="BUY"}[$__rate_interval])) / sum(rate(aria_trade_volume_total{${SYMSEL}, action="SELL"}[$__rate_interval]))`,
            'buy / sell',
          ],
        ],
      ],
    ],
  ),
};

export function render(d) {
  return `${JSON.stringify(d, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboards');
  for (const [name, d] of Object.entries(dashboards))
    writeFileSync(path.join(dir, `${name}.json`), render(d));
  process.stdout.write(`wrote ${Object.keys(dashboards).length} dashboards to ${dir}\n`);
}
