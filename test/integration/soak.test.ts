/**
 * The soak, sized down for CI (bench/soak.ts): 50,000 events through the real producer, the SQS emulator,
 * the local event-source runner and the ingest pipeline into the DynamoDB store on DynamoDB Local (and a
 * smaller run on the memory store), with every fault kind injected: worker death after commit,
 * throttling (store and SDK), visibility expiry, duplicate producer sends, lost DynamoDB responses,
 * malformed messages; and the delivery shapes (bench/soak/shapes.ts) at their smallest scale: wide
 * messages committed in parts, gauge set + incs in one message and across messages, every shape message
 * redelivered in other batches, PUTs killed half-way and retried; and over real HTTP to an in-process
 * service, Pushgateway clients whose pushes are cut mid-body (socket destroyed) or lose their answer and are
 * retried, while a concurrent reader checks every push is seen whole. Ends with exact totals against the
 * producer-side count: zero lost, zero doubled.
 */
import { runSoak, type SoakReport } from '../../bench/soak';
import { dynamoEndpoint, sqsEndpoint } from '../support/aws';

function explain(rep: SoakReport): string {
  return rep.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`)
    .join('\n');
}

/** The HTTP clients cut pushes every way and got every push applied; the reader saw each push whole. */
function expectHttpShapes(rep: SoakReport): void {
  expect(rep.http.gaveUp).toBe(0);
  expect(rep.http.pushes).toBeGreaterThanOrEqual(30);
  expect(rep.http.cuts['mid-body']).toBeGreaterThan(0);
  expect(rep.http.cuts['mid-body-chunked']).toBeGreaterThan(0);
  expect(rep.http.cuts['lost-answer']).toBeGreaterThan(0);
  expect(rep.http.attempts).toBeGreaterThan(rep.http.pushes);
  expect(rep.reader.problems).toBe(0);
  expect(rep.reader.examples).toEqual([]);
  expect(rep.reader.snapshots).toBeGreaterThan(2);
}

describe('soak with injected faults', () => {
  it('50,000 events on DynamoDB Local: every series exact, every malformed message dead-lettered', async () => {
    const rep = await runSoak({
      events: 50_000,
      faultRate: 0.3,
      store: 'dynamodb',
      sqsEndpoint: sqsEndpoint(),
      dynamoEndpoint: dynamoEndpoint(),
      seed: 11,
      // Smaller messages than the CLI's default: more messages, so more faults in a short run.
      maxMessageBytes: 24_576,
      drainTimeoutMs: 120_000,
      shapeScale: 4,
      // One HTTP client per way of cutting a push; pushes and reads paced so the SQS path keeps most
      // of DynamoDB Local.
      httpClients: 3,
      httpPauseMs: 250,
      readerPauseMs: 250,
    });
    expect(explain(rep)).toBe('');
    expect(rep.shapes).toEqual({ wide: 4, mixed: 8, secondPhase: 13, redelivered: 12, pushesKilled: 4 });
    expectHttpShapes(rep);
    expect(rep.deadLetters.unexpected).toEqual([]);
    expect(rep.failed).toBe(0);
    expect(rep.lostEvents).toBe(0);
    expect(rep.doubledEvents).toBe(0);
    expect(rep.eventsPublished).toBe(50_000);
    expect(rep.series).toBeGreaterThan(50);
    // Every fault kind really happened, on at least 10% of the messages.
    for (const k of [
      'crash-after-commit',
      'throttle',
      'visibility-expiry',
      'duplicate-send',
      'malformed',
    ] as const)
      expect(rep.faults[k]).toBeGreaterThan(0);
    expect(rep.faultedMessageShare).toBeGreaterThanOrEqual(0.1);
    // Redeliveries happened and were absorbed: more receives than messages, some batches left on the queue.
    expect(rep.runner.received!).toBeGreaterThan(rep.producer.messagesSent);
    expect(rep.runner.handlerErrors!).toBeGreaterThan(0);
    expect(rep.deadLetters.byReason.decode).toBeGreaterThan(0);
    expect(rep.deadLetters.byReason.invalid).toBeGreaterThan(0);
  }, 300_000);

  it('20,000 events on the memory store, faults at 50%', async () => {
    const rep = await runSoak({
      events: 20_000,
      faultRate: 0.5,
      store: 'memory',
      sqsEndpoint: sqsEndpoint(),
      seed: 5,
      maxMessageBytes: 16_384,
      drainTimeoutMs: 120_000,
      shapeScale: 4,
    });
    expect(explain(rep)).toBe('');
    expect([rep.lostEvents, rep.doubledEvents, rep.failed]).toEqual([0, 0, 0]);
    expectHttpShapes(rep);
    expect(rep.faultedMessageShare).toBeGreaterThanOrEqual(0.1);
  }, 180_000);

  it('refuses bad options before starting anything', async () => {
    const base = { store: 'memory' as const, sqsEndpoint: sqsEndpoint() };
    await expect(runSoak({ ...base, events: 0 })).rejects.toThrow(/events must be a positive integer/);
    await expect(runSoak({ ...base, events: 10, faultRate: Number.NaN })).rejects.toThrow(
      /faultRate must be in 0..1/,
    );
    await expect(runSoak({ ...base, events: 10, store: 'dynamodb' })).rejects.toThrow(
      /dynamoEndpoint is required/,
    );
  });
});
