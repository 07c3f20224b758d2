/**
 * The cloud read path over HTTP on DynamoDB Local: the service's snapshot is refreshed in the background
 * from the change index while another process writes, scrapes never wait for those reads (made slow here
 * on purpose), concurrent scrapers never see a counter go back, and the read cost shows in Accrue's own
 * metrics.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables, DynamoStore, deleteTables } from '../../shared/store/dynamodb';
import { gaugeFamily, inc, req } from '../contract/helpers';
import { testDynamoClient, uniqueName } from '../support/aws';
import { validApplies, validPush } from '../support/edge';
import { http, type Running, startService } from './service-support';

/** Delays every Query of this client by `ms` (the refresh's reads; scrapes must not feel it). */
function slowQueries(client: DynamoDBClient, ms: number): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName === 'QueryCommand')
        await new Promise((r) => setTimeout(r, ms));
      return next(args);
    },
    { step: 'initialize', name: 'slowQueries' },
  );
}

function counter(text: string, instance: string): number | undefined {
  const m = new RegExp(`^rd_total\\{instance="${instance}",job="rd"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

function own(text: string, name: string, labels = ''): number {
  const m = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

describe('service on DynamoDB: reads follow changes, scrapes never wait', () => {
  const names = { seriesTable: uniqueName('rd-series'), ledgerTable: uniqueName('rd-ledger') };
  const admin = testDynamoClient();
  const QUERY_DELAY_MS = 1000;
  let writer: DynamoStore;
  let reader: DynamoStore;
  let svc: Running;

  beforeAll(async () => {
    await createTables(admin, names);
    writer = await DynamoStore.open({ client: testDynamoClient(), ...names, ownsClient: true });
    for (let i = 0; i < 12; i++)
      await writer.push(
        validPush({
          method: 'PUT',
          group: { job: 'bulk', instance: `b${i}` },
          pushTimeMs: 1,
          families: [
            gaugeFamily(
              'bulk_g',
              Array.from({ length: 20 }, (_, k): [Record<string, string>, number] => [{ k: `${k}` }, k]),
            ),
          ],
        }),
      );
    const client = testDynamoClient();
    slowQueries(client, QUERY_DELAY_MS);
    reader = await DynamoStore.open({ client, ...names, ownsClient: true });
    svc = await startService({ snapshotRefreshMs: 100 }, reader);
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    await reader?.close();
    await writer?.close();
    await deleteTables(admin, names).catch(() => undefined);
    admin.destroy();
  });

  it('concurrent scrapers: all 200, fast while refreshes are slow, counters never go back, then exact', async () => {
    // The first (full) read is a Scan, not delayed: wait until it is served.
    const first = await http(svc.base, 'GET', '/metrics');
    expect(first.status).toBe(200);
    expect(first.text).toMatch(/^bulk_g\{instance="b11",job="bulk",k="19"\} 19$/m);

    const instances = ['x', 'y', 'z'];
    const ROUNDS = 10;
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < ROUNDS; i++)
        await writer.apply(
          validApplies(
            instances.map((inst) =>
              req(`rd-${inst}-${i}`, { job: 'rd', instance: inst }, [inc('rd_total', {}, 1)]),
            ),
          ),
        );
      writing = false;
    })();
    const latencies: number[] = [];
    const scraper = async () => {
      const last = new Map<string, number>();
      while (writing) {
        const t0 = performance.now();
        const r = await http(svc.base, 'GET', '/metrics', undefined, { 'accept-encoding': 'gzip' });
        latencies.push(performance.now() - t0);
        expect(r.status).toBe(200);
        const text = (await import('node:zlib')).gunzipSync(r.body).toString('utf8');
        for (const inst of instances) {
          const v = counter(text, inst) ?? 0;
          expect(v).toBeGreaterThanOrEqual(last.get(inst) ?? 0);
          last.set(inst, v);
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    await Promise.all([writes, scraper(), scraper(), scraper()]);
    expect(latencies.length).toBeGreaterThan(10);
    // Every refresh takes at least two delayed Query rounds (change index, then the groups): a scrape
    // that waited for one would take at least 2 x QUERY_DELAY_MS (margin for a loaded machine).
    expect(Math.max(...latencies)).toBeLessThan(2 * QUERY_DELAY_MS);

    const deadline = Date.now() + 20_000;
    let text = '';
    for (;;) {
      text = (await http(svc.base, 'GET', '/metrics')).text;
      if (instances.every((i) => counter(text, i) === ROUNDS) || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    for (const inst of instances) expect(counter(text, inst)).toBe(ROUNDS);
    // The bulk groups were read once (the full read), not again.
    expect(own(text, 'accrue_snapshot_refreshes_total', '{kind="full"}')).toBe(1);
    expect(own(text, 'accrue_snapshot_refreshes_total', '{kind="incremental"}')).toBeGreaterThan(1);
    const reread = own(text, 'accrue_snapshot_groups_reread_total');
    expect(reread).toBeGreaterThanOrEqual(12 + 3);
    expect(reread).toBeLessThan(12 + 3 * (ROUNDS + 1) + 12);
    expect(own(text, 'accrue_store_read_requests_total')).toBeGreaterThan(0);
    expect(own(text, 'accrue_store_read_units_total')).toBeGreaterThan(0);
  }, 120_000);
});
