/**
 * The ingest Lambda's profile loading (shared/profiles/deployed.ts) without TypeBox or YAML: the structural
 * check generated from the TypeBox schemas (shape.generated.ts) must accept exactly what TypeBox's own
 * check accepts, and compile to the same profile, with messages that name the path and the rule; the deployed loader refuses what the Lambda can't read with a message saying what to do.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../../shared/model/errors';
import { ARIA_PROFILE, compileProfile, loadDeployedProfile, ProfileError } from '../../../shared/profiles';
import ariaDefinition from '../../../shared/profiles/aria.json';
import { compileWith } from '../../../shared/profiles/compiler';
import { LEAN_SHAPE } from '../../../shared/profiles/lean-shape';

type Def = Record<string, unknown>;

function base(): Def {
  return {
    name: 'desk',
    description: 'Desk',
    metrics: {
      desk_orders_total: { type: 'counter', help: 'Orders.', labels: ['desk', 'side'] },
      desk_fill_seconds: { type: 'histogram', help: 'Fill time.', buckets: [0.1, 1, 10] },
      desk_open: { type: 'gauge', help: 'Open orders.' },
    },
    events: {
      order: {
        description: 'An order.',
        fields: {
          desk: { type: 'string', minLength: 1, maxLength: 32, description: 'Desk id' },
          side: { type: 'enum', values: ['buy', 'sell'] },
          fill: { type: 'number', minimum: 0, maximum: 60, optional: true },
          open: { type: 'number', integer: true },
          live: { type: 'boolean', optional: true },
        },
        emit: [
          { metric: 'desk_orders_total', op: 'inc', labels: { desk: 'desk', side: { value: 'buy' } } },
          { metric: 'desk_fill_seconds', op: 'observe', value: 'fill', default: 0 },
          { metric: 'desk_open', op: 'set', value: 'open' },
        ],
      },
    },
  };
}

/** A definition being edited: any shape, as hostile inputs are. */
// biome-ignore lint/suspicious/noExplicitAny: the cases rewrite arbitrary parts of a definition
type Draft = any;

/** A copy of the base definition with `edit` applied to it. */
function variant(edit: (d: Draft) => void): Def {
  const d = base();
  edit(d);
  return d;
}

const order = (d: Draft) => d.events.order;

const CASES: [string, unknown][] = [
  ['the base definition', base()],
  ['the ARIA profile', ariaDefinition],
  ['not an object', 'desk'],
  ['an array', [base()]],
  ['null', null],
  ['missing name', variant((d) => delete d.name)],
  ['name with a newline', variant((d) => (d.name = 'desk\nx'))],
  ['name too long', variant((d) => (d.name = `d${'x'.repeat(64)}`))],
  ['name a number', variant((d) => (d.name = 42))],
  ['unknown top-level key', variant((d) => (d.version = 2))],
  ['__proto__ key at the top', { ...base(), ...JSON.parse('{"__proto__": {"polluted": true}}') }],
  ['constructor key at the top', variant((d) => (d.constructor = {}))],
  ['metrics an array', variant((d) => (d.metrics = []))],
  ['metric type unknown', variant((d) => (d.metrics.desk_open.type = 'summary'))],
  ['metric help empty', variant((d) => (d.metrics.desk_open.help = ''))],
  ['metric labels a string', variant((d) => (d.metrics.desk_orders_total.labels = 'desk'))],
  ['metric label a number', variant((d) => (d.metrics.desk_orders_total.labels = ['desk', 7]))],
  ['metric buckets empty', variant((d) => (d.metrics.desk_fill_seconds.buckets = []))],
  ['metric bucket a string', variant((d) => (d.metrics.desk_fill_seconds.buckets = [1, '2']))],
  ['metric bucket NaN-like null', variant((d) => (d.metrics.desk_fill_seconds.buckets = [null]))],
  ['metric unknown key (typo)', variant((d) => (d.metrics.desk_open.lables = ['a']))],
  ['metric not an object', variant((d) => (d.metrics.desk_open = 'gauge'))],
  ['event not an object', variant((d) => (d.events.order = []))],
  ['event without emit', variant((d) => delete order(d).emit)],
  ['event emit an object', variant((d) => (order(d).emit = {}))],
  ['event fields an array', variant((d) => (order(d).fields = []))],
  ['event unknown key', variant((d) => (order(d).labels = {}))],
  ['event description a number', variant((d) => (order(d).description = 1))],
  ['field type unknown', variant((d) => (order(d).fields.desk.type = 'text'))],
  ['field minLength negative', variant((d) => (order(d).fields.desk.minLength = -1))],
  ['field maxLength 0', variant((d) => (order(d).fields.desk.maxLength = 0))],
  ['field maxLength fractional', variant((d) => (order(d).fields.desk.maxLength = 1.5))],
  ['field maxLength huge', variant((d) => (order(d).fields.desk.maxLength = 1e300))],
  ['field string with values', variant((d) => (order(d).fields.desk.values = ['a']))],
  ['enum without values', variant((d) => delete order(d).fields.side.values)],
  ['enum values empty', variant((d) => (order(d).fields.side.values = []))],
  ['enum value empty string', variant((d) => (order(d).fields.side.values = ['buy', '']))],
  ['enum value a number', variant((d) => (order(d).fields.side.values = ['buy', 1]))],
  ['enum value with quotes and newline', variant((d) => (order(d).fields.side.values = ['b"u\ny', 'sell']))],
  ['number minimum a string', variant((d) => (order(d).fields.fill.minimum = '0'))],
  ['number integer a string', variant((d) => (order(d).fields.open.integer = 'yes'))],
  ['optional a string', variant((d) => (order(d).fields.live.optional = 'true'))],
  ['boolean with minimum', variant((d) => (order(d).fields.live.minimum = 0))],
  [
    'field __proto__ key',
    variant((d) => (order(d).fields.desk = JSON.parse('{"type":"string","__proto__":1}'))),
  ],
  ['emit not an object', variant((d) => (order(d).emit[0] = 'inc'))],
  ['emit op unknown', variant((d) => (order(d).emit[0].op = 'add'))],
  ['emit metric missing', variant((d) => delete order(d).emit[0].metric)],
  ['emit value a boolean', variant((d) => (order(d).emit[2].value = true))],
  ['emit value Infinity', variant((d) => (order(d).emit[0].value = Number.POSITIVE_INFINITY))],
  ['emit default a string', variant((d) => (order(d).emit[1].default = '0'))],
  ['emit labels an array', variant((d) => (order(d).emit[0].labels = ['desk']))],
  ['emit label a number', variant((d) => (order(d).emit[0].labels = { desk: 1 }))],
  ['emit label constant not a string', variant((d) => (order(d).emit[0].labels = { side: { value: 1 } }))],
  [
    'emit label constant extra key',
    variant((d) => (order(d).emit[0].labels = { side: { value: 'b', x: 1 } })),
  ],
  ['emit unknown key', variant((d) => (order(d).emit[0].when = 'always'))],
  ['emit unknown metric (semantic)', variant((d) => (order(d).emit[0].metric = 'desk_nope'))],
  [
    'oversize: 2000 metrics',
    variant((d) => {
      for (let i = 0; i < 2000; i++) d.metrics[`desk_m${i}`] = { type: 'gauge', help: 'x' };
    }),
  ],
];

function outcome(run: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('lean structural check (the ingest Lambda) vs the full TypeBox check', () => {
  it.each(CASES)('%s: both accept and compile alike, or both refuse', (_name, input) => {
    const full = outcome(() => compileProfile(input, 'p'));
    const lean = outcome(() => compileWith(input, 'p', LEAN_SHAPE));
    expect(lean.ok).toBe(full.ok);
    if (full.ok && lean.ok) expect(lean.value).toEqual(full.value);
    else {
      const err = (lean as { error: unknown }).error;
      expect(err).toBeInstanceOf(ProfileError);
      expect((err as ProfileError).problems.length).toBeGreaterThan(0);
      // Every lean problem names a path inside the profile and a rule.
      for (const p of (err as ProfileError).problems) expect(p.message).toMatch(/\w/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('points at the offending part, as the full check does', () => {
    const input = variant((d) => {
      d.metrics.desk_open.lables = ['a'];
      order(d).fields.side.values = [];
      order(d).emit[0].op = 'add';
    });
    const lean = outcome(() => compileWith(input, 'p', LEAN_SHAPE));
    expect(lean.ok).toBe(false);
    const paths = ((lean as { error: ProfileError }).error.problems ?? []).map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'metrics.desk_open.lables',
        'events.order.fields.side.values',
        'events.order.emit[0].op',
      ]),
    );
  });
});

describe('the generated check names the path and the rule', () => {
  it.each([
    [
      'metric label a number',
      variant((d) => (d.metrics.desk_orders_total.labels = ['desk', 7])),
      'metrics.desk_orders_total.labels[1]: must be a string',
    ],
    [
      'native schema out of range',
      variant((d) => (d.metrics.desk_fill_seconds.native = { schema: 9 })),
      'metrics.desk_fill_seconds.native.schema: must be an integer >= -4 and <= 8',
    ],
    [
      'enum values empty',
      variant((d) => (order(d).fields.side.values = [])),
      'events.order.fields.side.values: must be an array of at least 1 item(s), each a non-empty string',
    ],
    [
      'emit op unknown',
      variant((d) => (order(d).emit[0].op = 'add')),
      'events.order.emit[0].op: must be one of "inc", "dec", "set", "observe"',
    ],
    [
      'emit label constant extra key',
      variant((d) => (order(d).emit[0].labels = { side: { value: 'b', x: 1 } })),
      'events.order.emit[0].labels.side: must be a string or an object { value: a string }',
    ],
    [
      '__proto__ field key',
      variant((d) => (order(d).fields.desk = JSON.parse('{"type":"string","__proto__":1}'))),
      'events.order.fields.desk.__proto__: unknown field (known: type, minLength, maxLength, optional, description)',
    ],
    [
      'name with a newline',
      variant((d) => (d.name = 'desk\nx')),
      'name: must be a string of at most 64 characters matching ^[a-z][a-z0-9_-]*$',
    ],
    ['metrics an array', variant((d) => (d.metrics = [])), 'metrics: must be an object'],
    [
      'event without emit',
      variant((d) => delete order(d).emit),
      'events.order.emit: is required (must be an array)',
    ],
  ])('%s', (_name, input, message) => {
    expect(() => compileWith(input, 'p', LEAN_SHAPE)).toThrow(message);
  });
});

describe('loadDeployedProfile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'accrue-deployed-'));
    writeFileSync(join(dir, 'desk.json'), JSON.stringify(base()));
    writeFileSync(join(dir, 'desk.yaml'), 'name: desk\n');
    writeFileSync(join(dir, 'bad.json'), '{"name": "desk",');
    writeFileSync(join(dir, 'typo.json'), JSON.stringify(variant((d) => (d.metrics.desk_open.lables = []))));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the built-in ARIA profile like the full loader', () => {
    expect(loadDeployedProfile('aria')).toEqual(ARIA_PROFILE);
  });

  it('loads an embedded profile (the construct embeds its JSON) and a .json file', () => {
    const embedded = JSON.parse(JSON.stringify(base()));
    expect(loadDeployedProfile('embedded:desk', embedded)).toEqual(compileProfile(base(), 'embedded:desk'));
    expect(loadDeployedProfile(join(dir, 'desk.json')).metricsByName.has('desk_fill_seconds')).toBe(true);
  });

  it.each([
    [
      'a YAML file',
      () => join(dir, 'desk.yaml'),
      undefined,
      /YAML profiles are not read by the ingest Lambda.*AccrueGateway.*convert the file to JSON/,
    ],
    ['a .yml file', () => join(dir, 'desk.yml'), undefined, /YAML profiles are not read/],
    ['embedded without an embedded profile', () => 'embedded:desk', undefined, /has no embedded profile/],
    [
      'embedded under another name',
      () => 'embedded:other',
      base(),
      /name: the embedded profile is "desk", not "other"/,
    ],
    ['embedded definition that is not an object', () => 'embedded:desk', 'desk', /must be an object/],
    ['an unknown name', () => 'acme', undefined, /is neither a built-in profile \(aria\)/],
    ['__proto__', () => '__proto__', undefined, /is neither a built-in profile/],
    ['constructor', () => 'constructor', undefined, /is neither a built-in profile/],
    ['a missing file', () => join(dir, 'missing.json'), undefined, /can't be read/],
    ['invalid JSON', () => join(dir, 'bad.json'), undefined, /is not valid JSON/],
    [
      'a typo in a metric',
      () => join(dir, 'typo.json'),
      undefined,
      /metrics\.desk_open\.lables: unknown field \(known: type, help, labels, buckets, native\)/,
    ],
  ])('refuses %s', (_name, ref, embedded, message) => {
    const run = () => loadDeployedProfile(ref(), embedded);
    expect(run).toThrow(ProfileError);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});
