import { parseText, renderSnapshot } from '../../../shared/expfmt';
import { escapeSnapshotNames, snapshotHasUtf8Names } from '../../../shared/expfmt/snapshot-escaping';
import type { MetricFamily } from '../../../shared/model/types';
import type { GroupState, StoreSnapshot } from '../../../shared/store/types';

function snap(groups: Array<[Record<string, string>, MetricFamily[]]>): StoreSnapshot {
  return {
    generation: 'g',
    takenAtMs: 0,
    groups: groups.map(
      ([key, families], i): GroupState => ({ key, families, lastUpdateMs: i, lastPushMs: i }),
    ),
  };
}
const gauge = (name: string, labels: Record<string, string>, value: number): MetricFamily => ({
  name,
  help: '',
  type: 'gauge',
  series: [{ labels, value }],
});

describe('snapshot name escaping', () => {
  it('a snapshot of legacy names is returned as it is under every scheme', () => {
    const s = snap([[{ job: 'a' }, [gauge('m', { x: '1' }, 1)]]]);
    expect(snapshotHasUtf8Names(s)).toBe(false);
    for (const e of ['underscores', 'dots', 'values', 'allow-utf-8'] as const)
      expect(escapeSnapshotNames(s, e)).toBe(s);
  });

  it('escaped objects are stable between calls (the render cache keys on them)', () => {
    const s = snap([[{ job: 'a' }, [gauge('m.x', {}, 1)]]]);
    const a = escapeSnapshotNames(s, 'underscores');
    const b = escapeSnapshotNames({ ...s }, 'underscores');
    expect(a.groups[0]).toBe(b.groups[0]);
  });

  it('names that escaping makes equal give one valid family: no series twice, the legacy label wins', () => {
    const s = snap([
      [{ job: 'a' }, [gauge('m.x', { 'l.b': 'utf8', l_b: 'legacy' }, 1), gauge('m_x', {}, 2)]],
      [{ job: 'b' }, [gauge('m_x', {}, 3)]],
    ]);
    const body = renderSnapshot(s, 'text', { escaping: 'underscores' });
    expect(body.match(/^# TYPE m_x gauge$/gm)).toHaveLength(1);
    expect(body).toContain('m_x{instance="",job="a",l_b="legacy"} 1\n');
    expect(() => parseText(body)).not.toThrow();
  });

  it('allow-utf-8 output parses back to the same names', () => {
    const s = snap([[{ job: 'a', 'g.k': 'v' }, [gauge('a "b"\n.c', { 'l\\x': '1' }, 1)]]]);
    const body = renderSnapshot(s, 'openmetrics', { escaping: 'allow-utf-8' });
    expect(body).toContain('# TYPE "a \\"b\\"\\n.c" gauge\n');
    const text = renderSnapshot(s, 'text', { escaping: 'allow-utf-8' });
    const fams = parseText(text, { names: 'utf8' });
    const f = fams.find((x) => x.name === 'a "b"\n.c')!;
    expect(Object.keys(f.series[0]!.labels).sort()).toEqual(['g.k', 'job', 'l\\x']);
    expect(() => parseText(text)).toThrow(/ACCRUE_UTF8_NAMES/);
  });
});
