/**
 * Stateless HA: two service instances, each with its own DynamoStore client, over the same DynamoDB Local
 * tables, serve the same /metrics after pushes to either one.
 */
import { createTables, DynamoStore, deleteTables } from '../../shared/store/dynamodb';
import { testDynamoClient, uniqueName } from '../support/aws';
import { http, promtool, type Running, startService } from './service-support';

describe('two instances over one DynamoDB store', () => {
  const names = { seriesTable: uniqueName('svc-series'), ledgerTable: uniqueName('svc-ledger') };
  const admin = testDynamoClient();
  let a: Running;
  let b: Running;
  let storeA: DynamoStore;
  let storeB: DynamoStore;

  beforeAll(async () => {
    await createTables(admin, names);
    storeA = await DynamoStore.open({ client: testDynamoClient(), ...names, ownsClient: true });
    storeB = await DynamoStore.open({ client: testDynamoClient(), ...names, ownsClient: true });
    a = await startService({ snapshotRefreshMs: 0 }, storeA);
    b = await startService({ snapshotRefreshMs: 0 }, storeB);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await storeA?.close();
    await storeB?.close();
    await deleteTables(admin, names).catch(() => undefined);
    admin.destroy();
  });

  /** The stored part of a scrape (Accrue's own per-instance metrics differ by design). */
  async function stored(r: Running): Promise<string> {
    const res = await http(r.base, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(promtool(res.text).code).toBe(0);
    return res.text
      .split('\n')
      .filter((l) => !/^(# (HELP|TYPE) )?accrue_/.test(l))
      .join('\n');
  }

  it('pushes to either instance show up identically on both', async () => {
    expect(
      (
        await http(
          a.base,
          'PUT',
          '/metrics/job/ha/instance/one',
          '# HELP x_total X.\n# TYPE x_total counter\nx_total{k="1"} 5\n',
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await http(
          b.base,
          'PUT',
          '/metrics/job/ha/instance/two',
          '# HELP x_total X.\n# TYPE x_total counter\nx_total{k="1"} 7\n',
        )
      ).status,
    ).toBe(200);
    const fromA = await stored(a);
    const fromB = await stored(b);
    expect(fromA).toBe(fromB);
    expect(fromA).toMatch(/^x_total\{instance="one",job="ha",k="1"\} 5$/m);
    expect(fromA).toMatch(/^x_total\{instance="two",job="ha",k="1"\} 7$/m);

    // A conflict seen by B for a family A created, then a delete on A, seen by B.
    const bad = await http(
      b.base,
      'PUT',
      '/metrics/job/ha/instance/three',
      '# HELP x_total X.\n# TYPE x_total gauge\nx_total 1\n',
    );
    expect(bad.status).toBe(400);
    expect((await http(a.base, 'DELETE', '/metrics/job/ha/instance/one')).status).toBe(202);
    const afterA = await stored(a);
    const afterB = await stored(b);
    expect(afterB).toBe(afterA);
    expect(afterB).not.toMatch(/instance="one"/);
    expect(afterB).toMatch(/^push_failure_time_seconds\{instance="three",job="ha"\} [1-9]/m);
  });
});
