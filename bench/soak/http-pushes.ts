/**
 * The soak's HTTP side (issue 11): a real Accrue service in this process (fastify on 127.0.0.1, an
 * ephemeral port, over the soak's store), Pushgateway clients pushing to it over real HTTP while the SQS
 * load runs, and the model of what every push leaves behind, for the reader (./whole-reader.ts) and the
 * exact totals.
 *
 * Each client owns a group `{job="soak", instance="http-<c>"}` and sends, one after the other, PUTs and
 * POSTs of 5..250 series in the text format. At the fault rate an attempt is cut:
 * - `mid-body`: `Content-Length` of the whole body, half of it written, the socket destroyed;
 * - `mid-body-chunked`: the same with chunked transfer encoding (no length: the server can't know);
 * - `lost-answer`: the whole body sent with an `Idempotency-Key`, the socket destroyed before the answer
 *   is read (the push may or may not have been applied; the retry must not apply it twice).
 * The client then retries the same request until it gets a 2xx, as a Pushgateway client would. Every
 * group must end as its last complete push, and no reader may ever see a cut push or half a push.
 */
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../service/server';
import type { Labels, MetricFamily, ScalarFamily } from '../../shared/model/types';
import type { Store } from '../../shared/store/types';
import { rng } from '../fixtures';
import type { ExpectedTotals } from './expected';
import type { PushHistory } from './whole-reader';

export type CutKind = 'mid-body' | 'mid-body-chunked' | 'lost-answer';
const CUT_KINDS: readonly CutKind[] = ['mid-body', 'mid-body-chunked', 'lost-answer'];

/** A real service over `store` on 127.0.0.1 (ephemeral port); `stop` closes it (not the store). */
export async function startSoakService(store: Store): Promise<{ base: string; stop: () => Promise<void> }> {
  const app: FastifyInstance = await buildServer({
    store,
    config: {
      host: '127.0.0.1',
      port: 0,
      adminApi: false,
      maxBodyBytes: 1024 * 1024,
      snapshotRefreshMs: 0,
      snapshotMaxAgeMs: 60_000,
    },
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { base, stop: () => app.close() };
}

export interface HttpPushStats {
  /** Complete pushes (answered 2xx). */
  pushes: number;
  /** Requests sent, cut ones included. */
  attempts: number;
  cuts: Record<CutKind, number>;
  /** Answers by status code (cut attempts have none). */
  answers: Record<string, number>;
  /** Pushes given up after too many attempts (each is a failed check). */
  gaveUp: number;
  firstError?: string;
}

/** The text body of `families` (gauges and counters; integer values). */
function textBody(families: readonly MetricFamily[]): Buffer {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of (f as ScalarFamily).series) {
      const l = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      lines.push(`${f.name}{${l}} ${s.value}`);
    }
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/**
 * One HTTP attempt. `cut`: how it is cut (undefined: a normal request). Returns the status, or 'cut'.
 * A fresh connection each time (`agent: false`), so destroying the socket affects this request only.
 */
function attempt(
  base: URL,
  method: string,
  path: string,
  body: Buffer,
  key: string | undefined,
  cut: CutKind | undefined,
): Promise<number | 'cut'> {
  return new Promise((resolve, reject) => {
    const chunked = cut === 'mid-body-chunked';
    const headers: Record<string, string | number> = { 'content-type': 'text/plain; version=0.0.4' };
    if (!chunked) headers['content-length'] = body.length;
    if (key) headers['idempotency-key'] = key;
    const req = httpRequest(
      { host: base.hostname, port: base.port, method, path, headers, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', (e) => (cut ? resolve('cut') : reject(e)));
    if (cut === 'lost-answer') {
      // The whole request goes out; the connection dies before the answer is read.
      req.end(body, () => {
        req.destroy();
        resolve('cut');
      });
      return;
    }
    if (cut) {
      // Half the body reaches the server, then the connection dies.
      req.write(body.subarray(0, body.length >> 1), () => {
        setTimeout(() => {
          req.destroy();
          resolve('cut');
        }, 2);
      });
      return;
    }
    req.end(body);
  });
}

export interface HttpPushersOptions {
  readonly base: string;
  readonly clients: number;
  readonly faultRate: number;
  readonly seed: number;
  /** Pushes per client at least, whatever `stop()` says. */
  readonly minPushes: number;
  /** Pause between two pushes of one client (ms). */
  readonly pauseMs: number;
  readonly history: PushHistory;
}

/** The HTTP clients: `run()` pushes until `stop()` (and at least `minPushes` each). */
export class HttpPushers {
  readonly stats: HttpPushStats = {
    pushes: 0,
    attempts: 0,
    cuts: { 'mid-body': 0, 'mid-body-chunked': 0, 'lost-answer': 0 },
    answers: {},
    gaveUp: 0,
  };
  private stopped = false;
  private readonly base: URL;
  /** Each group's families after its last complete push (the client-side model). */
  private readonly current = new Map<number, Map<string, MetricFamily>>();

  constructor(private readonly o: HttpPushersOptions) {
    this.base = new URL(o.base);
  }

  static group(c: number): Labels {
    return { job: 'soak', instance: `http-${c}` };
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.o.clients }, (_, c) => this.client(c)));
  }

  /** Every group as its last complete push left it, into the exact totals. */
  addExpected(expected: ExpectedTotals): void {
    for (const [c, fams] of this.current) {
      const group = HttpPushers.group(c);
      expected.clearGroup(group);
      for (const f of fams.values())
        for (const s of (f as ScalarFamily).series) expected.gaugeSet(group, f.name, s.labels, 0, s.value);
    }
  }

  private async client(c: number): Promise<void> {
    const random = rng(this.o.seed * 7727 + c);
    const group = HttpPushers.group(c);
    const path = `/metrics/job/${group.job}/instance/${group.instance}`;
    const fams = new Map<string, MetricFamily>();
    this.current.set(c, fams);
    for (let k = 1; !this.stopped || k <= this.o.minPushes; k++) {
      const put = k === 1 || random() < 0.6;
      const pushed = this.families(k, put, random);
      // The state this push leaves, registered before it is sent (a reader may see it at once).
      if (put) fams.clear();
      for (const f of pushed) fams.set(f.name, f);
      // Client c's first push is cut the (c mod 3)-th way, so every way happens even in short runs.
      const cut =
        this.o.faultRate > 0 && k === 1
          ? CUT_KINDS[c % CUT_KINDS.length]
          : random() < this.o.faultRate
            ? CUT_KINDS[Math.floor(random() * CUT_KINDS.length)]
            : undefined;
      const key = cut === 'lost-answer' ? `soak-http-${this.o.seed}-${c}-${k}` : undefined;
      const how = `${put ? 'PUT' : 'POST'} ${pushed.map((f) => f.name).join('+')}${cut ? ` (cut ${cut})` : ''}`;
      this.o.history.expect(group, [...fams.values()], how);
      await this.push(put ? 'PUT' : 'POST', path, textBody(pushed), key, cut, random);
      if (this.o.pauseMs > 0) await sleep(this.o.pauseMs);
    }
  }

  /**
   * Push `k`: a gauge family of 40, 120 or 250 series (its values say which push wrote them), and in
   * some PUTs a counter family of 5 or 30 series; a POST replaces one of the two families.
   */
  private families(k: number, put: boolean, random: () => number): MetricFamily[] {
    const gauge = (): ScalarFamily => {
      const n = [40, 120, 250][Math.floor(random() * 3)]!;
      return {
        name: 'soak_http_gauge',
        help: 'Pushed over HTTP by the soak.',
        type: 'gauge',
        series: Array.from({ length: n }, (_, i) => ({ labels: { s: `s${i}` }, value: k * 1000 + i })),
      };
    };
    const counter = (): ScalarFamily => ({
      name: 'soak_http_total',
      help: '',
      type: 'counter',
      series: Array.from({ length: random() < 0.5 ? 5 : 30 }, (_, i) => ({
        labels: { c: `c${i}` },
        value: k * 1000 + 500 + i,
      })),
    });
    if (put) return random() < 0.5 ? [gauge(), counter()] : [gauge()];
    return [random() < 0.7 ? gauge() : counter()];
  }

  /** Sends one push until it is answered 2xx: the planned cut first, then at the fault rate, 3 cuts at most. */
  private async push(
    method: string,
    path: string,
    body: Buffer,
    key: string | undefined,
    firstCut: CutKind | undefined,
    random: () => number,
  ): Promise<void> {
    let cuts = 0;
    for (let n = 0; n < 30; n++) {
      let cut: CutKind | undefined = n === 0 ? firstCut : undefined;
      if (n > 0 && cuts < 3 && random() < this.o.faultRate)
        cut = key ? 'lost-answer' : random() < 0.5 ? 'mid-body' : 'mid-body-chunked';
      this.stats.attempts++;
      let r: number | 'cut';
      try {
        r = await attempt(this.base, method, path, body, key, cut);
      } catch (e) {
        this.stats.firstError ??= `${method} ${path}: ${(e as Error).message}`;
        await sleep(20 * (n + 1));
        continue;
      }
      if (r === 'cut') {
        cuts++;
        this.stats.cuts[cut!]++;
        continue;
      }
      this.stats.answers[r] = (this.stats.answers[r] ?? 0) + 1;
      if (r >= 200 && r < 300) {
        this.stats.pushes++;
        return;
      }
      this.stats.firstError ??= `${method} ${path}: answered ${r}`;
      // 4xx other than 409/429 won't get better: give up at once.
      if (r < 500 && r !== 409 && r !== 429) break;
      await sleep(Math.min(500, 20 * 2 ** n));
    }
    this.stats.gaveUp++;
  }
}
