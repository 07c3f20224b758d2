/**
 * The slow-reader case of `npm run hostile` (scripts/hostile.ts): clients reading a large /metrics one
 * socket read every few seconds (bytes keep moving, so the idle timeout never fires). The gateway must cut
 * each at its response deadline (ACCRUE_RESPONSE_DEADLINE_MS) and count it under `response_deadline`,
 * while a normal reader of the same body gets all of it. Run after the attack, so that the large groups
 * it pushes don't weigh on the attack's latency and memory rows.
 */
import { slowReader } from './hostile-clients';

export interface SlowReadersRun {
  readonly slowReaders: number;
  /** Groups of SERIES_PER_GROUP ~1 KB series pushed first (each push under the run's body limit). */
  readonly largeGroups: number;
  readonly readEveryMs: number;
  readonly deadlineMs: number;
  /** The run's bound for any connection (issue 13: 60 s). */
  readonly closeWithinMs: number;
}

type Request = (method: string, path: string, body?: string) => Promise<{ status: number; body: Buffer }>;

const SERIES_PER_GROUP = 2400;
const MiB = 1024 * 1024;

/** Runs the case; returns its table row. */
export async function slowReaders(
  port: number,
  run: SlowReadersRun,
  req: Request,
): Promise<{ name: string; figure: string; ok: boolean }> {
  await pushLargeGroups(run.largeGroups, req);
  const before = await cutCount(req);
  const readers = Array.from({ length: run.slowReaders }, () =>
    slowReader(port, '/metrics', run.readEveryMs, run.deadlineMs + 10_000),
  );
  const whole = await req('GET', '/metrics');
  const ends = await Promise.all(readers.map((r) => r.closed));
  const cuts = (await cutCount(req)) - before;
  const max = Math.max(...ends.map((e) => e.ms));
  const min = Math.min(...ends.map((e) => e.ms));
  return {
    name: `${run.slowReaders} slow readers of a ${(whole.body.length / MiB).toFixed(1)} MiB /metrics (a read every ${run.readEveryMs / 1000} s): cut at ${run.deadlineMs / 1000} s, counted`,
    figure: `${(min / 1000).toFixed(1)}-${(max / 1000).toFixed(1)} s; response_deadline +${cuts}; normal reader ${whole.status}, whole`,
    ok:
      min >= run.deadlineMs - 100 &&
      max < Math.min(run.closeWithinMs, run.deadlineMs + 5000) &&
      cuts === run.slowReaders &&
      whole.status === 200 &&
      whole.body.length > run.largeGroups * SERIES_PER_GROUP * 1000,
  };
}

async function pushLargeGroups(groups: number, req: Request): Promise<void> {
  const pad = 'p'.repeat(1000);
  for (let g = 0; g < groups; g++) {
    const lines = Array.from({ length: SERIES_PER_GROUP }, (_, i) => `large_g{i="${i}",pad="${pad}"} ${i}`);
    const body = `${lines.join('\n')}\n`;
    // 503 is the in-flight body budget still holding the attack's bytes (until a GC after they ended, up
    // to ~2 s, longer on a loaded machine): do what its Retry-After: 1 asks, as a real client would.
    let r = await req('PUT', `/metrics/job/large${g}`, body);
    for (let tries = 0; r.status === 503 && tries < 30; tries++) {
      await new Promise((done) => setTimeout(done, 1000));
      r = await req('PUT', `/metrics/job/large${g}`, body);
    }
    if (r.status !== 200) throw new Error(`large group push answered ${r.status}`);
  }
}

/** accrue_responses_cut_total{reason="response_deadline"} from one scrape (NaN when absent). */
async function cutCount(req: Request): Promise<number> {
  const text = (await req('GET', '/metrics')).body.toString('utf8');
  return Number(/^accrue_responses_cut_total\{reason="response_deadline"\} (\S+)$/m.exec(text)?.[1]);
}
