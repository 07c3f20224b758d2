/**
 * `npm run demo`: a simulated ARIA PRO trading service publishing through AccruePublisher into the local
 * gateway (`npm start`). Symbols with random-walk prices, lognormal execution latency, slippage that
 * grows with volatility, occasional errors, MT5 disconnects and a kill-switch trip; P&L, win rate and
 * drawdown from the simulated equity. A live line shows events/s sent and what Accrue accepted/rejected
 * (read from /metrics' accrue_ingest_* counters); it redraws in place on a terminal and is printed as one
 * plain line per second when the output is a pipe or a file.
 *
 *   npm run demo -- [--duration 60] [--rate 200] [--queue-url URL --endpoint URL] [--url http://127.0.0.1:9091]
 *
 * The gateway is found through flags, ACCRUE_QUEUE_URL / ACCRUE_SQS_ENDPOINT / ACCRUE_URL,
 * .accrue/local.json, or else `npm start`'s defaults (SQS on 127.0.0.1:9324, queue accrue-events, service
 * on 127.0.0.1:9091).
 */
import { parseArgs } from 'node:util';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AccruePublisher } from '../shared/client';
import { loopbackCredentials, resolveTarget } from '../shared/client/local';
import { type AccrueConfig, loadConfig } from '../shared/config';

const HELP = `Usage: npm run demo -- [options]

  --duration SECONDS   how long to trade (default 60; 0 = until Ctrl-C)
  --rate N             events per second (default 200)
  --queue-url URL      ingest queue (default: env, .accrue/local.json, or npm start's queue)
  --endpoint URL       SQS endpoint (same defaults)
  --url URL            gateway base URL for the progress line (default http://127.0.0.1:9091)
  --instance NAME      instance label (default demo)
  --seed N             random seed (default: time)
  --quiet              no live progress line, only the summary (the line redraws in place on a
                       terminal, and is one plain line per second in a pipe or a file)
  -h, --help           this help
`;

const SYMBOLS = [
  { symbol: 'EURUSD', price: 1.0842, pip: 0.0001, vol: 0.00006 },
  { symbol: 'GBPUSD', price: 1.2705, pip: 0.0001, vol: 0.00008 },
  { symbol: 'USDJPY', price: 151.32, pip: 0.01, vol: 0.009 },
  { symbol: 'XAUUSD', price: 2351.4, pip: 0.1, vol: 0.35 },
  { symbol: 'USDCHF', price: 0.9031, pip: 0.0001, vol: 0.00005 },
] as const;
const ERROR_TYPES = ['timeout', 'requote', 'rejected', 'no_money', 'invalid_price'] as const;

/** mulberry32: small seeded PRNG so that a run can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

export interface DemoOptions {
  readonly durationS: number;
  readonly rate: number;
  readonly queueUrl: string;
  readonly endpoint?: string;
  readonly region: string;
  readonly serviceUrl?: string;
  readonly instance: string;
  readonly seed: number;
  readonly quiet: boolean;
  /** Output is a terminal: the progress line redraws in place (`\r`); otherwise one line per second. */
  readonly tty?: boolean;
  /** Stops the run early (SIGINT). */
  readonly signal?: AbortSignal;
}

export interface DemoResult {
  readonly sent: number;
  readonly failed: number;
  readonly dropped: number;
  readonly accepted?: number;
  readonly rejected?: number;
}

/** Sums the samples of one family in a text exposition body. */
export function sumFamily(text: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) total = (total ?? 0) + v;
  }
  return total;
}

async function ingestCounters(
  serviceUrl: string | undefined,
): Promise<{ accepted?: number; rejected?: number }> {
  if (!serviceUrl) return {};
  try {
    const res = await fetch(`${serviceUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return {};
    const text = await res.text();
    return {
      accepted: sumFamily(text, 'accrue_ingest_events_accepted_total') ?? 0,
      rejected: sumFamily(text, 'accrue_ingest_events_rejected_total') ?? 0,
    };
  } catch {
    return {};
  }
}

export async function runDemo(o: DemoOptions, write: (s: string) => void): Promise<DemoResult> {
  const rnd = prng(o.seed);
  const errors: string[] = [];
  const publisher = new AccruePublisher({
    queueUrl: o.queueUrl,
    endpoint: o.endpoint,
    region: o.region,
    credentials: loopbackCredentials(o.endpoint),
    group: { job: 'aria-pro', instance: o.instance },
    flushIntervalMs: 250,
    onError: (e) => errors.push(e.message),
  });
  const before = await ingestCounters(o.serviceUrl);
  const prices: number[] = SYMBOLS.map((s) => s.price);
  let equity = 100_000;
  let peak = equity;
  const dayStart = equity;
  let wins = 0;
  let trades = 0;
  let connected = true;
  let reconnectAt = 0;
  let killUntil = 0;
  let killTripped = false;
  const start = Date.now();
  const endAt = o.durationS > 0 ? start + o.durationS * 1000 : Number.POSITIVE_INFINITY;
  // The kill switch trips once, at 70% of a finite run (or after 45 s), and resets 10 s later.
  const killAt = start + (o.durationS > 0 ? o.durationS * 700 : 45_000);
  publisher.connection({ connected: true });
  publisher.killSwitch({ active: false });

  let lastSecond = start;
  let sentAtLastSecond = 0;
  let progress: { accepted?: number; rejected?: number } = {};
  let polling = false;
  const tickMs = 50;
  let due = 0;
  while (Date.now() < endAt && !o.signal?.aborted) {
    const now = Date.now();
    due += (o.rate * tickMs) / 1000;
    // Once per second: state events and the progress line.
    if (now - lastSecond >= 1000) {
      lastSecond = now;
      if (connected && rnd() < 1 / 40) {
        connected = false;
        reconnectAt = now + 3000 + rnd() * 5000;
        publisher.connection({ connected: false });
      } else if (!connected && now >= reconnectAt) {
        connected = true;
        publisher.connection({ connected: true });
      }
      if (!killTripped && now >= killAt) {
        killTripped = true;
        killUntil = now + 10_000;
        publisher.killSwitch({ active: true });
      } else if (killUntil > 0 && now >= killUntil) {
        killUntil = 0;
        publisher.killSwitch({ active: false });
      }
      peak = Math.max(peak, equity);
      publisher.pnl({ type: 'real_time', value: Math.round((equity - dayStart) * 100) / 100 });
      publisher.pnl({ type: 'daily', value: Math.round((equity - dayStart) * 100) / 100 });
      publisher.performance({
        win_rate: trades ? wins / trades : 0,
        drawdown_percent: Math.min(100, ((peak - equity) / peak) * 100),
      });
      const s = publisher.stats();
      const rate = s.eventsAccepted - sentAtLastSecond;
      sentAtLastSecond = s.eventsAccepted;
      if (!polling) {
        polling = true;
        void ingestCounters(o.serviceUrl).then((c) => {
          progress = c;
          polling = false;
        });
      }
      if (!o.quiet) {
        const acc =
          progress.accepted !== undefined && before.accepted !== undefined
            ? String(progress.accepted - before.accepted)
            : 'n/a';
        const rej =
          progress.rejected !== undefined && before.rejected !== undefined
            ? String(progress.rejected - before.rejected)
            : 'n/a';
        const state = `${connected ? 'MT5 up' : 'MT5 DOWN'}${killUntil > 0 ? ' KILL SWITCH' : ''}`;
        const line = `[${Math.round((now - start) / 1000)}s] sent ${s.eventsAccepted} (${rate}/s) | accrue accepted ${acc} rejected ${rej} | msgs ${s.messagesSent} | ${state}`;
        write(o.tty ? `\r${line}   ` : `${line}\n`);
      }
    }
    // Executions (and errors) for this tick.
    for (; due >= 1; due--) {
      const i = Math.floor(rnd() * SYMBOLS.length);
      const sym = SYMBOLS[i]!;
      prices[i] = Math.max(sym.pip, prices[i]! + normal(rnd) * sym.vol);
      const regime = rnd() < 0.5 ? 'T' : rnd() < 0.6 ? 'R' : 'B';
      const action = rnd() < 0.5 ? 'BUY' : 'SELL';
      // Lognormal latency (median ~35 ms; breakouts are slower), slippage grows with volatility.
      const latency = Math.min(
        3600,
        Math.exp(Math.log(0.035) + 0.7 * normal(rnd)) * (regime === 'B' ? 2 : 1),
      );
      const slippage = Math.min(10_000, Math.abs(normal(rnd)) * (regime === 'B' ? 1.5 : 0.4));
      const failed = !connected || killUntil > 0 || rnd() < 0.02;
      publisher.execution({
        symbol: sym.symbol,
        action,
        status: failed ? 'failed' : 'success',
        regime,
        latency_seconds: Math.round(latency * 1e6) / 1e6,
        slippage_pips: Math.round(slippage * 1000) / 1000,
        volume: Math.round((0.01 + rnd() * 2) * 100) / 100,
      });
      if (failed) {
        publisher.error({
          error_type: !connected
            ? 'disconnected'
            : killUntil > 0
              ? 'kill_switch'
              : ERROR_TYPES[Math.floor(rnd() * ERROR_TYPES.length)]!,
          symbol: sym.symbol,
        });
      } else {
        trades++;
        const pnl = normal(rnd) * 40 + 2;
        if (pnl > 0) wins++;
        equity += pnl;
      }
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }

  // Final state strictly after the last state event: gauge sets are last-writer-wins by event time, and
  // a tie within the same millisecond would keep the larger value (an active kill switch).
  const final = Date.now() + 1;
  publisher.connection({ connected: true, time: final });
  publisher.killSwitch({ active: false, time: final });
  const stats = await publisher.close({ timeoutMs: 30_000 });
  // Give the gateway a moment to ingest the last messages, so the summary shows them accepted.
  let after = await ingestCounters(o.serviceUrl);
  for (
    let i = 0;
    i < 20 &&
    after.accepted !== undefined &&
    before.accepted !== undefined &&
    after.accepted - before.accepted < stats.eventsSent;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 250));
    after = await ingestCounters(o.serviceUrl);
  }
  const accepted =
    after.accepted !== undefined && before.accepted !== undefined
      ? after.accepted - before.accepted
      : undefined;
  const rejected =
    after.rejected !== undefined && before.rejected !== undefined
      ? after.rejected - before.rejected
      : undefined;
  if (!o.quiet && o.tty) write('\n');
  for (const e of errors) write(`error: ${e}\n`);
  write(
    `demo done: sent ${stats.eventsSent} events in ${stats.messagesSent} messages` +
      `${stats.eventsFailed ? `, ${stats.eventsFailed} FAILED` : ''}${stats.eventsDropped ? `, ${stats.eventsDropped} dropped` : ''}` +
      `; accrue accepted ${accepted ?? 'n/a'}, rejected ${rejected ?? 'n/a'}` +
      `${o.serviceUrl ? `; see ${o.serviceUrl}/metrics` : ''}\n`,
  );
  return {
    sent: stats.eventsSent,
    failed: stats.eventsFailed,
    dropped: stats.eventsDropped,
    accepted,
    rejected,
  };
}

/** Where the demo sends: flags > env > .accrue/local.json > npm start's defaults (queue looked up by name). */
async function locate(flags: { queueUrl?: string; endpoint?: string; url?: string }, config: AccrueConfig) {
  const t = resolveTarget(flags, config);
  let { queueUrl, sqsEndpoint, serviceUrl } = t;
  if (!queueUrl) {
    sqsEndpoint ??= `http://127.0.0.1:${config.local.sqsPort}`;
    const credentials = loopbackCredentials(sqsEndpoint);
    const sqs = new SQSClient({
      endpoint: sqsEndpoint,
      region: t.region,
      maxAttempts: 1,
      ...(credentials ? { credentials } : {}),
    });
    try {
      queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: config.local.queueName }))).QueueUrl;
    } catch (e) {
      throw new Error(
        `no local gateway found (.accrue/local.json, ACCRUE_QUEUE_URL, or queue ${config.local.queueName} at ${sqsEndpoint}: ${(e as Error).message}): ` +
          'run `npm start` first, or pass --queue-url and --endpoint',
      );
    } finally {
      sqs.destroy();
    }
    serviceUrl ??= `http://127.0.0.1:${config.service.port}`;
  }
  return { queueUrl: queueUrl!, sqsEndpoint, serviceUrl, region: t.region };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60' },
      rate: { type: 'string', default: '200' },
      'queue-url': { type: 'string' },
      endpoint: { type: 'string' },
      url: { type: 'string' },
      instance: { type: 'string', default: 'demo' },
      seed: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const durationS = Number(values.duration);
  const rate = Number(values.rate);
  if (!Number.isFinite(durationS) || durationS < 0)
    throw new Error(`--duration ${values.duration}: must be a number of seconds >= 0`);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 100_000)
    throw new Error(`--rate ${values.rate}: must be events per second, 1 to 100000`);
  const config = loadConfig();
  const where = await locate(
    { queueUrl: values['queue-url'], endpoint: values.endpoint, url: values.url },
    config,
  );
  process.stdout.write(
    `ARIA demo → ${where.queueUrl}${where.serviceUrl ? ` (metrics: ${where.serviceUrl}/metrics)` : ''}; ${rate} events/s${durationS ? ` for ${durationS}s` : ', Ctrl-C to stop'}\n`,
  );
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const r = await runDemo(
    {
      durationS,
      rate,
      queueUrl: where.queueUrl,
      endpoint: where.sqsEndpoint,
      region: where.region,
      serviceUrl: where.serviceUrl,
      instance: values.instance!,
      seed: values.seed !== undefined ? Number(values.seed) : Date.now(),
      quiet: values.quiet!,
      tty: process.stdout.isTTY === true,
      signal: abort.signal,
    },
    (s) => process.stdout.write(s),
  );
  return r.failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
