/**
 * Which groups of one family could expose an identical series once group labels are applied: two groups
 * can collide exactly when they agree on every label name both carry (a series of one may then carry the
 * other's remaining labels). The render deduplicates only across such groups.
 *
 * Checking every pair is quadratic (1,000 groups of one family: 500,000 comparisons per block build, which
 * stalled the service's event loop for ~100 ms per refresh at 100k series). Instead groups are bucketed by
 * their set of label names: groups with the same set collide only when their labels are identical, and
 * for two different sets only the names they share are compared, through a hash of those values. With k
 * distinct name sets that is O(k · n), and k is small in practice (one or two shapes per job).
 */

/** A group's non-empty labels as `[name, 'name="escaped value"']`, sorted by name. */
export type GroupPairs = readonly (readonly [string, string])[];

/** Indices of the groups that may collide with at least one other group of the list. */
export function collidingGroups(groups: readonly GroupPairs[]): Set<number> {
  const involved = new Set<number>();
  const shapes = byNameSet(groups);
  for (const members of shapes.values()) markSameProjection(groups, members, undefined, involved);
  const list = [...shapes.values()];
  for (let a = 0; a < list.length; a++) {
    for (let b = a + 1; b < list.length; b++) {
      const shared = sharedNames(groups[list[a]![0]!]!, groups[list[b]![0]!]!);
      markAcross(groups, list[a]!, list[b]!, shared, involved);
    }
  }
  return involved;
}

/** Group indices by their label-name set (in first-seen order). */
function byNameSet(groups: readonly GroupPairs[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  groups.forEach((pairs, i) => {
    const key = pairs.map((p) => p[0]).join('\n');
    let list = out.get(key);
    if (list === undefined) {
      list = [];
      out.set(key, list);
    }
    list.push(i);
  });
  return out;
}

function sharedNames(a: GroupPairs, b: GroupPairs): Set<string> {
  const names = new Set(a.map((p) => p[0]));
  return new Set(b.map((p) => p[0]).filter((n) => names.has(n)));
}

/** The group's label texts on `names` (all of them when undefined), as one string. */
function projection(pairs: GroupPairs, names: ReadonlySet<string> | undefined): string {
  let out = '';
  for (const [n, text] of pairs) if (names === undefined || names.has(n)) out += `${text}\n`;
  return out;
}

/** Within one name set: groups with identical labels collide. */
function markSameProjection(
  groups: readonly GroupPairs[],
  members: readonly number[],
  names: ReadonlySet<string> | undefined,
  involved: Set<number>,
): void {
  if (members.length < 2) return;
  const seen = new Map<string, number>();
  for (const i of members) {
    const key = projection(groups[i]!, names);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      involved.add(first);
      involved.add(i);
    }
  }
}

/** Across two name sets: groups that agree on the shared names collide. */
function markAcross(
  groups: readonly GroupPairs[],
  a: readonly number[],
  b: readonly number[],
  shared: ReadonlySet<string>,
  involved: Set<number>,
): void {
  const side = new Map<string, number[]>();
  for (const i of a) {
    const key = projection(groups[i]!, shared);
    const list = side.get(key);
    if (list === undefined) side.set(key, [i]);
    else list.push(i);
  }
  for (const j of b) {
    const match = side.get(projection(groups[j]!, shared));
    if (match === undefined) continue;
    involved.add(j);
    for (const i of match) involved.add(i);
  }
}
