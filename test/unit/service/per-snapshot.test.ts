import { PerSnapshot } from '../../../service/per-snapshot';
import type { StoreSnapshot } from '../../../shared/store/types';

const snap = (generation: string): StoreSnapshot => ({ generation, takenAtMs: 0, groups: [] });

describe('PerSnapshot', () => {
  it('builds once per snapshot and again when the snapshot (generation) changes', () => {
    const c = new PerSnapshot<string>();
    const s1 = snap('1');
    let n = 0;
    const build = (s: StoreSnapshot) => `${s.generation}:${++n}`;
    expect([c.get(s1, build), c.get(s1, build), c.get(s1, build)]).toEqual(['1:1', '1:1', '1:1']);
    const s2 = snap('2');
    expect(c.get(s2, build)).toBe('2:2');
    expect(c.builds).toBe(2);
  });
});
