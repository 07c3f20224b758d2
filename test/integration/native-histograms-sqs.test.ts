/**
 * Native histograms aggregated from SQS events, end to end over real protocols: ARIA execution events sent
 * to the SQS emulator (AWS SDK v3) → the local event-source runner → the real ingest Lambda handler
 * (functions/ingest, cold-started from its environment: DynamoDB Local) → the series table → the service
 * (its own DynamoStore over the same tables) → the protobuf exposition (decoded with the client model) →
 * a real Prometheus 2.42 with `--enable-feature=native-histograms`, which answers
 * `histogram_quantile(0.95, rate(aria_execution_latency_seconds[1m]))` from the native series.
 *
 * Producers: two instances of one desk (two SQS message streams into one group and one series), with a
 * redelivered message (same envelope id) that must not count twice.
 */
import { readFileSync } from 'node:fs';
import { DeleteQueueCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import protobuf from 'protobufjs';
import { parse } from 'yaml';
import { ensureQueuePair } from '../../shared/aws/queues';
import { SqsEventSourceRunner } from '../../shared/aws/sqs-runner';
import {
  bucketIndex,
  bucketLowerBound,
  bucketUpperBound,
  countsToDeltas,
  observeNative,
} from '../../shared/model/native';
import { createTables, DynamoStore } from '../../shared/store/dynamodb';
import { testDynamoClient, testSqsClient, uniqueName } from '../support/aws';
import { clientModelRoot } from '../support/client-model';
import { type RunningPrometheus, startPrometheus } from '../support/prometheus';
import { setLambdaEnv } from './ingest-harness';
import { http, promtool, type Running, startService } from './service-support';

const PB = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');
const NAME = 'aria_execution_latency_seconds';
const GROUP = { job: 'aria-pro', instance: 'desk-1' };
const LABELS = { symbol: 'EURUSD', action: 'BUY', status: 'success', regime: 'T' };

// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf objects, checked field by field
function decode(bytes: Buffer): any[] {
  const r = protobuf.Reader.create(bytes);
  const out: unknown[] = [];
  while (r.pos < r.len) out.push(MF.toObject(MF.decodeDelimited(r), { enums: String, longs: Number }));
  return out;
}

/** One round: 90 executions of 20 ms and 10 of 300 ms (the 95th percentile is 0.3 s), in 10 messages. */
function round(tag: string): { bodies: string[]; values: number[] } {
  const values = [...new Array(90).fill(0.02), ...new Array(10).fill(0.3)];
  const bodies: string[] = [];
  for (let m = 0; m < 10; m++) {
    const events = values.slice(m * 10, m * 10 + 10).map((latency_seconds, k) => ({
      kind: 'execution',
      time: Date.now() - 1000 + k,
      ...LABELS,
      latency_seconds,
      slippage_pips: 0.2,
    }));
    bodies.push(JSON.stringify({ v: 1, id: `${tag}-${m}`, group: GROUP, events }));
  }
  return { bodies, values };
}

describe('native histograms aggregated from SQS events (Lambda handler, DynamoDB Local, Prometheus 2.42)', () => {
  let sqs: SQSClient;
  let queues: { queueUrl: string; dlqUrl: string };
  let runner: SqsEventSourceRunner;
  let restoreEnv: () => void;
  let readStore: DynamoStore;
  let svc: Running;
  let prom: RunningPrometheus | undefined;

  const send = async (bodies: readonly string[]) => {
    for (let i = 0; i < bodies.length; i += 10) {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: bodies.slice(i, i + 10).map((b, k) => ({ Id: `m${k}`, MessageBody: b })),
        }),
      );
      if (out.Failed?.length) throw new Error(`send failed: ${JSON.stringify(out.Failed)}`);
    }
  };
  const scrapePb = async () => {
    const r = await http(svc.base, 'GET', '/metrics', undefined, { accept: PB });
    expect(r.headers['content-type']).toBe(PB);
    return decode(r.body).find((f) => f.name === NAME);
  };
  const countNow = async () => {
    const fam = await scrapePb();
    return Number(fam?.metric?.[0]?.histogram?.sampleCount ?? 0);
  };
  const waitCount = async (n: number) => {
    const until = Date.now() + 60_000;
    while ((await countNow()) < n) {
      if (Date.now() > until) throw new Error(`count stayed at ${await countNow()}, wanted ${n}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    sqs = testSqsClient();
    const name = uniqueName('nh-sqs');
    queues = await ensureQueuePair(sqs, {
      queueName: name,
      dlqName: `${name}-dlq`,
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    const tables = { seriesTable: uniqueName('nhseries'), ledgerTable: uniqueName('nhledger') };
    await createTables(testDynamoClient(), tables);
    restoreEnv = setLambdaEnv({ ...tables, dlqUrl: queues.dlqUrl, instance: 'nh-lambda' });
    // Imported after the environment is set: the entry reads its configuration at cold start.
    const { handler } = (await import('../../functions/ingest')) as {
      handler: (e: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
    };
    runner = new SqsEventSourceRunner({
      client: sqs,
      queueUrl: queues.queueUrl,
      waitTimeSeconds: 1,
      batchSize: 10,
      batchingWindowMs: 0,
      concurrency: 2,
      handler: (records) => handler({ Records: records as unknown as SQSEvent['Records'] }),
    });
    runner.start();
    readStore = await DynamoStore.open({ client: testDynamoClient(), ...tables, ownsClient: true });
    svc = await startService({ snapshotRefreshMs: 0 }, readStore);
  });
  afterAll(async () => {
    await prom?.stop();
    await runner?.stop();
    await svc?.stop();
    await readStore?.close();
    restoreEnv?.();
    for (const q of [queues?.queueUrl, queues?.dlqUrl])
      if (q) await sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => {});
    sqs?.destroy();
  });

  it('events are aggregated exactly once into native buckets, served in protobuf beside the classic ones', async () => {
    const a = round('desk1-a');
    // The two producers' messages interleaved, and one of them delivered twice (a producer retry).
    await send([...a.bodies, a.bodies[3]!]);
    await waitCount(100);
    // The redelivered message was processed and answered as a duplicate (the Lambda's own metrics say so).
    const duplicates = async () => {
      const text = (await http(svc.base, 'GET', '/metrics')).text;
      const m = /^accrue_ingest_messages_total\{[^}]*outcome="duplicate"[^}]*\} (\S+)$/m.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const until = Date.now() + 30_000;
    while ((await duplicates()) < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 300));
    // At least the producer's retry; under load SQS may redeliver more (visibility timeout): none counts.
    expect(await duplicates()).toBeGreaterThanOrEqual(1);
    expect(await countNow()).toBe(100);
    const fam = await scrapePb();
    expect(fam.type).toBe('HISTOGRAM');
    expect(fam.metric).toHaveLength(1);
    const m = fam.metric[0];
    expect(
      Object.fromEntries(m.label.map((l: { name: string; value: string }) => [l.name, l.value])),
    ).toEqual({
      ...GROUP,
      ...LABELS,
    });
    const h = m.histogram;
    const want = observeNative(a.values, 3, 0.0001).native;
    expect(h).toMatchObject({ sampleCount: 100, schema: 3, zeroThreshold: 0.0001 });
    expect(h.sampleSum).toBeCloseTo(90 * 0.02 + 10 * 0.3, 9);
    expect(h.positiveSpan).toEqual(want.positive.spans);
    expect(h.positiveDelta).toEqual(countsToDeltas(want.positive.counts));
    // The classic buckets are there too (client_golang's shape: one histogram, both layouts).
    const le = (x: number) =>
      h.bucket.find((b: { upperBound: number }) => b.upperBound === x).cumulativeCount ?? 0;
    expect([le(0.01), le(0.025), le(0.25), le(0.5)]).toEqual([0, 90, 90, 100]);
    // Text output carries the classic part and stays valid for promtool.
    const text = (await http(svc.base, 'GET', '/metrics')).text;
    expect(text).toMatch(/^aria_execution_latency_seconds_count\{[^}]*instance="desk-1"[^}]*\} 100$/m);
    expect(promtool(text).code).toBe(0);
  });

  it('Prometheus 2.42 answers histogram_quantile(0.95, rate(…[1m])) from the native series', async () => {
    prom = await startPrometheus(new URL(svc.base).host);
    await prom.waitFor(`count_over_time(${NAME}[1m])`, (r) => Number(r[0]?.value[1] ?? 0) >= 2, 60_000);
    const b = round('desk2-b');
    await send(b.bodies);
    await waitCount(200);
    await prom.waitFor(`histogram_count(${NAME})`, (r) => r[0]?.value[1] === '200', 60_000);

    // A native sample: the instant query answers a histogram, not a float.
    const raw = (await prom.query(NAME)) as unknown as { histogram?: [number, { count: string }] }[];
    expect(raw).toHaveLength(1);
    expect(raw[0]!.histogram?.[1].count).toBe('200');
    // With native histograms on, Prometheus 2.42 ingests a histogram with both layouts as native only.
    expect(await prom.query(`${NAME}_bucket`)).toEqual([]);

    const p95 = await prom.waitFor(
      `histogram_quantile(0.95, rate(${NAME}[1m]))`,
      (r) => r.length === 1 && Number(r[0]!.value[1]) > 0,
    );
    // The exact 95th percentile is 0.3 s; the answer lies in 0.3's bucket at schema 3 (error bound: its width).
    const i = bucketIndex(0.3, 3);
    const v = Number(p95[0]!.value[1]);
    expect(v).toBeGreaterThan(bucketLowerBound(i, 3));
    expect(v).toBeLessThanOrEqual(bucketUpperBound(i, 3));
    expect(Math.abs(v - 0.3) / 0.3).toBeLessThan(2 ** (1 / 8) - 1);
    expect(p95[0]!.metric).toEqual({ ...GROUP, ...LABELS });

    // The shipped recording rules read the native series when the classic ones are gone.
    const rules = parse(readFileSync('ops/prometheus/rules/aria.rules.yml', 'utf8')) as {
      groups: { rules: { record?: string; expr: string }[] }[];
    };
    const expr = (record: string) =>
      rules.groups.flatMap((g) => g.rules).find((r) => r.record === record)!.expr;
    const ruleP95 = await prom.query(expr('job_instance:aria_execution_latency_seconds:p95_rate5m'));
    expect(ruleP95.map((r) => r.metric)).toEqual([GROUP]);
    expect(Number(ruleP95[0]!.value[1])).toBeGreaterThan(bucketLowerBound(i, 3));
    expect(Number(ruleP95[0]!.value[1])).toBeLessThanOrEqual(bucketUpperBound(i, 3));
    const execs = await prom.query(expr('job_instance:aria_executions:rate5m'));
    expect(Number(execs[0]?.value[1])).toBeGreaterThan(0);
    const failures = await prom.query(expr('job_instance:aria_execution_failures:rate5m'));
    expect(failures.map((r) => [r.metric, r.value[1]])).toEqual([[GROUP, '0']]);

    // The Grafana performance dashboard's latency panels read the native series too.
    const board = JSON.parse(readFileSync('ops/grafana/dashboards/performance.json', 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const panel = board.panels.find((p) => p.title === 'Execution latency p50 / p95 / p99')!;
    const dashP95 = await prom.query(
      panel.targets[1]!.expr.replace(/\$__rate_interval/g, '5m').replace(/=~"\$\w+"/g, '=~".*"'),
    );
    expect(dashP95).toHaveLength(1);
    expect(Number(dashP95[0]!.value[1])).toBeGreaterThan(bucketLowerBound(i, 3));
    expect(Number(dashP95[0]!.value[1])).toBeLessThanOrEqual(bucketUpperBound(i, 3));
  });
});
