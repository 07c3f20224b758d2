import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '../../../shared/ingest/decode';
import { ValidationError } from '../../../shared/model/errors';
import {
  ARIA_PROFILE,
  compileProfile,
  loadProfile,
  ProfileError,
  parseProfile,
} from '../../../shared/profiles';

type Json = Record<string, unknown>;

/** A small valid profile; cases patch it. */
function base(): Json {
  return {
    name: 'shop',
    metrics: {
      orders_total: { type: 'counter', help: 'Orders.', labels: ['region', 'channel'] },
      basket_dollars: {
        type: 'histogram',
        help: 'Basket value.',
        labels: ['region'],
        buckets: [10, 50, 100],
      },
      open_carts: { type: 'gauge', help: 'Open carts.', labels: ['region'] },
      store_open: { type: 'gauge', help: 'Store open.', labels: ['site'] },
    },
    events: {
      order: {
        fields: {
          region: { type: 'enum', values: ['eu', 'us'] },
          amount: { type: 'number', minimum: 0, maximum: 100000 },
          items: { type: 'number', minimum: 0, integer: true, optional: true },
        },
        emit: [
          {
            metric: 'orders_total',
            op: 'inc',
            value: 'items',
            default: 1,
            labels: { channel: { value: 'web' } },
          },
          { metric: 'basket_dollars', op: 'observe', value: 'amount' },
        ],
      },
      cart: {
        fields: { region: { type: 'string', maxLength: 8 }, opened: { type: 'boolean' } },
        emit: [{ metric: 'open_carts', op: 'inc' }],
      },
      cart_closed: {
        fields: { region: { type: 'string', maxLength: 8 } },
        emit: [{ metric: 'open_carts', op: 'dec', value: 2 }],
      },
      status: {
        fields: { where: { type: 'string' }, open: { type: 'boolean' } },
        emit: [{ metric: 'store_open', op: 'set', value: 'open', labels: { site: 'where' } }],
      },
    },
  };
}

function patch(p: (d: Json & { metrics: Json; events: Json }) => void): Json {
  const d = base() as Json & { metrics: Json; events: Json };
  p(d);
  return d;
}

type Events = Record<string, Json & { fields: Json; emit: Json[] }>;
type Metrics = Record<string, Json>;

/** [case, definition, path of a problem, substring of its message] */
const badProfiles: [string, unknown, string, string][] = [
  ['not an object', [], '', 'must be an object'],
  [
    'unknown top-level key',
    patch((d) => {
      d.version = 2;
    }),
    'version',
    'unexpected property',
  ],
  [
    'bad profile name',
    patch((d) => {
      d.name = 'Shop!';
    }),
    'name',
    'to match',
  ],
  [
    'bad metric name',
    patch((d) => {
      (d.metrics as Metrics)['orders-total'] = { type: 'counter', help: 'x' };
    }),
    'metrics.orders-total',
    'metric name must match',
  ],
  [
    'reserved prefix',
    patch((d) => {
      (d.metrics as Metrics).accrue_x = { type: 'counter', help: 'x' };
    }),
    'metrics.accrue_x',
    'metric name is reserved (prefix "accrue_"',
  ],
  [
    'reserved __ prefix',
    patch((d) => {
      (d.metrics as Metrics).__x = { type: 'counter', help: 'x' };
    }),
    'metrics.__x',
    'metric name must not start with "__"',
  ],
  [
    'reserved per-group name',
    patch((d) => {
      (d.metrics as Metrics).push_time_seconds = { type: 'gauge', help: 'x' };
    }),
    'metrics.push_time_seconds',
    'metric name is reserved',
  ],
  [
    'unknown metric type',
    patch((d) => {
      (d.metrics as Metrics).orders_total!.type = 'summary';
    }),
    'metrics.orders_total.type',
    'expected',
  ],
  [
    'missing help',
    patch((d) => {
      delete (d.metrics as Metrics).orders_total!.help;
    }),
    'metrics.orders_total.help',
    'expected',
  ],
  [
    'histogram without buckets',
    patch((d) => {
      delete (d.metrics as Metrics).basket_dollars!.buckets;
    }),
    'metrics.basket_dollars.buckets',
    'is required for a histogram',
  ],
  [
    'buckets not ascending',
    patch((d) => {
      (d.metrics as Metrics).basket_dollars!.buckets = [10, 10, 5];
    }),
    'metrics.basket_dollars.buckets[1]',
    'strictly ascending',
  ],
  [
    'buckets on a counter',
    patch((d) => {
      (d.metrics as Metrics).orders_total!.buckets = [1];
    }),
    'metrics.orders_total.buckets',
    'only histograms have buckets',
  ],
  [
    'duplicate label',
    patch((d) => {
      (d.metrics as Metrics).orders_total!.labels = ['region', 'region'];
    }),
    'metrics.orders_total.labels[1]',
    'duplicate label "region"',
  ],
  [
    'reserved label name',
    patch((d) => {
      (d.metrics as Metrics).orders_total!.labels = ['__name__'];
    }),
    'metrics.orders_total.labels[0]',
    'must not start with "__"',
  ],
  [
    'le on a histogram',
    patch((d) => {
      (d.metrics as Metrics).basket_dollars!.labels = ['le'];
    }),
    'metrics.basket_dollars.labels[0]',
    'reserved for histogram buckets',
  ],
  [
    'histogram series name collision',
    patch((d) => {
      (d.metrics as Metrics).basket_dollars_count = { type: 'counter', help: 'x' };
    }),
    'metrics.basket_dollars_count',
    'collides with the _count series',
  ],
  [
    'kind named like a generic kind',
    patch((d) => {
      (d.events as Events).counter = { fields: {}, emit: [] };
    }),
    'events.counter',
    'generic event kind',
  ],
  [
    'kind with upper case',
    patch((d) => {
      (d.events as Events).Order = { fields: {}, emit: [] };
    }),
    'events.Order',
    'must match [a-z][a-z0-9_]*',
  ],
  [
    'field named time',
    patch((d) => {
      (d.events as Events).order!.fields.time = { type: 'number' };
    }),
    'events.order.fields.time',
    'is reserved',
  ],
  [
    'field named constructor',
    patch((d) => {
      const key: string = 'constructor';
      (d.events as Events).order!.fields[key] = { type: 'number' };
    }),
    'events.order.fields.constructor',
    'Object.prototype',
  ],
  [
    'field named __proto__ (JSON)',
    JSON.parse(JSON.stringify(base()).replace('"amount":', '"__proto__":')),
    'events.order.fields.__proto__',
    'must not start with "__"',
  ],
  [
    'unknown field type',
    patch((d) => {
      (d.events as Events).order!.fields.amount = { type: 'float' };
    }),
    'events.order.fields.amount.type',
    'must be one of string, enum, number, boolean',
  ],
  [
    'unknown field option',
    patch((d) => {
      (d.events as Events).order!.fields.amount = { type: 'number', max: 3 };
    }),
    'events.order.fields.amount.max',
    'unexpected property',
  ],
  [
    'minimum > maximum',
    patch((d) => {
      (d.events as Events).order!.fields.amount = { type: 'number', minimum: 5, maximum: 1 };
    }),
    'events.order.fields.amount.minimum',
    'must be <= maximum',
  ],
  [
    'infinite bound (YAML .inf)',
    parseYamlDef(
      'name: y\nmetrics: {}\nevents:\n  e:\n    fields:\n      x: { type: number, maximum: .inf }\n    emit: []\n',
    ),
    'events.e.fields.x.maximum',
    'expected number',
  ],
  [
    'duplicate enum value',
    patch((d) => {
      (d.events as Events).order!.fields.region = { type: 'enum', values: ['eu', 'eu'] };
    }),
    'events.order.fields.region.values[1]',
    'duplicate value "eu"',
  ],
  [
    'emit of an unknown metric',
    patch((d) => {
      (d.events as Events).order!.emit[1]!.metric = 'basket';
    }),
    'events.order.emit[1].metric',
    'no metric "basket"',
  ],
  [
    'op not allowed for the type',
    patch((d) => {
      (d.events as Events).order!.emit[1]!.op = 'set';
    }),
    'events.order.emit[1].op',
    '"set" is not an operation of a histogram',
  ],
  [
    'value field missing',
    patch((d) => {
      (d.events as Events).order!.emit[1]!.value = 'total';
    }),
    'events.order.emit[1].value',
    'no field "total"',
  ],
  [
    'value field of the wrong type',
    patch((d) => {
      (d.events as Events).order!.emit[1]!.value = 'region';
    }),
    'events.order.emit[1].value',
    'must be a number or boolean',
  ],
  [
    'counter fed by a field that may be negative',
    patch((d) => {
      (d.events as Events).order!.fields.items = { type: 'number', optional: true };
    }),
    'events.order.emit[0].value',
    'minimum >= 0',
  ],
  [
    'negative constant on a counter',
    patch((d) => {
      (d.events as Events).order!.emit[0] = {
        metric: 'orders_total',
        op: 'inc',
        value: -1,
        labels: { channel: { value: 'x' } },
      };
    }),
    'events.order.emit[0].value',
    'counters only go up',
  ],
  [
    'observe without value',
    patch((d) => {
      delete (d.events as Events).order!.emit[1]!.value;
    }),
    'events.order.emit[1].value',
    'is required for observe',
  ],
  [
    'default on a required field',
    patch((d) => {
      (d.events as Events).order!.emit[1]!.default = 1;
    }),
    'events.order.emit[1].default',
    'only applies when value names an optional field',
  ],
  [
    'boolean value on a counter',
    patch((d) => {
      (d.events as Events).cart!.emit = [{ metric: 'open_carts', op: 'inc', value: 'opened' }];
    }),
    'events.cart.emit[0].value',
    'only be the value of a gauge set',
  ],
  [
    'label without a field',
    patch((d) => {
      delete (d.events as Events).order!.emit[0]!.labels;
    }),
    'events.order.emit[0]',
    'needs field "channel"',
  ],
  [
    'label from a number field',
    patch((d) => {
      (d.events as Events).order!.emit[1]!.labels = { region: 'amount' };
    }),
    'events.order.emit[1].labels.region',
    'needs a string or enum field',
  ],
  [
    'label from an optional field',
    patch((d) => {
      (d.events as Events).cart!.fields.region = { type: 'string', optional: true };
    }),
    'events.cart.emit[0]',
    'can\'t come from optional field "region"',
  ],
  [
    'label the metric does not have',
    patch((d) => {
      (d.events as Events).order!.emit[1]!.labels = { shop: 'region' };
    }),
    'events.order.emit[1].labels.shop',
    'has no label "shop"',
  ],
];

function parseYamlDef(text: string): unknown {
  // Parsed here so the case table holds plain data; the YAML loader itself is tested below.
  return require('yaml').parse(text);
}

describe('profile load errors', () => {
  it.each(badProfiles)('%s', (_name, def, path, message) => {
    let err: unknown;
    try {
      compileProfile(def, 'test-profile');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProfileError);
    expect(err).toBeInstanceOf(ValidationError);
    const pe = err as ProfileError;
    expect(pe.message.startsWith('test-profile: ')).toBe(true);
    const hit = pe.problems.find((p) => p.path === path);
    expect({ problems: pe.problems, hit: hit !== undefined }).toEqual({ problems: pe.problems, hit: true });
    expect(hit!.message.toLowerCase()).toContain(message.toLowerCase());
  });

  it('reports every problem of a profile at once', () => {
    const def = patch((d) => {
      (d.metrics as Metrics).basket_dollars!.buckets = [3, 2];
      (d.events as Events).order!.emit[1]!.metric = 'nope';
      (d.events as Events).cart!.fields.opened = { type: 'bool' };
    });
    expect(() => compileProfile(def)).toThrow(ProfileError);
    try {
      compileProfile(def);
    } catch (e) {
      expect((e as ProfileError).problems.map((p) => p.path)).toEqual([
        'metrics.basket_dollars.buckets[1]',
        'events.order.emit[1].metric',
        'events.cart.fields.opened.type',
      ]);
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'accrue-profiles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['unknown built-in name', 'nope', 'neither a built-in profile (aria) nor a .json/.yaml/.yml file'],
    ['missing file', join(dir, 'missing.yaml'), "can't be read"],
    [
      'invalid YAML',
      (() => {
        const p = join(dir, 'bad.yaml');
        writeFileSync(p, 'name: [unclosed\n');
        return p;
      })(),
      'is not valid YAML',
    ],
    [
      'duplicate YAML keys',
      (() => {
        const p = join(dir, 'dup.yaml');
        writeFileSync(p, 'name: a\nname: b\nmetrics: {}\nevents: {}\n');
        return p;
      })(),
      'is not valid YAML',
    ],
    [
      'invalid JSON',
      (() => {
        const p = join(dir, 'bad.json');
        writeFileSync(p, '{');
        return p;
      })(),
      'is not valid JSON',
    ],
    [
      'semantic error in a file',
      (() => {
        const p = join(dir, 'sem.json');
        writeFileSync(
          p,
          JSON.stringify(
            patch((d) => {
              (d.events as Events).order!.emit[1]!.metric = 'nope';
            }),
          ),
        );
        return p;
      })(),
      'events.order.emit[1].metric: no metric "nope"',
    ],
  ])('loadProfile: %s', (_name, arg, message) => {
    expect(() => loadProfile(arg)).toThrow(ProfileError);
    expect(() => loadProfile(arg)).toThrow(message);
  });

  it('loads the same profile from YAML and JSON files', () => {
    const json = join(dir, 'shop.json');
    writeFileSync(json, JSON.stringify(base()));
    const yamlPath = join(dir, 'shop.yml');
    writeFileSync(yamlPath, require('yaml').stringify(base()));
    const a = loadProfile(json);
    const b = loadProfile(yamlPath);
    expect(a.definition).toEqual(b.definition);
    expect([...a.kinds.keys()]).toEqual(['order', 'cart', 'cart_closed', 'status']);
  });
});

describe('a custom profile end to end', () => {
  const shop = parseProfile(JSON.stringify(base()), 'json', 'shop');
  const T = 1_767_225_600_000;
  const run = (events: unknown[]) =>
    decodeMessage(JSON.stringify({ v: 1, group: { job: 'shop' }, events }), 'm', shop, { nowMs: T + 1000 });

  it('maps constants, defaults, dec and boolean sets, and validates integer fields', () => {
    const r = run([
      { kind: 'order', time: T, region: 'eu', amount: 20 },
      { kind: 'order', time: T, region: 'eu', amount: 70, items: 3 },
      { kind: 'order', time: T, region: 'us', amount: 1, items: 1.5 },
      { kind: 'cart', time: T, region: 'eu', opened: true },
      { kind: 'cart', time: T, region: 'eu', opened: false },
      { kind: 'cart_closed', time: T, region: 'eu' },
      { kind: 'status', time: T, where: 'berlin', open: true },
    ]);
    expect(r.rejected.map((x) => x.message)).toEqual(['events[2].items: must be an integer']);
    expect(r.apply.ops).toEqual([
      {
        kind: 'counter_inc',
        name: 'orders_total',
        help: 'Orders.',
        labels: { region: 'eu', channel: 'web' },
        value: 4,
      },
      {
        kind: 'histogram_observe',
        name: 'basket_dollars',
        help: 'Basket value.',
        labels: { region: 'eu' },
        bounds: [10, 50, 100],
        counts: [0, 1, 1, 0],
        sum: 90,
        count: 2,
      },
      { kind: 'gauge_add', name: 'open_carts', help: 'Open carts.', labels: { region: 'eu' }, value: 0 },
      {
        kind: 'gauge_set',
        name: 'store_open',
        help: 'Store open.',
        labels: { site: 'berlin' },
        value: 1,
        timeMs: T,
      },
    ]);
  });

  it('aggregates two kinds feeding the same metric into one series', () => {
    const r = run([
      { kind: 'cart', time: T, region: 'us', opened: true },
      { kind: 'cart', time: T, region: 'us', opened: true },
      { kind: 'cart_closed', time: T, region: 'us' },
      { kind: 'cart', time: T, region: 'eu', opened: true },
    ]);
    expect(r.apply.ops.map((o) => [o.labels.region, o.kind === 'gauge_add' ? o.value : undefined])).toEqual([
      ['us', 0],
      ['eu', 1],
    ]);
  });
});

describe('the built-in ARIA profile', () => {
  // The metrics of the ARIA PRO Phase 2 specification (seed 000): name, type, labels.
  const seed: [string, string, string[]][] = [
    ['aria_execution_latency_seconds', 'histogram', ['symbol', 'action', 'status', 'regime']],
    ['aria_slippage_pips', 'histogram', ['symbol', 'action', 'regime']],
    ['aria_errors_total', 'counter', ['error_type', 'symbol']],
    ['aria_trade_volume_total', 'counter', ['symbol', 'action']],
    ['aria_pnl_dollars', 'gauge', ['type']],
    ['aria_win_rate_ratio', 'gauge', []],
    ['aria_drawdown_percent', 'gauge', []],
    ['aria_mt5_connection_status', 'gauge', []],
    ['aria_kill_switch_active', 'gauge', []],
  ];

  it('declares exactly the seed metrics, with HELP', () => {
    expect(ARIA_PROFILE.metrics.map((m) => [m.name, m.type, [...m.labelNames]])).toEqual(seed);
    for (const m of ARIA_PROFILE.metrics) expect(m.help.length).toBeGreaterThan(10);
  });

  it('has trading buckets: latency 1 ms to 10 s, slippage 0.1 to 50 pips', () => {
    const latency = ARIA_PROFILE.metricsByName.get('aria_execution_latency_seconds')!.bounds;
    expect(latency[0]).toBe(0.001);
    expect(latency.at(-1)).toBe(10);
    const slippage = ARIA_PROFILE.metricsByName.get('aria_slippage_pips')!.bounds;
    expect(slippage[0]).toBe(0.1);
    expect(slippage.at(-1)).toBe(50);
  });

  it.each([
    ['execution', ['aria_execution_latency_seconds', 'aria_slippage_pips', 'aria_trade_volume_total']],
    ['error', ['aria_errors_total']],
    ['pnl', ['aria_pnl_dollars']],
    ['performance', ['aria_win_rate_ratio', 'aria_drawdown_percent']],
    ['connection', ['aria_mt5_connection_status']],
    ['kill_switch', ['aria_kill_switch_active']],
  ])('event %s feeds %j', (kind, metrics) => {
    expect(ARIA_PROFILE.kinds.get(kind)!.emits.map((e) => e.metric.name)).toEqual(metrics);
  });

  it('is loadable by name', () => {
    expect(loadProfile('aria')).toBe(ARIA_PROFILE);
  });
});
