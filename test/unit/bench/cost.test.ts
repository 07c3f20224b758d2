/**
 * The cost model's arithmetic against hand-computed cases (bench/cost.ts), and its input checks.
 */
import {
  type CostInputs,
  costInputProblems,
  costModel,
  DEFAULT_INPUTS,
  loadPrices,
  type Prices,
  readCostPerReplicaDay,
} from '../../../bench/cost';

/** Round prices, so the hand computations below stay readable. */
const PRICES: Prices = {
  region: 'test-1',
  recorded: '2026-01-01',
  sqs: { standardPerMillionRequests: 0.4, billedChunkBytes: 65_536 },
  lambda: { perMillionRequests: 0.2, arm64PerGbSecond: 0.0000133334 },
  dynamodb: { onDemandPerMillionWru: 0.625, onDemandPerMillionRru: 0.125 },
  fargate: { arm64PerVcpuHour: 0.03238, arm64PerGbHour: 0.00356 },
  comparison: { cloudwatchLogsIngestionPerGb: 0.5, emfEventBytes: 300 },
};

const BATCHED: CostInputs = {
  messageBytes: 32_768,
  eventsPerMessage: 500,
  lambdaBatchSize: 10,
  lambdaMemoryMb: 2048,
  ingestEventsPerSec: 1_000_000,
  writeRequestsPer1000Events: 2,
  wcuPer1000Events: 40,
  dynamoLatencyMs: 10,
  invocationOverheadMs: 0,
  deployment: {
    series: 8192,
    seriesItemBytes: 500,
    scrapeIntervalS: 60,
    scrapers: 1,
    eventsPerSec: 1000,
    refreshIntervalS: 1,
    groupChangesPerSec: 1,
    seriesPerGroup: 64,
    fargateVcpu: 1,
    fargateMemoryGb: 2,
    fargateTasks: 1,
  },
};

const line = (m: ReturnType<typeof costModel>, item: string) =>
  m.lines.find((l) => l.item === item)!.usdPerMillionEvents;

describe('cost model, hand-computed', () => {
  it('batched producer (500 events per 32 KiB message), Lambda batch 10', () => {
    const m = costModel(BATCHED, PRICES);
    // 2,000 messages. Send: 8 per call (256 KiB / 32 KiB) -> 250 calls x 4 chunks = 1,000.
    // Receive: 10 per call -> 200 calls x 5 chunks = 1,000. Delete: 200. 2,200 requests x $0.40/M.
    expect(line(m, 'SQS requests')).toBeCloseTo(0.00088, 9);
    // 200 invocations x $0.20/M.
    expect(line(m, 'Lambda requests')).toBeCloseTo(0.00004, 9);
    // 2048 MB >= 1769 MB: one full vCPU. 5,000 events / 1M/s = 5 ms CPU; 10 writes x 10 ms = 100 ms.
    // 200 x 0.105 s x 2 GB = 42 GB-s x $0.0000133334.
    expect(line(m, 'Lambda duration (arm64)')).toBeCloseTo(42 * 0.0000133334, 9);
    // 40 WCU per 1,000 events -> 40,000 WRU x $0.625/M.
    expect(line(m, 'DynamoDB writes (on demand)')).toBeCloseTo(0.025, 9);
    // Refreshes: 3,600/h x (8 index Queries x 0.5 + 1 changed group x ceil(64 x 500 / 4096) = 8) = 43,200;
    // full reads: 5/day x ceil(8192 x 500 / 4096) / 2 = 500 -> 104.1667/h. Over 3.6M events/h.
    const reads = ((43_200 + (5 / 24) * 500) / 3.6) * 0.125e-6;
    expect(line(m, 'DynamoDB reads (service refreshes)')).toBeCloseTo(reads, 9);
    // Fargate: 1 vCPU + 2 GB = $0.0395/h over 3.6M events/h.
    expect(m.fargateUsdPerMillion).toBeCloseTo(0.0395 / 3.6, 6);
    expect(m.fargateUsdPerMonth).toBeCloseTo(0.0395 * 730, 1);
    const variable = 0.00088 + 0.00004 + 42 * 0.0000133334 + 0.025 + reads;
    expect(m.variableUsdPerMillion).toBeCloseTo(variable, 5);
    expect(m.allInUsdPerMillion).toBeCloseTo(variable + 0.0395 / 3.6, 5);
    expect(m.met).toBe(false);
    // 1M x 300 bytes = 0.3 GB x $0.50.
    expect(m.cloudwatchEmfUsdPerMillion).toBeCloseTo(0.15, 9);
  });

  it('one event per message, Lambda batch 1: every event pays SQS and Lambda requests', () => {
    const m = costModel(
      {
        ...BATCHED,
        messageBytes: 100,
        eventsPerMessage: 1,
        lambdaBatchSize: 1,
        writeRequestsPer1000Events: 0,
        wcuPer1000Events: 0,
      },
      PRICES,
    );
    // 1M messages: 10 per send call (100,000 one-chunk calls), 1 per receive (1M), 100,000 deletes.
    expect(line(m, 'SQS requests')).toBeCloseTo(1.2e6 * 0.4e-6, 9);
    expect(line(m, 'Lambda requests')).toBeCloseTo(0.2, 9);
    expect(line(m, 'DynamoDB writes (on demand)')).toBe(0);
    // 1 event / 1M/s = 0.001 ms per invocation, 1M invocations x 2 GB.
    expect(line(m, 'Lambda duration (arm64)')).toBeCloseTo(1e6 * 0.000001 * 2 * 0.0000133334, 9);
  });

  it('scales Lambda CPU time by the vCPU share of small memory sizes', () => {
    const m = costModel({ ...BATCHED, lambdaMemoryMb: 1769 / 2, dynamoLatencyMs: 0 }, PRICES);
    // Half a vCPU: 5 ms of CPU takes 10 ms; 200 x 0.010 s x (884.5 / 1024) GB.
    expect(line(m, 'Lambda duration (arm64)')).toBeCloseTo(200 * 0.01 * (884.5 / 1024) * 0.0000133334, 9);
  });

  it('meets the target when the event rate spreads the fixed cost thin enough', () => {
    const m = costModel(
      { ...BATCHED, wcuPer1000Events: 10, deployment: { ...BATCHED.deployment, eventsPerSec: 100_000 } },
      PRICES,
    );
    expect(m.allInUsdPerMillion).toBeLessThanOrEqual(0.02);
    expect(m.met).toBe(true);
  });

  it('states its assumptions, with the price date', () => {
    const m = costModel(BATCHED, PRICES);
    const text = m.assumptions.join('\n');
    expect(text).toMatch(/64 KiB chunk/);
    expect(text).toMatch(/10 ms and they run one after another/);
    expect(text).toMatch(/8192 series/);
    expect(text).toMatch(/recorded 2026-01-01/);
  });

  it('the real prices.json computes the CloudWatch EMF comparison at about $0.15', () => {
    const m = costModel(DEFAULT_INPUTS, loadPrices());
    expect(m.cloudwatchEmfUsdPerMillion).toBeGreaterThan(0.1);
    expect(m.cloudwatchEmfUsdPerMillion).toBeLessThan(0.2);
  });
});

describe('cost model inputs', () => {
  it.each<[string, Partial<Record<keyof CostInputs, unknown>>, RegExp]>([
    ['NaN', { messageBytes: Number.NaN }, /messageBytes must be a finite number > 0, got NaN/],
    ['Infinity', { ingestEventsPerSec: Number.POSITIVE_INFINITY }, /ingestEventsPerSec .* got Infinity/],
    ['negative', { wcuPer1000Events: -1 }, /wcuPer1000Events must be a finite number >= 0, got -1/],
    ['zero batch', { lambdaBatchSize: 0 }, /lambdaBatchSize must be a finite number > 0/],
    ['a string', { eventsPerMessage: '300' }, /eventsPerMessage .* got 300/],
    ['over the SQS limit', { messageBytes: 300_000 }, /messageBytes must be at most 262144/],
    ['huge number', { messageBytes: 1e308 }, /messageBytes must be at most 262144/],
    ['no deployment', { deployment: null }, /deployment must be an object/],
    [
      'deployment fields',
      { deployment: { ...BATCHED.deployment, scrapeIntervalS: 0 } },
      /deployment.scrapeIntervalS/,
    ],
  ])('refuses %s, naming the field and the rule', (_, patch, message) => {
    const inputs = { ...BATCHED, ...patch } as CostInputs;
    expect(costInputProblems(inputs).join('; ')).toMatch(message);
    expect(() => costModel(inputs, PRICES)).toThrow(message);
  });

  it('reports every problem at once', () => {
    const inputs = { ...BATCHED, messageBytes: -1, lambdaMemoryMb: Number.NaN, dynamoLatencyMs: -5 };
    expect(costInputProblems(inputs)).toHaveLength(3);
  });

  it('ignores prototype tricks in the inputs', () => {
    const inputs = JSON.parse(
      `{"__proto__": {"messageBytes": 1}, ${JSON.stringify(BATCHED).slice(1)}`,
    ) as CostInputs;
    expect(costInputProblems(inputs)).toEqual([]);
    expect(line(costModel(inputs, PRICES), 'SQS requests')).toBeCloseTo(0.00088, 9);
  });
});

describe('write budget', () => {
  it('is the WRU per 1,000 events the target leaves after every other line', () => {
    const m = costModel(BATCHED, PRICES);
    const others = m.allInUsdPerMillion - 0.025;
    expect(m.writeBudgetWruPer1000Events).toBeCloseTo((0.02 - others) / 0.625e-6 / 1000, 2);
    // Spending exactly the budget meets the target.
    const at = costModel({ ...BATCHED, wcuPer1000Events: m.writeBudgetWruPer1000Events }, PRICES);
    expect(at.allInUsdPerMillion).toBeCloseTo(0.02, 4);
  });
});

describe('read cost of a service replica', () => {
  it('is the refreshes plus the full reads, at the RRU price', () => {
    // 2 RRU/s x 86,400 + 3 full reads of 1,000 RRU = 175,800 RRU x $0.125/M.
    expect(
      readCostPerReplicaDay({ unitsPerSec: 2, fullReadUnits: 1000, fullReadsPerDay: 3 }, PRICES),
    ).toBeCloseTo(175_800 * 0.125e-6, 9);
  });

  it('uses the measured read units when given', () => {
    const m = costModel({ ...BATCHED, measuredReadUnitsPerSec: 3 }, PRICES);
    const reads = ((3 * 3600 + (5 / 24) * 500) / 3.6) * 0.125e-6;
    expect(line(m, 'DynamoDB reads (service refreshes)')).toBeCloseTo(reads, 9);
    expect(() => costModel({ ...BATCHED, measuredReadUnitsPerSec: -1 }, PRICES)).toThrow(
      /measuredReadUnitsPerSec must be a finite number >= 0/,
    );
  });
});
