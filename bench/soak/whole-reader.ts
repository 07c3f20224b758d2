/**
 * "A push is seen whole" (issue 11, defect 4), checked during the soak: `PushHistory` holds, per pushed
 * group, every state its complete pushes produce (registered before each push is sent), and `WholeReader`
 * snapshots the store in a loop (on DynamoDB through a second store instance, as another service replica
 * would) and checks that each of those groups equals one of its states exactly, and never an older state
 * than one it saw before. A mix of old and new series, a cut push, or half of a push that is still being
 * written would each be a state no push produced.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { labelsKey } from '../../shared/model/identity';
import type { Labels, MetricFamily } from '../../shared/model/types';
import type { StoreSnapshot } from '../../shared/store/types';

/** A group's content, canonical: families by name, series by labels, with their values. */
export function canonicalState(families: readonly MetricFamily[]): string {
  return families
    .filter((f) => f.series.length > 0)
    .map((f) => {
      const series = (f.series as readonly { labels: Labels }[])
        .map((s) => `${labelsKey(s.labels)}=${seriesValue(s)}`)
        .sort();
      return `${f.name}|${f.type}|${series.join(',')}`;
    })
    .sort()
    .join('\n');
}

/** A series' value(s) as text: scalars by value, histograms and summaries by count, sum and buckets. */
function seriesValue(s: { labels: Labels }): string {
  const x = s as { value?: number; count?: number; sum?: number; buckets?: { le: number; count: number }[] };
  if (x.value !== undefined) return String(x.value);
  return `${x.count}/${x.sum}/${(x.buckets ?? []).map((b) => `${b.le}:${b.count}`).join(';')}`;
}

/** `name:<series>` and, for scalars, the distinct thousands of their values (the soak's pushes number them). */
function describeFamily(f: MetricFamily): string {
  const ks = new Set<number>();
  for (const s of f.series as readonly { value?: number }[])
    if (s.value !== undefined) ks.add(Math.floor(s.value / 1000));
  return `${f.name}:${f.series.length}${ks.size ? `@${[...ks].sort((a, b) => a - b).join(',')}` : ''}`;
}

/** States are kept as digests: a long run registers thousands of pushes of up to 280 series. */
function digest(state: string): string {
  return createHash('sha1').update(state).digest('base64');
}

interface Watched {
  readonly key: Labels;
  /** Digest of a canonical state → its index in the order the pushes were made (0: before the first push). */
  readonly states: Map<string, number>;
  /** Index of the state the reader saw last. */
  seen: number;
  /** Index of the newest registered state. */
  last: number;
  /** The last few pushes, described. */
  readonly recent: string[];
}

export class PushHistory {
  readonly #groups = new Map<string, Watched>();

  /**
   * Registers the state `group` will have once the push about to be sent is applied; `how` describes
   * the push (the last few are named in a problem).
   */
  expect(group: Labels, families: readonly MetricFamily[], how = ''): void {
    const k = labelsKey(group);
    let w = this.#groups.get(k);
    if (!w) {
      w = { key: group, states: new Map([[digest(''), 0]]), seen: 0, last: 0, recent: [] };
      this.#groups.set(k, w);
    }
    w.last++;
    w.states.set(digest(canonicalState(families)), w.last);
    w.recent.push(`${w.last}: ${how}${how ? ' → ' : ''}${families.map(describeFamily).join(' ')}`);
    if (w.recent.length > 4) w.recent.shift();
  }

  get groups(): number {
    return this.#groups.size;
  }

  /**
   * Checks `snap` against the history: one problem per watched group whose state no push produced or is
   * older than one seen before. `final`: every group must also be in its newest state.
   */
  check(snap: StoreSnapshot, final = false): string[] {
    const present = new Map<string, readonly MetricFamily[]>();
    for (const g of snap.groups) present.set(labelsKey(g.key), g.families);
    const problems: string[] = [];
    for (const [k, w] of this.#groups) {
      const state = canonicalState(present.get(k) ?? []);
      const at = w.states.get(digest(state));
      const name = JSON.stringify(w.key);
      if (at === undefined) {
        const n = (present.get(k) ?? []).map(describeFamily).join(' ');
        problems.push(
          `${name}: a state no push produced (${n || 'no families'}); last seen push ${w.seen}, pushes ${w.recent.join(' | ')}`,
        );
        continue;
      }
      if (at < w.seen) problems.push(`${name}: went back from push ${w.seen} to push ${at}`);
      w.seen = Math.max(w.seen, at);
      if (final && at !== w.last) problems.push(`${name}: ends at push ${at}, not the last (${w.last})`);
    }
    return problems;
  }
}

export interface ReaderStats {
  snapshots: number;
  groupChecks: number;
  problems: number;
  examples: string[];
}

/** Snapshots `read()` in a loop until `stop()`, checking every snapshot against `history`. */
export class WholeReader {
  readonly stats: ReaderStats = { snapshots: 0, groupChecks: 0, problems: 0, examples: [] };
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly read: () => Promise<StoreSnapshot>,
    private readonly history: PushHistory,
    private readonly pauseMs: number,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          this.note(this.history.check(await this.read()));
        } catch (e) {
          this.note([`snapshot failed: ${(e as Error).message}`]);
        }
        await sleep(this.pauseMs);
      }
    })();
  }

  /** Stops the loop, then checks one last snapshot, in which every group must be in its newest state. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.note(this.history.check(await this.read(), true));
  }

  private note(problems: string[]): void {
    this.stats.snapshots++;
    this.stats.groupChecks += this.history.groups;
    this.stats.problems += problems.length;
    for (const p of problems) if (this.stats.examples.length < 5) this.stats.examples.push(p);
  }
}
