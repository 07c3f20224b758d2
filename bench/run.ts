/**
 * `npm run bench`: runs the bench parts, each in its own child process (a fresh heap and JIT, and a part
 * that crashes or hangs can't take the others with it), then prints ONE table and writes the JSON to
 * bench/results/<timestamp>.json and bench/results/latest.json.
 *
 *   npm run bench                      # every part, full size
 *   npm run bench -- --quick           # sized down
 *   npm run bench -- --only ingest,dynamo
 *   npm run bench -- --skip pushgateway,freshness --json /tmp/bench.json
 *
 * Parts: ingest, expfmt, store, dynamo, bundle, freshness, pushgateway, readpath (each `bench/<part>.ts` exporting
 * `run({ quick })`), and cost (bench/cost.ts, fed with the figures measured by ingest and dynamo in this
 * run). A part that is missing, throws, or exceeds its time limit is reported as such; the others go on.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { type CostInputs, costModel, DEFAULT_INPUTS, formatCostModel, loadPrices } from './cost';
import { buildRows, type PartOutcome, renderTable } from './report';

export const MEASURED_PARTS = [
  'ingest',
  'expfmt',
  'store',
  'dynamo',
  'bundle',
  'freshness',
  'pushgateway',
  'readpath',
] as const;
export const ALL_PARTS = [...MEASURED_PARTS, 'cost'] as const;
export type PartName = (typeof ALL_PARTS)[number];

export interface RunArgs {
  readonly quick: boolean;
  readonly parts: readonly PartName[];
  readonly json?: string;
  readonly timeoutS: number;
}

/** Parses the command line; throws an Error naming every problem. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const problems: string[] = [];
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) {
      problems.push(`${flag} needs a value`);
      return undefined;
    }
    return v;
  };
  const list = (flag: string): PartName[] | undefined => {
    const v = value(flag);
    if (v === undefined) return undefined;
    const names = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = names.filter((n) => !(ALL_PARTS as readonly string[]).includes(n));
    if (bad.length > 0)
      problems.push(
        `${flag}: unknown part(s) ${bad.map((b) => JSON.stringify(b)).join(', ')} (known: ${ALL_PARTS.join(', ')})`,
      );
    if (names.length === 0) problems.push(`${flag} needs at least one part`);
    return names.filter((n): n is PartName => (ALL_PARTS as readonly string[]).includes(n));
  };
  const known = new Set(['--quick', '--only', '--skip', '--json', '--timeout']);
  argv.forEach((a, i) => {
    if (a.startsWith('--') && !known.has(a)) problems.push(`unknown option ${a}`);
    else if (
      !a.startsWith('--') &&
      (i === 0 || !['--only', '--skip', '--json', '--timeout'].includes(argv[i - 1]!))
    )
      problems.push(`unexpected argument ${JSON.stringify(a)}`);
  });
  const only = list('--only');
  const skip = list('--skip') ?? [];
  if (only && argv.includes('--skip')) problems.push('--only and --skip exclude each other');
  const json = value('--json');
  const t = value('--timeout');
  const quick = argv.includes('--quick');
  const timeoutS = t === undefined ? (quick ? 600 : 1800) : Number(t);
  if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > 86_400)
    problems.push(`--timeout must be an integer number of seconds in 1..86400, got ${JSON.stringify(t)}`);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const parts = (only ?? ALL_PARTS.filter((p) => !skip.includes(p))) as PartName[];
  return { quick, parts, ...(json ? { json } : {}), timeoutS };
}

/** Cost inputs from this run's results; what wasn't measured falls back to the defaults, said so. */
export function costInputsFrom(results: Readonly<Record<string, PartOutcome>>): {
  inputs: CostInputs;
  notes: string[];
} {
  const notes: string[] = [];
  const pick = (part: string, field: string, fallback: number): number => {
    const o = results[part];
    const r = o?.status === 'ok' ? o.result : undefined;
    const v = r && Object.hasOwn(r, field) ? r[field] : undefined;
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
    notes.push(
      `${field} not measured in this run (${part}: ${o?.status ?? 'not run'}): default ${fallback} used`,
    );
    return fallback;
  };
  // The event source mapping's default batch is 100 messages (infra): take the dynamo bench's batch-100
  // scenario of one desk (the issue's mix: tens of distinct series per batch) when it ran, else its
  // batch-10 figures of the heavy mix (an upper bound: more distinct series per batch cost more).
  const dynamo = results.dynamo?.status === 'ok' ? results.dynamo.result : undefined;
  const scenarios = dynamo && Array.isArray(dynamo.scenarios) ? (dynamo.scenarios as unknown[]) : [];
  const b100 = scenarios.find(
    (x): x is Record<string, unknown> =>
      typeof x === 'object' && x !== null && (x as { scenario?: unknown }).scenario === 'aria-desk-batch-100',
  );
  const fromB100 = (field: string): number | undefined => {
    const v = b100?.[field];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const inputs: CostInputs = {
    ...DEFAULT_INPUTS,
    messageBytes: pick('ingest', 'avgMessageBytes', DEFAULT_INPUTS.messageBytes),
    eventsPerMessage: pick('ingest', 'eventsPerMessage', DEFAULT_INPUTS.eventsPerMessage),
    ingestEventsPerSec: pick('ingest', 'decodeEventsPerSec', DEFAULT_INPUTS.ingestEventsPerSec),
    writeRequestsPer1000Events:
      fromB100('writeRequestsPer1000Events') ??
      pick('dynamo', 'writeRequestsPer1000Events', DEFAULT_INPUTS.writeRequestsPer1000Events),
    wcuPer1000Events:
      fromB100('computedWcuPer1000Events') ??
      pick('dynamo', 'computedWcuPer1000Events', DEFAULT_INPUTS.wcuPer1000Events),
  };
  if (dynamo && !b100)
    notes.push('DynamoDB figures from Lambda batches of 10 (no batch-100 scenario in this run)');
  return { inputs, notes };
}

/** Runs one part in a child process; resolves with its outcome (never rejects). */
function runPart(part: string, quick: boolean, timeoutS: number): Promise<PartOutcome> {
  const file = path.join(__dirname, `${part}.ts`);
  if (!existsSync(file))
    return Promise.resolve({ status: 'missing', error: `bench/${part}.ts does not exist` });
  const dir = mkdtempSync(path.join(tmpdir(), 'accrue-bench-run-'));
  const out = path.join(dir, 'result.json');
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', __filename, '--child', part, '--out', out, ...(quick ? ['--quick'] : [])],
      // Its own process group: on a timeout the whole group is stopped, including what the part started
      // (DynamoDB Local, the Pushgateway), which a plain SIGTERM to the child would leave running.
      {
        stdio: ['ignore', 'inherit', 'pipe'],
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
        detached: true,
      },
    );
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const onInterrupt = () => {
      killGroup('SIGTERM');
      process.exit(130);
    };
    process.once('SIGINT', onInterrupt);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
      process.stderr.write(d);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 10_000).unref();
    }, timeoutS * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      process.removeListener('SIGINT', onInterrupt);
      const seconds = Math.round((performance.now() - t0) / 100) / 10;
      let outcome: PartOutcome;
      try {
        if (timedOut) throw new Error(`timed out after ${timeoutS} s`);
        if (code !== 0)
          throw new Error(`exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
        const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
        outcome = { status: 'ok', seconds, result };
      } catch (e) {
        outcome = { status: 'failed', seconds, error: (e as Error).message };
      }
      rmSync(dir, { recursive: true, force: true });
      resolve(outcome);
    });
  });
}

/** Child mode: import bench/<part>.ts, run it, write its result. */
async function child(part: string, out: string, quick: boolean): Promise<void> {
  const mod = (await import(`./${part}`)) as {
    run?: (o: { quick: boolean }) => Promise<Record<string, unknown>>;
  };
  if (typeof mod.run !== 'function') throw new Error(`bench/${part}.ts exports no run()`);
  const result = await mod.run({ quick });
  writeFileSync(out, JSON.stringify(result));
}

async function main(argv: readonly string[]): Promise<void> {
  const ci = argv.indexOf('--child');
  if (ci >= 0) {
    await child(argv[ci + 1]!, argv[argv.indexOf('--out') + 1]!, argv.includes('--quick'));
    process.exit(0);
  }
  const args = parseRunArgs(argv);
  const started = new Date();
  const parts: Record<string, PartOutcome> = {};
  for (const p of ALL_PARTS) if (!args.parts.includes(p)) parts[p] = { status: 'skipped' };
  for (const p of MEASURED_PARTS) {
    if (!args.parts.includes(p)) continue;
    process.stderr.write(`bench: ${p}${args.quick ? ' (quick)' : ''} ...\n`);
    parts[p] = await runPart(p, args.quick, args.timeoutS);
    process.stderr.write(
      `bench: ${p} ${parts[p]!.status} in ${parts[p]!.seconds ?? 0} s${parts[p]!.error ? `: ${parts[p]!.error}` : ''}\n`,
    );
  }
  let costText = '';
  if (args.parts.includes('cost')) {
    try {
      const { inputs, notes } = costInputsFrom(parts);
      const model = costModel(inputs, loadPrices());
      costText = formatCostModel(model);
      parts.cost = {
        status: 'ok',
        seconds: 0,
        result: { inputs, ...model, assumptions: [...model.assumptions, ...notes] },
      };
      if (notes.length) costText += `\n${notes.map((n) => `  - ${n}`).join('\n')}`;
    } catch (e) {
      parts.cost = { status: 'failed', error: (e as Error).message };
    }
  }
  // Table order: the parts' order, whatever order they ran in.
  const ordered: Record<string, PartOutcome> = {};
  for (const p of ALL_PARTS) ordered[p] = parts[p]!;
  const rows = buildRows(ordered);
  const table = renderTable(rows);
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  };
  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: args.quick,
    machine,
    parts: ordered,
    rows,
  };
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const body = `${JSON.stringify(report, null, 2)}\n`;
  const file = args.json ?? path.join(dir, `${stamp}.json`);
  writeFileSync(file, body);
  writeFileSync(path.join(dir, 'latest.json'), body);
  process.stdout.write(
    `\nAccrue bench ${args.quick ? '(quick) ' : ''}${started.toISOString()} — ${machine.cpus} cores, Node ${machine.node}, load ${machine.loadAverage1m}\n`,
  );
  process.stdout.write(`${table}\n`);
  const bad = Object.entries(ordered).filter(([, o]) => o.status === 'failed' || o.status === 'missing');
  for (const [name, o] of bad)
    process.stdout.write(`part ${name}: ${o.status}${o.error ? ` (${o.error})` : ''}\n`);
  if (costText) process.stdout.write(`\n${costText}\n`);
  const met = rows.filter((r) => r.met === true).length;
  const targets = rows.filter((r) => r.met !== undefined).length;
  process.stdout.write(
    `\ntargets met: ${met} of ${targets}; results: ${path.relative(process.cwd(), file)}\n`,
  );
  if (bad.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  });
}
