/**
 * Cost model: dollars per million events at AWS list prices (bench/prices.json, with its date), from
 * figures measured in the same bench run where there are any, and stated assumptions where there aren't.
 *
 * Lines (every one with its formula in `assumptions`):
 * - SQS: requests are billed per started 64 KiB chunk of payload. Producer SendMessageBatch (messages per
 *   call bounded by 10 entries and 256 KiB), the event source mapping's ReceiveMessage (up to 10 messages
 *   per call) and DeleteMessageBatch (10 receipt handles per call, one chunk).
 * - Lambda: invocations from the batch size; GB-seconds from the measured ingest-core time per event
 *   (scaled to the vCPU share Lambda gives the configured memory) plus the DynamoDB requests of an
 *   invocation at a stated latency each, plus a stated fixed overhead per invocation.
 * - DynamoDB writes: WRU from the WCU per 1,000 events counted by bench/dynamo.ts (on demand).
 * - DynamoDB reads of the service, for a stated deployment (docs/store-dynamodb.md, "Reads"): scrapes are
 *   served from the snapshot and read nothing; each replica refreshes every `refreshIntervalS` with the
 *   change index (CHANGE_SHARDS eventually consistent Queries, 0.5 RRU each at least) plus one consistent
 *   Query per group changed meanwhile (1 RRU per 4 KiB of the group), and reads the whole table with an
 *   eventually consistent Scan at start and every 6 h (0.5 RRU per 4 KiB). bench/readpath.ts measures the
 *   read units per second; when given (`measuredReadUnitsPerSec`) they replace the computed refreshes.
 * - Fargate: the always-on service task as a fixed cost, spread over the stated event rate (separately).
 * - Comparison: CloudWatch embedded metric format, log ingestion alone, for `emfEventBytes` per event.
 *
 * `npx tsx bench/cost.ts` prints the model with its defaults; bench/run.ts feeds it measured inputs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CHANGE_SHARDS } from '../shared/store/dynamodb/change-index';

export interface Prices {
  readonly region: string;
  readonly recorded: string;
  readonly source?: string;
  readonly sqs: { readonly standardPerMillionRequests: number; readonly billedChunkBytes: number };
  readonly lambda: { readonly perMillionRequests: number; readonly arm64PerGbSecond: number };
  readonly dynamodb: { readonly onDemandPerMillionWru: number; readonly onDemandPerMillionRru: number };
  readonly fargate: { readonly arm64PerVcpuHour: number; readonly arm64PerGbHour: number };
  readonly comparison: { readonly cloudwatchLogsIngestionPerGb: number; readonly emfEventBytes: number };
}

export interface CostInputs {
  /** Producer message body size, bytes (measured: the ingest bench's average ARIA message). */
  readonly messageBytes: number;
  /** Events per producer message (measured with the message size). */
  readonly eventsPerMessage: number;
  /** Messages per Lambda invocation (the event source mapping's batch size). */
  readonly lambdaBatchSize: number;
  /** Lambda memory, MB. */
  readonly lambdaMemoryMb: number;
  /** Ingest core throughput on one full core, events/s (measured: bench/ingest.ts). */
  readonly ingestEventsPerSec: number;
  /** DynamoDB write requests per 1,000 events (measured: bench/dynamo.ts). */
  readonly writeRequestsPer1000Events: number;
  /** Write capacity units per 1,000 events (measured: bench/dynamo.ts, per DynamoDB's pricing rules). */
  readonly wcuPer1000Events: number;
  /** Assumed latency of one DynamoDB write request seen from Lambda, ms (requests of an invocation run one after another). */
  readonly dynamoLatencyMs: number;
  /** Assumed fixed time per invocation (runtime, logging, metrics write), ms. */
  readonly invocationOverheadMs: number;
  /** Read units per second of one service replica's refreshes, measured (bench/readpath.ts); replaces the computed ones. */
  readonly measuredReadUnitsPerSec?: number;
  readonly deployment: {
    /** Series stored (the Scan reads them all). */
    readonly series: number;
    /** Average series item size in DynamoDB, bytes. */
    readonly seriesItemBytes: number;
    /** Prometheus scrape interval, s (scrapes read nothing from DynamoDB; kept for the deployment's description). */
    readonly scrapeIntervalS: number;
    /** Background snapshot refresh of each replica, s (ACCRUE_SNAPSHOT_REFRESH_MS). @default 1 */
    readonly refreshIntervalS?: number;
    /** Groups written per second (each is re-read once per refresh it changed in). @default 10 */
    readonly groupChangesPerSec?: number;
    /** Series per group (the size of one re-read). @default 100 */
    readonly seriesPerGroup?: number;
    /** Prometheus servers scraping (HA pairs scrape twice). */
    readonly scrapers: number;
    /** Sustained event rate, events/s. */
    readonly eventsPerSec: number;
    /** Fargate task size and count. */
    readonly fargateVcpu: number;
    readonly fargateMemoryGb: number;
    readonly fargateTasks: number;
  };
}

export interface CostLine {
  readonly item: string;
  readonly usdPerMillionEvents: number;
  readonly detail: string;
}

export interface CostModel {
  readonly prices: { readonly region: string; readonly recorded: string };
  readonly lines: CostLine[];
  /** SQS + Lambda + DynamoDB writes + DynamoDB reads: what grows with events. */
  readonly variableUsdPerMillion: number;
  /** The Fargate task spread over `deployment.eventsPerSec`. */
  readonly fargateUsdPerMillion: number;
  readonly fargateUsdPerMonth: number;
  readonly allInUsdPerMillion: number;
  readonly targetUsdPerMillion: number;
  readonly met: boolean;
  readonly cloudwatchEmfUsdPerMillion: number;
  /** WRU per 1,000 events that would meet the target with every other line unchanged (<= 0: none would). */
  readonly writeBudgetWruPer1000Events: number;
  readonly assumptions: string[];
}

export const TARGET_USD_PER_MILLION = 0.02;
/** Lambda gives one full vCPU at 1,769 MB and a proportional share below (AWS Lambda developer guide). */
export const LAMBDA_MB_PER_VCPU = 1769;
const SQS_MAX_BATCH_BYTES = 262_144;
const HOURS_PER_MONTH = 730;
/** Full reads of the table per replica and day: the start and the 6-hourly resync. */
export const FULL_READS_PER_DAY = 5;

export const DEFAULT_INPUTS: CostInputs = {
  messageBytes: 45_000,
  eventsPerMessage: 300,
  lambdaBatchSize: 100,
  lambdaMemoryMb: 512,
  ingestEventsPerSec: 1_000_000,
  writeRequestsPer1000Events: 3,
  // The one-desk ARIA mix at batch 100 with the latency's native buckets, measured by bench/dynamo.ts
  // (2026-12-03, series packs): what docs/benchmarks.md's results use. bench/run.ts passes its own run's.
  wcuPer1000Events: 9.47,
  dynamoLatencyMs: 15,
  invocationOverheadMs: 5,
  deployment: {
    // One ARIA PRO deployment: ~20 trading instances x ~100 series each (the desk mix of bench/dynamo.ts
    // touches ~35 per batch). docs/benchmarks.md shows how the cost moves with series and event rate.
    series: 2_000,
    seriesItemBytes: 300,
    scrapeIntervalS: 15,
    scrapers: 2,
    eventsPerSec: 1_000,
    fargateVcpu: 0.5,
    fargateMemoryGb: 1,
    fargateTasks: 1,
  },
};

export function loadPrices(file = path.join(__dirname, 'prices.json')): Prices {
  return JSON.parse(readFileSync(file, 'utf8')) as Prices;
}

/** Problems with the inputs (all of them), empty when the model can be computed. */
export function costInputProblems(i: CostInputs): string[] {
  const out: string[] = [];
  const pos = (name: string, v: unknown, allowZero = false) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0))
      out.push(`${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(v)}`);
  };
  pos('messageBytes', i.messageBytes);
  pos('eventsPerMessage', i.eventsPerMessage);
  pos('lambdaBatchSize', i.lambdaBatchSize);
  pos('lambdaMemoryMb', i.lambdaMemoryMb);
  pos('ingestEventsPerSec', i.ingestEventsPerSec);
  pos('writeRequestsPer1000Events', i.writeRequestsPer1000Events, true);
  pos('wcuPer1000Events', i.wcuPer1000Events, true);
  pos('dynamoLatencyMs', i.dynamoLatencyMs, true);
  pos('invocationOverheadMs', i.invocationOverheadMs, true);
  const d = i.deployment;
  if (typeof d !== 'object' || d === null) out.push('deployment must be an object');
  else {
    pos('deployment.series', d.series, true);
    pos('deployment.seriesItemBytes', d.seriesItemBytes);
    pos('deployment.scrapeIntervalS', d.scrapeIntervalS);
    pos('deployment.scrapers', d.scrapers, true);
    pos('deployment.eventsPerSec', d.eventsPerSec);
    pos('deployment.fargateVcpu', d.fargateVcpu, true);
    pos('deployment.fargateMemoryGb', d.fargateMemoryGb, true);
    pos('deployment.fargateTasks', d.fargateTasks, true);
    if (d.refreshIntervalS !== undefined) pos('deployment.refreshIntervalS', d.refreshIntervalS);
    if (d.groupChangesPerSec !== undefined) pos('deployment.groupChangesPerSec', d.groupChangesPerSec, true);
    if (d.seriesPerGroup !== undefined) pos('deployment.seriesPerGroup', d.seriesPerGroup);
  }
  if (i.measuredReadUnitsPerSec !== undefined)
    pos('measuredReadUnitsPerSec', i.measuredReadUnitsPerSec, true);
  if (typeof i.messageBytes === 'number' && i.messageBytes > SQS_MAX_BATCH_BYTES)
    out.push(
      `messageBytes must be at most ${SQS_MAX_BATCH_BYTES} (SQS's message limit), got ${i.messageBytes}`,
    );
  return out;
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Computes the model; throws an Error naming every bad input. */
export function costModel(inputs: CostInputs, prices: Prices): CostModel {
  const problems = costInputProblems(inputs);
  if (problems.length > 0) throw new Error(`cost model: ${problems.join('; ')}`);
  const i = inputs;
  const d = i.deployment;
  const chunk = prices.sqs.billedChunkBytes;
  const perM = (requests: number, pricePerMillion: number) => requests * (pricePerMillion / 1e6);
  const assumptions: string[] = [];
  const lines: CostLine[] = [];

  // ---- SQS
  const messages = 1e6 / i.eventsPerMessage;
  const perSendCall = Math.max(1, Math.min(10, Math.floor(SQS_MAX_BATCH_BYTES / i.messageBytes)));
  const sendCalls = messages / perSendCall;
  const sendBilled = sendCalls * Math.ceil((perSendCall * i.messageBytes) / chunk);
  const perReceive = Math.min(10, i.lambdaBatchSize);
  const receiveCalls = messages / perReceive;
  const receiveBilled = receiveCalls * Math.ceil((perReceive * i.messageBytes) / chunk);
  const deleteBilled = messages / 10;
  const sqsRequests = sendBilled + receiveBilled + deleteBilled;
  const sqsUsd = perM(sqsRequests, prices.sqs.standardPerMillionRequests);
  lines.push({
    item: 'SQS requests',
    usdPerMillionEvents: sqsUsd,
    detail: `${Math.round(sqsRequests)} billed requests: ${Math.round(sendBilled)} SendMessageBatch chunks (${perSendCall} messages/call) + ${Math.round(receiveBilled)} ReceiveMessage chunks (${perReceive}/call) + ${Math.round(deleteBilled)} DeleteMessageBatch`,
  });
  assumptions.push(
    `SQS bills each started ${chunk / 1024} KiB chunk of a request's payload as one request; a producer message is ${i.messageBytes} bytes holding ${i.eventsPerMessage} events (${Math.round(i.messageBytes / i.eventsPerMessage)} bytes/event)`,
    `the producer packs ${perSendCall} messages per SendMessageBatch (10 entries, 256 KiB), the event source mapping receives ${perReceive} per ReceiveMessage and deletes 10 per DeleteMessageBatch; idle long polls of the mapping are not counted`,
  );

  // ---- Lambda
  const invocations = messages / i.lambdaBatchSize;
  const vcpuShare = Math.min(1, i.lambdaMemoryMb / LAMBDA_MB_PER_VCPU);
  const eventsPerInvocation = i.lambdaBatchSize * i.eventsPerMessage;
  const cpuMs = ((eventsPerInvocation / i.ingestEventsPerSec) * 1000) / vcpuShare;
  const requestsPerInvocation = (i.writeRequestsPer1000Events * eventsPerInvocation) / 1000;
  const dynamoMs = requestsPerInvocation * i.dynamoLatencyMs;
  const invocationMs = cpuMs + dynamoMs + i.invocationOverheadMs;
  const gbSeconds = invocations * (invocationMs / 1000) * (i.lambdaMemoryMb / 1024);
  const lambdaRequestsUsd = perM(invocations, prices.lambda.perMillionRequests);
  const lambdaDurationUsd = gbSeconds * prices.lambda.arm64PerGbSecond;
  lines.push({
    item: 'Lambda requests',
    usdPerMillionEvents: lambdaRequestsUsd,
    detail: `${Math.round(invocations)} invocations of ${i.lambdaBatchSize} messages`,
  });
  lines.push({
    item: 'Lambda duration (arm64)',
    usdPerMillionEvents: lambdaDurationUsd,
    detail: `${r6(gbSeconds)} GB-s: ${invocationMs.toFixed(1)} ms per invocation = ${cpuMs.toFixed(1)} ms CPU + ${dynamoMs.toFixed(1)} ms DynamoDB + ${i.invocationOverheadMs} ms overhead, at ${i.lambdaMemoryMb} MB`,
  });
  assumptions.push(
    `Lambda: ${i.lambdaMemoryMb} MB arm64 gets ${vcpuShare.toFixed(3)} vCPU (1 vCPU at ${LAMBDA_MB_PER_VCPU} MB), so the measured ${Math.round(i.ingestEventsPerSec)} events/s of one core becomes ${Math.round(i.ingestEventsPerSec * vcpuShare)} events/s`,
    `each DynamoDB write request of an invocation takes ${i.dynamoLatencyMs} ms and they run one after another (${requestsPerInvocation.toFixed(1)} per invocation); plus ${i.invocationOverheadMs} ms fixed per invocation`,
  );

  // ---- DynamoDB writes
  const wru = i.wcuPer1000Events * 1000;
  const writesUsd = perM(wru, prices.dynamodb.onDemandPerMillionWru);
  lines.push({
    item: 'DynamoDB writes (on demand)',
    usdPerMillionEvents: writesUsd,
    detail: `${Math.round(wru)} WRU (${i.wcuPer1000Events} per 1,000 events)`,
  });
  assumptions.push(
    'DynamoDB on-demand; transactional writes cost 2 WRU per started KB per item (as counted by bench/dynamo.ts)',
  );

  // ---- DynamoDB reads (service)
  const refreshS = d.refreshIntervalS ?? 1;
  const perGroup = d.seriesPerGroup ?? 100;
  const groups = d.series / perGroup;
  const changedPerRefresh = Math.min(groups, (d.groupChangesPerSec ?? 10) * refreshS);
  const groupRru = Math.ceil((perGroup * d.seriesItemBytes) / 4096);
  const indexRru = CHANGE_SHARDS * 0.5;
  const incrementalPerHour =
    i.measuredReadUnitsPerSec !== undefined
      ? i.measuredReadUnitsPerSec * 3600
      : (3600 / refreshS) * (indexRru + changedPerRefresh * groupRru);
  const fullRru = Math.ceil((d.series * d.seriesItemBytes) / 4096) / 2;
  const fullPerHour = (FULL_READS_PER_DAY / 24) * fullRru;
  const rruPerHour = d.fargateTasks * (incrementalPerHour + fullPerHour);
  const eventsPerHour = d.eventsPerSec * 3600;
  const rruPerMillion = (rruPerHour / eventsPerHour) * 1e6;
  const readsUsd = perM(rruPerMillion, prices.dynamodb.onDemandPerMillionRru);
  lines.push({
    item: 'DynamoDB reads (service refreshes)',
    usdPerMillionEvents: readsUsd,
    detail: `${Math.round(rruPerHour)} RRU/h = ${d.fargateTasks} replica(s) x (${Math.round(incrementalPerHour)} incremental + ${Math.round(fullPerHour)} full); ${Math.round(rruPerMillion)} RRU per million events at ${d.eventsPerSec} events/s`,
  });
  assumptions.push(
    `deployment: ${d.series} series of ~${d.seriesItemBytes} bytes in groups of ${perGroup}, ${d.eventsPerSec} events/s sustained (${((eventsPerHour * 24 * 30) / 1e9).toFixed(2)} billion events/month); scrapes (every ${d.scrapeIntervalS} s by ${d.scrapers} Prometheus server(s)) are served from the snapshot and read nothing`,
    i.measuredReadUnitsPerSec !== undefined
      ? `each replica's refreshes read ${i.measuredReadUnitsPerSec} RRU/s (measured by bench/readpath.ts)`
      : `each replica refreshes every ${refreshS} s: the change index (${CHANGE_SHARDS} eventually consistent Queries, ${indexRru} RRU) plus ${changedPerRefresh} changed group(s) of ${groupRru} RRU (consistent Query)`,
    `each replica reads the whole table ${FULL_READS_PER_DAY} times a day (start + resync every 6 h), eventually consistent: ${fullRru} RRU each`,
  );

  // ---- Fargate
  const fargatePerHour =
    d.fargateTasks *
    (d.fargateVcpu * prices.fargate.arm64PerVcpuHour + d.fargateMemoryGb * prices.fargate.arm64PerGbHour);
  const fargateUsd = (fargatePerHour / eventsPerHour) * 1e6;
  assumptions.push(
    `service: ${d.fargateTasks} Fargate arm64 task(s) of ${d.fargateVcpu} vCPU / ${d.fargateMemoryGb} GB, always on ($${(fargatePerHour * HOURS_PER_MONTH).toFixed(2)} per month), spread over ${d.eventsPerSec} events/s; load balancer, NAT, logs and data transfer are not included`,
  );

  // ---- comparison
  const emfUsd =
    ((1e6 * prices.comparison.emfEventBytes) / 1e9) * prices.comparison.cloudwatchLogsIngestionPerGb;
  assumptions.push(
    `CloudWatch EMF comparison: ${prices.comparison.emfEventBytes}-byte log events at $${prices.comparison.cloudwatchLogsIngestionPerGb} per GB (10^9 bytes) of log ingestion alone, no storage or queries`,
    `prices: ${prices.region}, list prices recorded ${prices.recorded} (bench/prices.json)`,
  );

  const variable = sqsUsd + lambdaRequestsUsd + lambdaDurationUsd + writesUsd + readsUsd;
  const allIn = variable + fargateUsd;
  return {
    prices: { region: prices.region, recorded: prices.recorded },
    lines,
    variableUsdPerMillion: variable,
    fargateUsdPerMillion: fargateUsd,
    fargateUsdPerMonth: Math.round(fargatePerHour * HOURS_PER_MONTH * 100) / 100,
    allInUsdPerMillion: allIn,
    targetUsdPerMillion: TARGET_USD_PER_MILLION,
    met: allIn <= TARGET_USD_PER_MILLION,
    cloudwatchEmfUsdPerMillion: emfUsd,
    writeBudgetWruPer1000Events:
      Math.round(
        ((TARGET_USD_PER_MILLION - (allIn - writesUsd)) / prices.dynamodb.onDemandPerMillionWru) * 1e6,
      ) / 1000,
    assumptions,
  };
}

/** Read cost of one service replica per day: refreshes (read units per second) plus full reads. */
export function readCostPerReplicaDay(
  r: { readonly unitsPerSec: number; readonly fullReadUnits: number; readonly fullReadsPerDay: number },
  prices: Prices,
): number {
  const rru = r.unitsPerSec * 86_400 + r.fullReadUnits * r.fullReadsPerDay;
  return (rru * prices.dynamodb.onDemandPerMillionRru) / 1e6;
}

/** Plain-text rendering: one line per item, then the totals and the assumptions. */
export function formatCostModel(m: CostModel): string {
  const out = [`cost per million events (AWS list prices ${m.prices.region}, ${m.prices.recorded})`];
  for (const l of m.lines)
    out.push(`  ${l.item.padEnd(34)} $${l.usdPerMillionEvents.toFixed(6)}  ${l.detail}`);
  out.push(`  ${'variable (grows with events)'.padEnd(34)} $${m.variableUsdPerMillion.toFixed(6)}`);
  out.push(
    `  ${'Fargate service task (fixed)'.padEnd(34)} $${m.fargateUsdPerMillion.toFixed(6)}  ($${m.fargateUsdPerMonth}/month)`,
  );
  out.push(
    `  ${'all-in'.padEnd(34)} $${m.allInUsdPerMillion.toFixed(6)}  target <= $${m.targetUsdPerMillion}: ${m.met ? 'met' : 'MISSED'}`,
  );
  out.push(`  ${'CloudWatch EMF (ingestion only)'.padEnd(34)} $${m.cloudwatchEmfUsdPerMillion.toFixed(6)}`);
  out.push(
    `  the target leaves ${m.writeBudgetWruPer1000Events} WRU per 1,000 events for DynamoDB writes, all else unchanged`,
  );
  out.push('assumptions:');
  for (const a of m.assumptions) out.push(`  - ${a}`);
  return out.join('\n');
}

/** For bench/run.ts: the model as a bench part result. */
export async function run(opts: { quick: boolean; inputs?: CostInputs }): Promise<Record<string, unknown>> {
  const inputs = opts.inputs ?? DEFAULT_INPUTS;
  return { inputs, ...costModel(inputs, loadPrices()) };
}

if (require.main === module) {
  console.log(formatCostModel(costModel(DEFAULT_INPUTS, loadPrices())));
}
