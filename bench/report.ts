/**
 * The benchmark report: turns each bench part's result object into table rows (one small mapping
 * function per part, tolerant of missing or malformed fields: a figure that isn't there is shown as
 * missing, never invented), and renders the table.
 *
 * Row: figure, value, unit, baseline (name + value measured in the same run), ratio, target, met.
 *
 *   npx tsx bench/report.ts [bench/results/<file>.json]   # the Markdown table of a results file
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Row {
  readonly part: string;
  readonly figure: string;
  /** null when the part didn't report it. */
  readonly value: number | null;
  readonly unit: string;
  readonly baseline?: { readonly name: string; readonly value: number | null };
  /** value / baseline (or the part's own ratio, when it defines one, e.g. time ratios). */
  readonly ratio?: number | null;
  /** Human-readable target, e.g. ">= 1,000,000". */
  readonly target?: string;
  /** true / false against the target; null when there is a target but no value. */
  readonly met?: boolean | null;
}

export type PartStatus = 'ok' | 'failed' | 'missing' | 'skipped';

export interface PartOutcome {
  readonly status: PartStatus;
  readonly seconds?: number;
  readonly error?: string;
  readonly result?: Record<string, unknown>;
}

// ------------------------------------------------------------------------------- safe field access

/** A finite number at `path` (dot separated) of `obj`, else null. Never reads inherited properties. */
export function num(obj: unknown, path: string): number | null {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, key)) return null;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

/** An own plain-object field, else undefined. */
function obj(o: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof o !== 'object' || o === null || !Object.hasOwn(o, key)) return undefined;
  const v = (o as Record<string, unknown>)[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function arr(o: unknown, key: string): unknown[] {
  if (typeof o !== 'object' || o === null || !Object.hasOwn(o, key)) return [];
  const v = (o as Record<string, unknown>)[key];
  return Array.isArray(v) ? v : [];
}

const ratioOf = (a: number | null, b: number | null): number | null =>
  a === null || b === null || b === 0 ? null : Math.round((a / b) * 1000) / 1000;

const atLeast = (v: number | null, t: number): boolean | null => (v === null ? null : v >= t);
const atMost = (v: number | null, t: number): boolean | null => (v === null ? null : v <= t);

// --------------------------------------------------------------------------------- part mappings

/** bench/ingest.ts: decode → validate → map → pre-aggregate on one core, vs JSON.parse. */
export function ingestRows(r: unknown): Row[] {
  const v = num(r, 'decodeEventsPerSec');
  const base = num(r, 'jsonParseEventsPerSec');
  const timeRatio = num(r, 'ratioToJsonParse');
  return [
    {
      part: 'ingest',
      figure: 'ingest core, ARIA events (one core)',
      value: v,
      unit: 'events/s',
      baseline: { name: 'JSON.parse', value: base },
      ratio: ratioOf(v, base),
      target: '>= 1,000,000',
      met: atLeast(v, 1_000_000),
    },
    {
      part: 'ingest',
      figure: 'ingest core time / JSON.parse time',
      value: timeRatio,
      unit: 'x',
      target: '<= 2',
      met: atMost(timeRatio, 2),
    },
    {
      part: 'ingest',
      figure:
        'ingest core time / JSON.parse time, ARIA without native buckets (as recorded before 2026-12-03)',
      value: num(r, 'classicOnlyRatioToJsonParse'),
      unit: 'x',
    },
  ];
}

/** bench/dynamo.ts: DynamoDB requests and capacity per 1,000 ARIA events. */
export function dynamoRows(r: unknown): Row[] {
  const wr = num(r, 'writeRequestsPer1000Events');
  const rows: Row[] = [
    {
      part: 'dynamo',
      figure: 'DynamoDB write requests per 1,000 events (batch 10)',
      value: wr,
      unit: 'requests',
      target: '<= 10',
      met: atMost(wr, 10),
    },
    {
      part: 'dynamo',
      figure: 'DynamoDB WCU per 1,000 events (batch 10)',
      value: num(r, 'computedWcuPer1000Events'),
      unit: 'WCU',
    },
    {
      part: 'dynamo',
      figure: 'DynamoDB Local apply, one store',
      value: num(r, 'eventsPerSec'),
      unit: 'events/s',
    },
  ];
  for (const s of arr(r, 'scenarios')) {
    const name =
      typeof (s as { scenario?: unknown })?.scenario === 'string' ? (s as { scenario: string }).scenario : '';
    if (name === 'concurrent-4')
      rows.push({
        part: 'dynamo',
        figure: 'DynamoDB Local apply, 4 stores at once',
        value: num(s, 'eventsPerSec'),
        unit: 'events/s',
      });
    if (name === 'lambda-batch-100' || name === 'aria-desk-batch-100') {
      const mix = name === 'lambda-batch-100' ? 'heavy mix, batch 100' : 'one desk, batch 100';
      rows.push(
        {
          part: 'dynamo',
          figure: `DynamoDB write requests per 1,000 events (${mix})`,
          value: num(s, 'writeRequestsPer1000Events'),
          unit: 'requests',
          target: '<= 10',
          met: atMost(num(s, 'writeRequestsPer1000Events'), 10),
        },
        {
          part: 'dynamo',
          figure: `DynamoDB WCU per 1,000 events (${mix})`,
          value: num(s, 'computedWcuPer1000Events'),
          unit: 'WCU',
        },
      );
    }
    if (name === 'one-message-per-apply')
      rows.push({
        part: 'dynamo',
        figure: 'DynamoDB write requests per 1,000 events (batch 1)',
        value: num(s, 'writeRequestsPer1000Events'),
        unit: 'requests',
        target: '<= 10',
        met: atMost(num(s, 'writeRequestsPer1000Events'), 10),
      });
  }
  return rows;
}

/** bench/store.ts: the memory store (npm start). */
export function storeRows(r: unknown): Row[] {
  const rows: Row[] = [];
  const first = arr(r, 'apply')[0];
  rows.push({
    part: 'store',
    figure: 'memory store apply, no journal',
    value: num(first, 'eventsPerSec'),
    unit: 'events/s',
  });
  const push = obj(r, 'push');
  rows.push({
    part: 'store',
    figure: `memory store 10-series pushes (${num(push, 'storedSeries') ?? '?'} stored)`,
    value: num(push, 'pushesPerSec'),
    unit: 'pushes/s',
  });
  return rows;
}

/** bench/expfmt.ts: render and parse at 100k series vs prom-client and JSON. */
export function expfmtRows(r: unknown): Row[] {
  const render = num(r, 'seriesPerSecond.textRender');
  const prom = num(r, 'seriesPerSecond.promClientRender');
  const parse = num(r, 'seriesPerSecond.textParse');
  const json = num(r, 'seriesPerSecond.jsonParse');
  const speedup = num(r, 'renderSpeedupVsPromClient');
  const parseRatio = num(r, 'parseTimeVsJsonParse');
  return [
    {
      part: 'expfmt',
      figure: 'render text format, 100k series',
      value: render,
      unit: 'series/s',
      baseline: { name: 'prom-client 15', value: prom },
      ratio: speedup ?? ratioOf(render, prom),
      target: '>= 2x prom-client',
      met: atLeast(speedup ?? ratioOf(render, prom), 2),
    },
    {
      part: 'expfmt',
      figure: 'render from a snapshot, cold',
      value: num(r, 'seriesPerSecond.snapshotCold'),
      unit: 'series/s',
      baseline: { name: 'prom-client 15', value: prom },
      ratio: num(r, 'snapshotColdSpeedupVsPromClient'),
    },
    {
      part: 'expfmt',
      figure: 'protobuf scrape render from a snapshot, cold, 100k series',
      value: num(r, 'seriesPerSecond.snapshotProtobufCold'),
      unit: 'series/s',
      baseline: { name: 'text, same snapshot', value: num(r, 'seriesPerSecond.snapshotCold') },
      ratio: ratioOf(num(r, 'seriesPerSecond.snapshotProtobufCold'), num(r, 'seriesPerSecond.snapshotCold')),
    },
    {
      part: 'expfmt',
      figure: 'protobuf scrape render, one family changed, 100k series',
      value: num(r, 'seriesPerSecond.snapshotProtobufOneFamilyChanged'),
      unit: 'series/s',
      baseline: { name: 'text, same case', value: num(r, 'seriesPerSecond.snapshotOneFamilyChanged') },
      ratio: ratioOf(
        num(r, 'seriesPerSecond.snapshotProtobufOneFamilyChanged'),
        num(r, 'seriesPerSecond.snapshotOneFamilyChanged'),
      ),
    },
    {
      part: 'expfmt',
      figure: 'parse text format, 100k series',
      value: parse,
      unit: 'series/s',
      baseline: { name: 'JSON.parse', value: json },
      ratio: ratioOf(parse, json),
      target: 'time <= 3x JSON.parse',
      met: atMost(parseRatio, 3),
    },
  ];
}

/** bench/pushgateway.ts: scrape latency, RSS and push rate beside the real Pushgateway. */
export function pushgatewayRows(r: unknown): Row[] {
  const rows: Row[] = [];
  for (const level of arr(r, 'levels')) {
    const series = num(level, 'series');
    const at100k = series === 100_000;
    const label = series === null ? '?' : series >= 1000 ? `${series / 1000}k` : String(series);
    for (const [key, what, unit, target] of [
      ['scrapeP50Ms', 'scrape p50', 'ms', 0.1],
      ['scrapeP95Ms', 'scrape p95', 'ms', undefined],
      ['rssMiB', 'RSS', 'MiB', 1],
    ] as const) {
      const a = num(level, `accrue.${key}`);
      const p = num(level, `pushgateway.${key}`);
      const ratio = ratioOf(a, p);
      rows.push({
        part: 'pushgateway',
        figure: `${what} at ${label} series`,
        value: a,
        unit,
        baseline: { name: 'Pushgateway', value: p },
        ratio,
        ...(at100k && target !== undefined
          ? { target: `<= ${target}x Pushgateway`, met: atMost(ratio, target) }
          : {}),
      });
    }
  }
  const a = num(r, 'push.accrue.perSecond');
  const p = num(r, 'push.pushgateway.perSecond');
  const ratio = ratioOf(a, p);
  rows.push({
    part: 'pushgateway',
    figure: `10-series pushes/s at ${num(r, 'push.storedSeries') ?? '?'} stored`,
    value: a,
    unit: 'pushes/s',
    baseline: { name: 'Pushgateway', value: p },
    ratio,
    target: '>= 100x Pushgateway',
    met: atLeast(ratio, 100),
  });
  return rows;
}

/** bench/freshness.ts: event sent → visible on /metrics, locally. */
export function freshnessRows(r: unknown): Row[] {
  const rows: Row[] = [];
  for (const refresh of [100, 1000, 0]) {
    const k = `refresh${refresh}ms`;
    if (!obj(r, k)) continue;
    const p50 = num(r, `${k}.p50Ms`);
    const p99 = num(r, `${k}.p99Ms`);
    const timeouts = num(r, `${k}.timeouts`);
    rows.push({ part: 'freshness', figure: `freshness p50, refresh ${refresh} ms`, value: p50, unit: 'ms' });
    rows.push({
      part: 'freshness',
      figure: `freshness p99, refresh ${refresh} ms`,
      value: p99,
      unit: 'ms',
      target: '< 1000, no timeouts',
      met: p99 === null ? null : p99 < 1000 && timeouts === 0,
    });
  }
  if (rows.length === 0)
    rows.push({
      part: 'freshness',
      figure: 'freshness p99',
      value: null,
      unit: 'ms',
      target: '< 1000',
      met: null,
    });
  return rows;
}

/** bench/bundle.ts: the ingest Lambda's bundle and a local cold-start proxy. */
export function bundleRows(r: unknown): Row[] {
  const size = num(r, 'as-deployed.bundleBytes');
  const sizeSdk = num(r, 'sdk-bundled.bundleBytes');
  const cold = num(r, 'as-deployed.totalMsMedian');
  const coldSdk = num(r, 'sdk-bundled.totalMsMedian');
  return [
    {
      part: 'bundle',
      figure: 'ingest Lambda bundle (minified, SDK external)',
      value: size === null ? null : Math.round(size / 102.4) / 10,
      unit: 'KiB',
      baseline: {
        name: 'with the SDK bundled',
        value: sizeSdk === null ? null : Math.round(sizeSdk / 102.4) / 10,
      },
      ratio: ratioOf(size, sizeSdk),
      target: '<= 250',
      met: size === null ? null : size <= 250 * 1024,
    },
    {
      part: 'bundle',
      figure: 'cold-start proxy: require + first event (median)',
      value: cold,
      unit: 'ms',
      baseline: { name: 'with the SDK bundled', value: coldSdk },
      ratio: ratioOf(cold, coldSdk),
      target: '< 150',
      met: cold === null ? null : cold < 150,
    },
  ];
}

/** bench/readpath.ts: the cloud read path on DynamoDB Local, per table size. */
export function readpathRows(r: unknown): Row[] {
  const sizes = arr(r, 'sizes');
  const top = sizes[sizes.length - 1];
  const first = sizes[0];
  const rows: Row[] = [];
  const series = num(top, 'series');
  const at = series === null ? '?' : `${series / 1000}k`;
  const p99 = num(top, 'scrapeP99Ms');
  const non200 = num(top, 'non200');
  const fresh = num(top, 'freshnessP99Ms');
  const usd = num(top, 'usdPerReplicaDay');
  rows.push({
    part: 'readpath',
    figure: `scrape p99 at ${at} series, 10 groups/s changing`,
    value: p99,
    unit: 'ms',
    target: '<= 50, no non-200',
    met: p99 === null || non200 === null ? null : p99 <= 50 && non200 === 0,
  });
  rows.push({
    part: 'readpath',
    figure: `event -> /metrics freshness p99 at ${at}, refresh 1 s`,
    value: fresh,
    unit: 'ms',
    target: '<= 2000',
    met: atMost(fresh, 2000),
  });
  for (const s of sizes) {
    const n = num(s, 'series');
    rows.push({
      part: 'readpath',
      figure: `read units per refresh at ${n === null ? '?' : `${n / 1000}k`} series`,
      value: num(s, 'readUnitsPerRefresh'),
      unit: 'RRU',
      ...(s !== first
        ? { baseline: { name: 'smallest size', value: num(first, 'readUnitsPerRefresh') } }
        : {}),
      ...(s !== first
        ? { ratio: ratioOf(num(s, 'readUnitsPerRefresh'), num(first, 'readUnitsPerRefresh')) }
        : {}),
      target: 'flat in table size',
    });
  }
  const load = arr(top, 'loadAverage') as number[];
  rows.push({
    part: 'readpath',
    figure: `service CPU per refresh at ${at} series (load average ${load.join(' -> ')})`,
    value: num(top, 'serviceCpuMsPerRefresh'),
    unit: 'ms',
  });
  rows.push({
    part: 'readpath',
    figure: `read cost per replica and day at ${at} series`,
    value: usd,
    unit: '$/day',
    target: '<= 0.50',
    met: atMost(usd, 0.5),
  });
  return rows;
}

/** bench/cost.ts: dollars per million events. */
export function costRows(r: unknown): Row[] {
  const allIn = num(r, 'allInUsdPerMillion');
  const emf = num(r, 'cloudwatchEmfUsdPerMillion');
  const rows: Row[] = [];
  for (const line of arr(r, 'lines')) {
    const item = (line as { item?: unknown })?.item;
    rows.push({
      part: 'cost',
      figure: `cost: ${typeof item === 'string' ? item : '?'}`,
      value: num(line, 'usdPerMillionEvents'),
      unit: '$/M events',
    });
  }
  rows.push({
    part: 'cost',
    figure: 'cost: variable (SQS + Lambda + DynamoDB)',
    value: num(r, 'variableUsdPerMillion'),
    unit: '$/M events',
  });
  rows.push({
    part: 'cost',
    figure: 'cost: Fargate task spread over the event rate',
    value: num(r, 'fargateUsdPerMillion'),
    unit: '$/M events',
  });
  rows.push({
    part: 'cost',
    figure: 'cost: all-in',
    value: allIn,
    unit: '$/M events',
    baseline: { name: 'CloudWatch EMF ingestion', value: emf },
    ratio: ratioOf(allIn, emf),
    target: '<= 0.02',
    met: atMost(allIn, 0.02),
  });
  return rows;
}

export const MAPPERS: Readonly<Record<string, (r: unknown) => Row[]>> = {
  ingest: ingestRows,
  expfmt: expfmtRows,
  store: storeRows,
  dynamo: dynamoRows,
  bundle: bundleRows,
  freshness: freshnessRows,
  pushgateway: pushgatewayRows,
  readpath: readpathRows,
  cost: costRows,
};

/** Rows of every part; a part that failed or is missing shows its figures as missing (met: null). */
export function buildRows(parts: Readonly<Record<string, PartOutcome>>): Row[] {
  const rows: Row[] = [];
  for (const [name, outcome] of Object.entries(parts)) {
    const mapper = Object.hasOwn(MAPPERS, name) ? MAPPERS[name] : undefined;
    if (!mapper || outcome.status === 'skipped') continue;
    let mapped: Row[];
    try {
      mapped = mapper(outcome.status === 'ok' ? outcome.result : undefined);
    } catch (e) {
      mapped = [{ part: name, figure: `(mapping failed: ${(e as Error).message})`, value: null, unit: '' }];
    }
    rows.push(...mapped);
  }
  return rows;
}

// ------------------------------------------------------------------------------------- rendering

/** Numbers for people: integers with thousands separators, small values with 3 significant digits. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a === 0) return '0';
  if (a >= 1) return String(Math.round(v * 100) / 100);
  return String(Number(v.toPrecision(3)));
}

const metText = (m: boolean | null | undefined) =>
  m === undefined ? '' : m === null ? 'no (missing)' : m ? 'yes' : 'no';

/** Control characters (newlines, tabs) in a cell would break the table: shown as spaces. */
const oneLine = (s: string) =>
  Array.from(s, (c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c)).join('');

/** Plain-text table, one line per row, with a header. */
export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) =>
    [
      r.figure,
      fmt(r.value),
      r.unit,
      r.baseline ? `${r.baseline.name} ${fmt(r.baseline.value)}` : '',
      r.ratio === undefined ? '' : fmt(r.ratio),
      r.target ?? '',
      metText(r.met),
    ].map(oneLine),
  );
  const head = ['figure', 'value', 'unit', 'baseline', 'ratio', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => (i === 1 || i === 4 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Markdown table of the same rows (docs/benchmarks.md). */
export function renderMarkdown(rows: readonly Row[]): string {
  const esc = (s: string) => oneLine(s).replaceAll('|', '\\|');
  const out = [
    '| figure | value | unit | baseline | ratio | target | met |',
    '|---|--:|---|---|--:|---|---|',
  ];
  for (const r of rows)
    out.push(
      `| ${esc(r.figure)} | ${fmt(r.value)} | ${esc(r.unit)} | ${r.baseline ? esc(`${r.baseline.name} ${fmt(r.baseline.value)}`) : ''} | ${r.ratio === undefined ? '' : fmt(r.ratio)} | ${esc(r.target ?? '')} | ${metText(r.met)} |`,
    );
  return out.join('\n');
}

// `npx tsx bench/report.ts [results.json]`: the Markdown table of a results file (default latest.json).
if (require.main === module) {
  const file = process.argv[2] ?? path.join(__dirname, 'results', 'latest.json');
  const rep = JSON.parse(readFileSync(file, 'utf8')) as { rows?: Row[]; parts?: Record<string, PartOutcome> };
  // Rows are rebuilt from the parts' raw results, so the current mappings apply to older files too.
  process.stdout.write(`${renderMarkdown(rep.parts ? buildRows(rep.parts) : (rep.rows ?? []))}\n`);
}
