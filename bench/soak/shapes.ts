/**
 * The delivery shapes that broke stores before (issue 11), on their own groups beside the ARIA mix, each
 * with exact expected totals:
 * - **wide messages**: 150 counter series and 30 histogram series in one message, more ops than one
 *   DynamoDB transaction holds, so the store splits it into parts under one ledger header;
 * - **mixed ops on one series in one message**: a gauge set, incs and decs of the same gauge (→ set + adds,
 *   whatever the order), beside a counter and histogram of the same labels;
 * - **mixed ops across messages** (second phase, after the first drained, so the store's order is known): a
 *   message of only adds; a set older than the applied one with an inc (the set is stale, the inc counts); a
 *   newer set with an inc (replaces, then adds);
 * - **redeliveries in other batches**: every first-phase body sent again (same `id`, new SQS message) mixed
 *   into the second phase's batches: duplicates, nothing changes, and a set redelivered after adds does not
 *   undo them;
 * - **pushes killed half-way** (DynamoDB): a PUT of 250 series whose second transaction fails, retried by
 *   the client; then a PUT of 40 series replacing it, also killed once and retried: the group holds exactly
 *   the last PUT's series, and a concurrent reader (./whole-reader.ts) sees each PUT whole.
 * Messages go through the same queue, runner and faults as the rest of the soak.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Labels, MetricFamily } from '../../shared/model/types';
import type { Store } from '../../shared/store/types';
import { validatePushRequest } from '../../shared/store/valid';
import { rng } from '../fixtures';
import type { ExpectedTotals } from './expected';
import type { PushHistory } from './whole-reader';

const GROUP = { job: 'soak', instance: 'shapes' };
const WIDE_SERIES = 150;
const WIDE_HISTOGRAMS = 30;
const BOUNDS = [1, 10, 100];

interface Message {
  readonly id: string;
  readonly body: string;
}

type Event = Record<string, unknown>;

/** Sends raw envelopes past the publisher, 10 (or fewer, within SQS's 256 KiB) per SendMessageBatch. */
async function sendAll(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; ) {
    const batch: Message[] = [];
    let bytes = 0;
    while (i < messages.length && batch.length < 10 && bytes + messages[i]!.body.length < 200_000) {
      bytes += messages[i]!.body.length;
      batch.push(messages[i++]!);
    }
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((m, k) => ({ Id: `m${k}`, MessageBody: m.body })),
      }),
    );
    if (out.Failed?.length) throw new Error(`shape send failed: ${JSON.stringify(out.Failed)}`);
  }
}

export class Shapes {
  private readonly first: Message[] = [];
  private readonly random: () => number;
  /** Event time of the first phase's sets (well inside the ingest's accepted window). */
  private readonly t0 = Date.now() - 120_000;
  readonly counts = { wide: 0, mixed: 0, secondPhase: 0, redelivered: 0, pushesKilled: 0 };

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly expected: ExpectedTotals,
    seed: number,
    /** Messages of each kind in the first phase. */
    private readonly scale: number,
  ) {
    this.random = rng(seed * 613 + 7);
  }

  /** SQS messages the shapes sent (first phase, second phase, redeliveries). */
  get messagesSent(): number {
    return this.counts.wide + this.counts.mixed + this.counts.secondPhase + this.counts.redelivered;
  }

  private message(id: string, events: readonly Event[]): Message {
    return { id, body: JSON.stringify({ v: 1, id, group: GROUP, events }) };
  }

  private int(max: number): number {
    return 1 + Math.floor(this.random() * max);
  }

  // ---------------------------------------------------------------------------- first phase

  /** Wide messages and mixed-op messages (one gauge series each). */
  async sendFirstPhase(): Promise<void> {
    const out: Message[] = [];
    for (let n = 0; n < this.scale; n++) out.push(this.wide(n));
    for (let m = 0; m < 2 * this.scale; m++) out.push(this.mixed(m));
    this.first.push(...out);
    await sendAll(this.sqs, this.queueUrl, out);
  }

  private wide(n: number): Message {
    const time = this.t0 + n;
    const events: Event[] = [];
    for (let k = 0; k < WIDE_SERIES; k++) {
      const value = this.int(3);
      events.push({ kind: 'counter', time, name: 'soak_wide_total', labels: { k: `k${k}` }, value });
      this.expected.add(GROUP, 'soak_wide_total', { k: `k${k}` }, value);
    }
    for (let k = 0; k < WIDE_HISTOGRAMS; k++) {
      const value = this.int(200);
      const labels = { h: `h${k}` };
      events.push({ kind: 'histogram', time, name: 'soak_wide_size', labels, buckets: BOUNDS, value });
      this.expected.observe(GROUP, 'soak_wide_size', labels, BOUNDS, value);
    }
    this.counts.wide++;
    return this.message(`soak-wide-${n}`, events);
  }

  /** Set, then incs and decs of one gauge in one message, in shuffled order; a counter and histogram beside. */
  private mixed(m: number): Message {
    const labels = { m: `m${m}` };
    const time = this.t0 + 1000 + m;
    const value = this.int(1000);
    const incs = [this.int(9), this.int(9)];
    const dec = this.int(5);
    const gaugeOps: Event[] = [
      { kind: 'gauge', op: 'set', time, name: 'soak_mixed', labels, value },
      { kind: 'gauge', op: 'inc', time, name: 'soak_mixed', labels, value: incs[0] },
      { kind: 'gauge', op: 'dec', time, name: 'soak_mixed', labels, value: dec },
      { kind: 'gauge', op: 'inc', time, name: 'soak_mixed', labels, value: incs[1] },
    ];
    // The set is not first in the message: the store applies sets before adds anyway.
    const events: Event[] = [gaugeOps[1]!, gaugeOps[0]!, gaugeOps[2]!, gaugeOps[3]!];
    this.expected.gaugeSet(GROUP, 'soak_mixed', labels, time, value);
    this.expected.gaugeAdd(GROUP, 'soak_mixed', labels, incs[0]! + incs[1]! - dec);
    for (let i = 0; i < 2; i++) {
      events.push({ kind: 'counter', time, name: 'soak_mixed_total', labels, value: 1 });
      this.expected.add(GROUP, 'soak_mixed_total', labels, 1);
      const v = this.int(200);
      events.push({ kind: 'histogram', time, name: 'soak_mixed_size', labels, buckets: BOUNDS, value: v });
      this.expected.observe(GROUP, 'soak_mixed_size', labels, BOUNDS, v);
    }
    this.counts.mixed++;
    return this.message(`soak-mixed-set-${m}`, events);
  }

  // ---------------------------------------------------------------------------- second phase

  /**
   * After the first phase drained: new messages across the mixed series and wide counters, with every
   * first-phase body sent again, all shuffled into batches unlike the first ones.
   */
  async sendSecondPhase(): Promise<void> {
    const out: Message[] = [];
    for (let m = 0; m < 2 * this.scale; m++) {
      const labels = { m: `m${m}` };
      const time = this.t0 + 1000 + m;
      if (m % 3 === 0) {
        const a = this.int(9);
        out.push(
          this.message(`soak-mixed-adds-${m}`, [
            { kind: 'gauge', op: 'inc', time: time + 5, name: 'soak_mixed', labels, value: a },
          ]),
        );
        this.expected.gaugeAdd(GROUP, 'soak_mixed', labels, a);
        const b = this.int(9);
        out.push(
          this.message(`soak-mixed-stale-${m}`, [
            { kind: 'gauge', op: 'set', time: time - 500, name: 'soak_mixed', labels, value: 999_999 },
            { kind: 'gauge', op: 'inc', time, name: 'soak_mixed', labels, value: b },
          ]),
        );
        this.expected.gaugeSet(GROUP, 'soak_mixed', labels, time - 500, 999_999);
        this.expected.gaugeAdd(GROUP, 'soak_mixed', labels, b);
      } else if (m % 3 === 1) {
        const value = this.int(1000);
        const c = this.int(9);
        out.push(
          this.message(`soak-mixed-newer-${m}`, [
            { kind: 'gauge', op: 'inc', time: time + 1000, name: 'soak_mixed', labels, value: c },
            { kind: 'gauge', op: 'set', time: time + 1000, name: 'soak_mixed', labels, value },
          ]),
        );
        this.expected.gaugeSet(GROUP, 'soak_mixed', labels, time + 1000, value);
        this.expected.gaugeAdd(GROUP, 'soak_mixed', labels, c);
      }
    }
    for (let n = 0; n < this.scale; n++) {
      const k = `k${n % WIDE_SERIES}`;
      out.push(
        this.message(`soak-wide-more-${n}`, [
          { kind: 'counter', time: this.t0, name: 'soak_wide_total', labels: { k }, value: 2 },
        ]),
      );
      this.expected.add(GROUP, 'soak_wide_total', { k }, 2);
    }
    this.counts.secondPhase = out.length;
    this.counts.redelivered = this.first.length;
    out.push(...this.first);
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    await sendAll(this.sqs, this.queueUrl, out);
  }

  // ---------------------------------------------------------------------------- pushes

  /**
   * PUTs of 250 then 40 series into one group per round, each killed once half-way (`killNextPush` makes
   * the store's next push fail after its first transaction; undefined on stores without transactions)
   * and retried as a client would; the group must hold exactly the last PUT's series.
   */
  async killedPushes(
    store: Store,
    rounds: number,
    killNextPush: (() => void) | undefined,
    history?: PushHistory,
  ): Promise<void> {
    for (let r = 0; r < rounds; r++) {
      const group = { job: 'soak', instance: `push-${r}` };
      for (const [size, t] of [
        [250, 1],
        [40, 2],
      ] as const) {
        const families: MetricFamily[] = [
          {
            name: 'soak_pushed',
            help: 'Pushed by the soak.',
            type: 'gauge',
            series: Array.from({ length: size }, (_, i) => ({ labels: { s: `s${i}` }, value: i * t + r })),
          },
        ];
        const request = { method: 'PUT' as const, group, families, pushTimeMs: this.t0 + r * 10 + t };
        history?.expect(group, families);
        if (killNextPush) {
          killNextPush();
          const killed = await store.push(validatePushRequest(request)).then(
            () => false,
            () => true,
          );
          if (killed) this.counts.pushesKilled++;
        }
        await store.push(validatePushRequest(request));
        this.expected.clearGroup(group);
        for (const s of families[0]!.series as readonly { labels: Labels; value: number }[])
          this.expected.gaugeSet(group, 'soak_pushed', s.labels, 0, s.value);
      }
    }
  }
}
