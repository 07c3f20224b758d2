/**
 * The bench report's mappings (one per part), their tolerance of missing and hostile fields, the table
 * rendering, and the driver's argument parsing and cost inputs (bench/report.ts, bench/run.ts).
 */
import {
  buildRows,
  bundleRows,
  costRows,
  dynamoRows,
  expfmtRows,
  fmt,
  freshnessRows,
  ingestRows,
  num,
  type PartOutcome,
  pushgatewayRows,
  type Row,
  readpathRows,
  renderMarkdown,
  renderTable,
  storeRows,
} from '../../../bench/report';
import { costInputsFrom, parseRunArgs } from '../../../bench/run';

const MAPPERS: [string, (r: unknown) => Row[]][] = [
  ['ingest', ingestRows],
  ['dynamo', dynamoRows],
  ['store', storeRows],
  ['expfmt', expfmtRows],
  ['pushgateway', pushgatewayRows],
  ['freshness', freshnessRows],
  ['bundle', bundleRows],
  ['readpath', readpathRows],
  ['cost', costRows],
];

describe('num: finite own numbers only', () => {
  it.each<[string, unknown, string, number | null]>([
    ['a number', { a: 5 }, 'a', 5],
    ['nested', { a: { b: 2.5 } }, 'a.b', 2.5],
    ['missing', {}, 'a', null],
    ['a string', { a: '5' }, 'a', null],
    ['NaN', { a: Number.NaN }, 'a', null],
    ['Infinity', { a: Number.POSITIVE_INFINITY }, 'a', null],
    ['huge but finite', { a: 1e308 }, 'a', 1e308],
    ['null object', null, 'a', null],
    ['an array where an object is expected', { a: [1] }, 'a.0', 1],
    ['inherited through __proto__', JSON.parse('{"__proto__": {"a": 7}}'), 'a', null],
    ['constructor', {}, 'constructor', null],
    ['toString path', { a: 1 }, 'a.toString', null],
  ])('%s', (_, o, path, want) => {
    expect(num(o, path)).toBe(want);
  });
});

describe('mappings tolerate missing and hostile results', () => {
  it.each(MAPPERS)('%s: no result -> rows with no values, targets not met', (_, map) => {
    const rows = map(undefined);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.value).toBeNull();
      if (r.met !== undefined) expect(r.met).toBeNull();
    }
  });

  it.each(MAPPERS)('%s: hostile fields never become figures', (_, map) => {
    const hostile = JSON.parse(
      '{"__proto__": {"decodeEventsPerSec": 9}, "constructor": {"x": 1}, "decodeEventsPerSec": "2000000", "writeRequestsPer1000Events": null, "levels": "nope", "apply": {"0": 1}, "lines": [null, 5, {"item": "x\\ny", "usdPerMillionEvents": "1"}], "scenarios": [null], "refresh100ms": [1]}',
    );
    const rows = map(hostile);
    for (const r of rows) expect(r.value === null || r.value === undefined).toBe(true);
    expect(renderTable(rows).split('\n')).toHaveLength(rows.length + 2);
  });
});

describe('mappings read what the parts report', () => {
  it('ingest: events/s vs JSON.parse, both targets', () => {
    const rows = ingestRows({
      decodeEventsPerSec: 2e6,
      jsonParseEventsPerSec: 4e6,
      ratioToJsonParse: 1.8,
      classicOnlyRatioToJsonParse: 1.5,
    });
    expect(rows[0]).toMatchObject({
      value: 2e6,
      baseline: { name: 'JSON.parse', value: 4e6 },
      ratio: 0.5,
      met: true,
    });
    expect(rows[1]).toMatchObject({ value: 1.8, met: true });
    // The classic-only ratio is for comparison with older records: shown, not judged.
    expect(rows[2]).toMatchObject({ value: 1.5, unit: 'x' });
    expect(rows[2]!.met).toBeUndefined();
    const slow = ingestRows({ decodeEventsPerSec: 9e5, jsonParseEventsPerSec: 3e6, ratioToJsonParse: 2.5 });
    expect(slow.map((r) => r.met)).toEqual([false, false, undefined]);
  });

  it('dynamo: write requests and WCU, scenario rows by name', () => {
    const rows = dynamoRows({
      writeRequestsPer1000Events: 2.5,
      computedWcuPer1000Events: 88,
      eventsPerSec: 4000,
      scenarios: [
        { scenario: 'one-message-per-apply', writeRequestsPer1000Events: 12 },
        { scenario: 'concurrent-4', eventsPerSec: 9000 },
      ],
    });
    expect(rows.find((r) => r.figure.includes('(batch 10)') && r.unit === 'requests')).toMatchObject({
      value: 2.5,
      met: true,
    });
    expect(rows.find((r) => r.unit === 'WCU')?.value).toBe(88);
    expect(rows.find((r) => r.figure.includes('(batch 1)'))).toMatchObject({ value: 12, met: false });
    expect(rows.find((r) => r.figure.includes('4 stores'))?.value).toBe(9000);
  });

  it('pushgateway: targets only at 100k series; push rate ratio', () => {
    const level = (series: number, a: number, p: number) => ({
      series,
      accrue: { scrapeP50Ms: a, scrapeP95Ms: a * 2, rssMiB: 50 },
      pushgateway: { scrapeP50Ms: p, scrapeP95Ms: p * 2, rssMiB: 100 },
    });
    const rows = pushgatewayRows({
      levels: [level(1000, 1, 2), level(100_000, 5, 100)],
      push: { storedSeries: 100_000, accrue: { perSecond: 5000 }, pushgateway: { perSecond: 10 } },
    });
    const at1k = rows.filter((r) => r.figure.endsWith('1k series'));
    expect(at1k.every((r) => r.met === undefined)).toBe(true);
    expect(rows.find((r) => r.figure === 'scrape p50 at 100k series')).toMatchObject({
      value: 5,
      ratio: 0.05,
      met: true,
    });
    expect(rows.find((r) => r.figure === 'RSS at 100k series')).toMatchObject({ ratio: 0.5, met: true });
    expect(rows.at(-1)).toMatchObject({ value: 5000, ratio: 500, met: true });
  });

  it('freshness: p99 target needs no timeouts', () => {
    const rows = freshnessRows({
      refresh100ms: { p50Ms: 60, p99Ms: 300, timeouts: 0 },
      refresh1000ms: { p50Ms: 600, p99Ms: 900, timeouts: 2 },
    });
    expect(rows.filter((r) => r.met !== undefined).map((r) => r.met)).toEqual([true, false]);
  });

  it('expfmt, bundle, store and cost figures', () => {
    const e = expfmtRows({
      seriesPerSecond: {
        textRender: 3e6,
        promClientRender: 1e6,
        textParse: 1e6,
        jsonParse: 2e6,
        snapshotCold: 1e6,
        snapshotProtobufCold: 5e5,
        snapshotOneFamilyChanged: 2e6,
        snapshotProtobufOneFamilyChanged: 4e6,
      },
      renderSpeedupVsPromClient: 3,
      parseTimeVsJsonParse: 2,
    });
    expect(e.map((r) => r.met)).toEqual([true, undefined, undefined, undefined, true]);
    // Protobuf scrape beside text, measured in the same run.
    expect(e.filter((r) => r.figure.startsWith('protobuf')).map((r) => r.ratio)).toEqual([0.5, 2]);
    const b = bundleRows({
      'as-deployed': { bundleBytes: 200 * 1024, totalMsMedian: 160 },
      'sdk-bundled': { bundleBytes: 800 * 1024 },
    });
    expect(b.map((r) => r.met)).toEqual([true, false]);
    expect(b[0]?.value).toBe(200);
    expect(
      storeRows({ apply: [{ eventsPerSec: 7 }], push: { pushesPerSec: 3, storedSeries: 100 } }).map(
        (r) => r.value,
      ),
    ).toEqual([7, 3]);
    const c = costRows({
      lines: [{ item: 'SQS', usdPerMillionEvents: 0.001 }],
      allInUsdPerMillion: 0.03,
      cloudwatchEmfUsdPerMillion: 0.15,
    });
    expect(c.at(-1)).toMatchObject({ value: 0.03, ratio: 0.2, met: false });
  });
});

describe('buildRows', () => {
  it('keeps failed and missing parts visible, drops skipped and unknown ones', () => {
    const parts: Record<string, PartOutcome> = {
      ingest: { status: 'ok', result: { decodeEventsPerSec: 2e6 } },
      dynamo: { status: 'failed', error: 'boom', result: { writeRequestsPer1000Events: 1 } },
      freshness: { status: 'missing' },
      pushgateway: { status: 'skipped' },
      __proto__: { status: 'ok' } as PartOutcome,
      bogus: { status: 'ok', result: {} },
    };
    const rows = buildRows(parts);
    expect(new Set(rows.map((r) => r.part))).toEqual(new Set(['ingest', 'dynamo', 'freshness']));
    // A failed part's partial result is not trusted.
    expect(rows.filter((r) => r.part === 'dynamo').every((r) => r.value === null)).toBe(true);
  });
});

describe('rendering', () => {
  it.each<[number | null, string]>([
    [1_234_567.8, '1,234,568'],
    [123.4, '123'],
    [12.345, '12.35'],
    [0.000123456, '0.000123'],
    [0, '0'],
    [-5000, '-5,000'],
    [null, '-'],
    [Number.NaN, '-'],
    [Number.POSITIVE_INFINITY, '-'],
  ])('fmt(%p) = %p', (v, want) => {
    expect(fmt(v)).toBe(want);
  });

  it('renders one line per row; control characters and pipes cannot break the tables', () => {
    const rows: Row[] = [
      { part: 'x', figure: 'a\nb\tc', value: 1, unit: 'u|v', target: '<= 1', met: true },
      { part: 'x', figure: 'd', value: null, unit: '', target: '<= 1', met: null },
    ];
    const text = renderTable(rows);
    expect(text.split('\n')).toHaveLength(4);
    expect(text).toMatch(/a b c/);
    expect(text).toMatch(/no \(missing\)/);
    const md = renderMarkdown(rows).split('\n');
    expect(md).toHaveLength(4);
    expect(md[2]).toContain('u\\|v');
  });
});

describe('bench driver arguments', () => {
  it.each<[string[], { quick: boolean; parts: string[]; json?: string }]>([
    [
      [],
      {
        quick: false,
        parts: [
          'ingest',
          'expfmt',
          'store',
          'dynamo',
          'bundle',
          'freshness',
          'pushgateway',
          'readpath',
          'cost',
        ],
      },
    ],
    [['--quick', '--only', 'ingest,dynamo'], { quick: true, parts: ['ingest', 'dynamo'] }],
    [
      ['--skip', 'pushgateway,freshness', '--json', '/tmp/x.json'],
      {
        quick: false,
        parts: ['ingest', 'expfmt', 'store', 'dynamo', 'bundle', 'readpath', 'cost'],
        json: '/tmp/x.json',
      },
    ],
  ])('%j', (argv, want) => {
    expect(parseRunArgs(argv)).toMatchObject(want);
  });

  it.each<[string[], RegExp]>([
    [['--only', 'nope'], /unknown part\(s\) "nope"/],
    [['--only', '__proto__,constructor'], /unknown part\(s\) "__proto__", "constructor"/],
    [['--only'], /--only needs a value/],
    [['--only', 'ingest', '--skip', 'cost'], /exclude each other/],
    [['--timeout', 'NaN'], /--timeout must be an integer/],
    [['--timeout', '1e10'], /--timeout must be an integer/],
    [['--bogus'], /unknown option --bogus/],
    [['stray'], /unexpected argument "stray"/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(message);
  });

  it('reports every problem at once', () => {
    expect(() => parseRunArgs(['--bogus', '--only', 'x'])).toThrow(/unknown option --bogus.*unknown part/);
  });
});

describe('cost inputs from the run', () => {
  it('takes measured figures and says which ones fell back to defaults', () => {
    const { inputs, notes } = costInputsFrom({
      ingest: {
        status: 'ok',
        result: { avgMessageBytes: 40_000, eventsPerMessage: 250, decodeEventsPerSec: 1.5e6 },
      },
      dynamo: { status: 'failed', error: 'x' },
    });
    expect(inputs).toMatchObject({ messageBytes: 40_000, eventsPerMessage: 250, ingestEventsPerSec: 1.5e6 });
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/writeRequestsPer1000Events not measured in this run \(dynamo: failed\)/);
  });

  it.each<[string, unknown]>([
    ['negative', -5],
    ['a string', '40000'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('ignores a %s figure', (_, bad) => {
    const { inputs, notes } = costInputsFrom({ ingest: { status: 'ok', result: { avgMessageBytes: bad } } });
    expect(inputs.messageBytes).toBe(45_000);
    expect(notes.some((n) => n.startsWith('avgMessageBytes'))).toBe(true);
  });
});

describe('cost inputs follow the Lambda batch of 100 when the dynamo bench measured it', () => {
  it('prefers the one-desk batch-100 scenario (the issue mix), else batch 10 with a note', () => {
    const dynamo = (scenarios: unknown[]): PartOutcome => ({
      status: 'ok',
      result: { writeRequestsPer1000Events: 3, computedWcuPer1000Events: 500, scenarios },
    });
    const with100 = costInputsFrom({
      dynamo: dynamo([
        { scenario: 'lambda-batch-100', writeRequestsPer1000Events: 2.5, computedWcuPer1000Events: 400 },
        { scenario: 'aria-desk-batch-100', writeRequestsPer1000Events: 1.5, computedWcuPer1000Events: 120 },
      ]),
    });
    expect(with100.inputs).toMatchObject({ writeRequestsPer1000Events: 1.5, wcuPer1000Events: 120 });
    const without = costInputsFrom({
      dynamo: dynamo([null, { scenario: 'aria-desk-batch-100', computedWcuPer1000Events: 'x' }]),
    });
    expect(without.inputs).toMatchObject({ writeRequestsPer1000Events: 3, wcuPer1000Events: 500 });
    expect(costInputsFrom({ dynamo: dynamo([]) }).notes.some((n) => /batches of 10/.test(n))).toBe(true);
  });
});
