import { rng } from '../../../bench/fixtures';
import { collidingGroups, type GroupPairs } from '../../../shared/expfmt/group-collisions';

/** The definition: two groups may collide when they agree on every label name both carry. */
function bruteForce(groups: readonly GroupPairs[]): Set<number> {
  const out = new Set<number>();
  for (let a = 0; a < groups.length; a++)
    for (let b = a + 1; b < groups.length; b++) {
      const bm = new Map(groups[b]!);
      if (groups[a]!.every(([n, t]) => !bm.has(n) || bm.get(n) === t)) {
        out.add(a);
        out.add(b);
      }
    }
  return out;
}

const pairs = (labels: Record<string, string>): GroupPairs =>
  Object.keys(labels)
    .sort()
    .map((n) => [n, `${n}="${labels[n]}"`] as const);

describe('collidingGroups', () => {
  it('groups of one shape with distinct values never collide', () => {
    const gs = Array.from({ length: 1000 }, (_, i) => pairs({ job: 'bench', instance: `g${i}` }));
    expect(collidingGroups(gs).size).toBe(0);
  });

  it('a group without instance collides with every group of its job that has one', () => {
    const gs = [
      pairs({ job: 'a', instance: 'x' }),
      pairs({ job: 'a', instance: 'y' }),
      pairs({ job: 'a' }),
      pairs({ job: 'b', instance: 'x' }),
    ];
    expect([...collidingGroups(gs)].sort()).toEqual([0, 1, 2]);
  });

  it('groups with no label names in common may always collide; identical labels collide', () => {
    expect([...collidingGroups([pairs({ a: '1' }), pairs({ b: '2' })])].sort()).toEqual([0, 1]);
    expect([...collidingGroups([pairs({ a: '1' }), pairs({ a: '1' }), pairs({ a: '2' })])].sort()).toEqual([
      0, 1,
    ]);
  });

  it('values that differ only in characters the projection joins on stay apart', () => {
    const gs = [pairs({ a: 'x\n', b: '1' }), pairs({ a: 'x', c: '2' }), pairs({ a: 'x\\n', b: '1' })];
    expect(collidingGroups(gs)).toEqual(bruteForce(gs));
  });

  it('agrees with the pairwise definition on random label sets', () => {
    const r = rng(42);
    const names = ['job', 'instance', 'desk', 'region', '__proto__'];
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(r() * 12);
      const gs = Array.from({ length: n }, () => {
        const labels: Record<string, string> = Object.create(null);
        for (const name of names) if (r() < 0.5) labels[name] = String(Math.floor(r() * 3));
        return pairs(labels);
      });
      expect(collidingGroups(gs)).toEqual(bruteForce(gs));
    }
  });
});
