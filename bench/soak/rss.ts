/**
 * The soak's memory samples: this process's RSS and V8 heap (after a full GC under `node --expose-gc`) and
 * other processes' RSS (the emulators), every `periodMs`, summarized with second-half trends.
 */
import { readFileSync } from 'node:fs';

export interface RssSample {
  readonly tS: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly others: Record<string, number>;
}

export interface RssSummary {
  samples: number;
  maxMiB: number;
  firstMiB: number;
  lastMiB: number;
  /** Least-squares slope over the second half of the run. */
  secondHalfSlopeMiBPerMin: number;
  /** V8 heap in use: what the process holds, apart from the allocator's slack. */
  heapMaxMiB: number;
  heapLastMiB: number;
  heapSecondHalfSlopeMiBPerMin: number;
  othersMaxMiB: Record<string, number>;
  /** At most 60 samples, evenly spaced. */
  series: RssSample[];
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const mib = (b: number) => Math.round(b / 104857.6) / 10;
const r1 = (x: number) => Math.round(x * 10) / 10;

export class RssSampler {
  readonly samples: RssSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly startedMs: number,
    private readonly watchPids: Readonly<Record<string, number>> = {},
    periodMs = 1000,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), periodMs);
    this.timer.unref();
  }

  sample(): void {
    // Under `node --expose-gc` every sample follows a full GC, so the heap figure is the live data.
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const others: Record<string, number> = {};
    for (const [k, pid] of Object.entries(this.watchPids)) others[k] = rssOf(pid);
    this.samples.push({
      tS: (performance.now() - this.startedMs) / 1000,
      rssMiB: mib(m.rss),
      heapMiB: mib(m.heapUsed),
      others,
    });
  }

  /** Stops sampling after one last sample. */
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  get lastMiB(): number | undefined {
    return this.samples.at(-1)?.rssMiB;
  }

  summary(): RssSummary {
    const s = this.samples;
    const half = s.slice(Math.floor(s.length / 2));
    const trend = (pick: (x: RssSample) => number) =>
      r1(
        slope(
          half.map((x) => x.tS / 60),
          half.map(pick),
        ),
      );
    const othersMaxMiB: Record<string, number> = {};
    for (const x of s)
      for (const [k, v] of Object.entries(x.others))
        if (Number.isFinite(v)) othersMaxMiB[k] = Math.max(othersMaxMiB[k] ?? 0, v);
    return {
      samples: s.length,
      maxMiB: Math.max(...s.map((x) => x.rssMiB)),
      firstMiB: s[0]!.rssMiB,
      lastMiB: s.at(-1)!.rssMiB,
      secondHalfSlopeMiBPerMin: trend((x) => x.rssMiB),
      heapMaxMiB: Math.max(...s.map((x) => x.heapMiB)),
      heapLastMiB: s.at(-1)!.heapMiB,
      heapSecondHalfSlopeMiBPerMin: trend((x) => x.heapMiB),
      othersMaxMiB,
      series: s.filter((_, k) => k % Math.max(1, Math.ceil(s.length / 60)) === 0),
    };
  }
}
