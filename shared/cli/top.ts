/**
 * `accrue top`: a live view of what is arriving — events accepted and rejected per second, dead letters,
 * refused pushes, and the most recently updated groups — from GET /api/v1/accrue/overview and
 * /api/v1/accrue/groups?order=recent. On a terminal it redraws in place; otherwise (a pipe, a file, CI)
 * it prints one plain line per interval.
 */
import { requireServiceUrl, resolveTarget } from '../client/local';
import { loadConfig } from '../config';
import { authHeader, getJson, type Io, parse, UsageError } from './common';
import { agoText, type GroupPageJson, labelText } from './groups';

interface Overview {
  readonly data: {
    readonly time: string;
    readonly groups: number | null;
    readonly series: number | null;
    readonly failed: number | null;
    readonly stale: number | null;
    readonly ingest: {
      readonly eventsAccepted: number;
      readonly eventsRejected: Record<string, number>;
      readonly messages: Record<string, number>;
      readonly duplicatesSkipped: number;
    };
    readonly push_rejected_since_start: Record<string, number>;
  };
}

interface Tick {
  readonly atMs: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly deadLettered: number;
  readonly pushRefused: number;
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

function tickOf(o: Overview): Tick {
  const i = o.data.ingest;
  return {
    atMs: Date.parse(o.data.time),
    accepted: i.eventsAccepted,
    rejected: sum(i.eventsRejected),
    deadLettered: i.messages.dead_lettered ?? 0,
    pushRefused: sum(o.data.push_rejected_since_start),
  };
}

function rate(now: Tick, prev: Tick | undefined, k: keyof Omit<Tick, 'atMs'>): string {
  if (!prev || now.atMs <= prev.atMs) return '';
  return ` (${(((now[k] - prev[k]) * 1000) / (now.atMs - prev.atMs)).toFixed(1)}/s)`;
}

function summary(o: Overview, t: Tick, prev: Tick | undefined): string {
  const d = o.data;
  return (
    `groups=${d.groups ?? '?'} series=${d.series ?? '?'} failed=${d.failed ?? '?'} stale=${d.stale ?? '?'} ` +
    `accepted=${t.accepted}${rate(t, prev, 'accepted')} rejected=${t.rejected}${rate(t, prev, 'rejected')} ` +
    `dead_lettered=${t.deadLettered} push_refused=${t.pushRefused}`
  );
}

function screen(base: string, o: Overview, t: Tick, prev: Tick | undefined, g: GroupPageJson): string {
  const d = o.data;
  const lines = [
    `accrue top — ${base} — ${d.time}   (Ctrl-C to quit)`,
    '',
    `groups ${d.groups ?? '?'}   series ${d.series ?? '?'}   failed ${d.failed ?? '?'}   stale ${d.stale ?? '?'}`,
    `events accepted ${t.accepted}${rate(t, prev, 'accepted')}   rejected ${t.rejected}${rate(t, prev, 'rejected')}   dead-lettered messages ${t.deadLettered}   pushes refused since start ${t.pushRefused}`,
  ];
  const reasons = Object.entries(d.ingest.eventsRejected).map(([r, n]) => `${r}=${n}`);
  if (reasons.length) lines.push(`rejected by reason: ${reasons.join(' ')}`);
  lines.push('', 'most recently updated groups:');
  for (const x of g.data.groups)
    lines.push(
      `  ${agoText(x.last_update_time, d.time).padEnd(12)} ${labelText(x.labels)}  series=${x.series}${x.state === 'failed' ? '  LAST PUSH FAILED' : ''}`,
    );
  if (g.data.groups.length === 0) lines.push('  (none yet)');
  return `${lines.join('\n')}\n`;
}

export async function cmdTop(args: string[], io: Io, help: (cmd: string) => number): Promise<number> {
  const { values, positionals } = parse(args, {
    url: { type: 'string' },
    auth: { type: 'string' },
    filter: { type: 'string' },
    interval: { type: 'string' },
    count: { type: 'string' },
    limit: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return help('top');
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const interval = Number(values.interval ?? '2');
  if (!Number.isFinite(interval) || interval < 0.2 || interval > 3600)
    throw new UsageError(`--interval ${JSON.stringify(values.interval)}: must be seconds from 0.2 to 3600`);
  const count = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);
  if (!Number.isInteger(count) && count !== Number.POSITIVE_INFINITY)
    throw new UsageError('--count: must be a whole number');
  if (count < 1) throw new UsageError('--count: must be a whole number >= 1');
  const limit = Number(values.limit ?? '15');
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw new UsageError('--limit: must be a whole number from 1 to 500');
  const config = loadConfig();
  const base = requireServiceUrl(resolveTarget({ url: values.url }, config), config.client.localFile);
  const headers = authHeader(values.auth ?? config.service.pushAuth);
  const q = new URLSearchParams({ order: 'recent', limit: String(limit) });
  if (values.filter) q.set('filter', values.filter);

  let stop = false;
  const onSig = () => {
    stop = true;
  };
  process.once('SIGINT', onSig);
  let prev: Tick | undefined;
  try {
    for (let n = 0; n < count && !stop; n++) {
      if (n > 0) await new Promise((r) => setTimeout(r, interval * 1000));
      const o = await getJson<Overview>(`${base}/api/v1/accrue/overview`, headers);
      const t = tickOf(o);
      if (io.isTTY) {
        const g = await getJson<GroupPageJson>(`${base}/api/v1/accrue/groups?${q}`, headers);
        io.out(`\x1b[H\x1b[2J${screen(base, o, t, prev, g)}`);
      } else io.out(`${o.data.time} ${summary(o, t, prev)}\n`);
      prev = t;
    }
  } finally {
    process.removeListener('SIGINT', onSig);
  }
  return 0;
}
