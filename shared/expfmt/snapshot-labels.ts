/**
 * The label text of the snapshot render (./snapshot-render.ts): a group's labels rendered once per grouping
 * key (`groupText`, cached by the key object), and the final label text of one series under its group
 * (`finalLabelsText`, the rule of ./final-labels.ts written as `name="value"` pairs), which is both what
 * the text formats write between the braces and the series' identity when groups are merged.
 */
import type { Labels } from '../model/types';
import type { GroupingKey } from '../store/types';
import { escapeLabelValue, labelPrefix } from './escape';
import { finalLabels, type GroupLabels } from './final-labels';

/** Rendered group labels (and, for protobuf, the pairs they come from). */
export interface GroupText extends GroupLabels {
  /** Sorted `name="value"` pairs. */
  readonly pairs: readonly (readonly [string, string])[];
  /** Sorted label text including `instance=""` when the group has no instance (for push_time_seconds). */
  readonly withInstance: string;
  readonly hasInstance: boolean;
  /** Identity of the group (its sorted label text without the implied instance). */
  readonly id: string;
}

/** A group's rendered labels, from `cache` (keyed by the grouping key object) or made and kept there. */
export function groupText(cache: WeakMap<GroupingKey, GroupText>, key: GroupingKey): GroupText {
  let gt = cache.get(key);
  if (gt !== undefined) return gt;
  const names = Object.keys(key).sort();
  const pairs: (readonly [string, string])[] = [];
  for (const n of names) {
    const v = key[n]!;
    if (v === '') continue;
    pairs.push([n, labelPrefix(n) + escapeLabelValue(v) + '"']);
  }
  const hasInstance = pairs.some((p) => p[0] === 'instance');
  const id = pairs.map((p) => p[1]).join(',');
  let withInstance = id;
  if (!hasInstance) {
    const all = [...pairs, ['instance', 'instance=""'] as const].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    withInstance = all.map((p) => p[1]).join(',');
  }
  const values = pairs.map((p) => [p[0], key[p[0]]!] as const);
  gt = { names: new Set(pairs.map((p) => p[0])), pairs, values, withInstance, hasInstance, id };
  cache.set(key, gt);
  return gt;
}

/** Reusable buffer for finalLabelsText (rendering is synchronous). */
const PARTS: string[] = [];

/**
 * Final label text of one series under a group (the rule: ./final-labels.ts), the group's pairs as
 * pre-rendered. Built with one `join`, so the result is a flat string.
 */
export function finalLabelsText(gt: GroupText, labels: Labels): string {
  const l = finalLabels(gt, labels);
  const parts = PARTS;
  parts.length = l.count;
  for (let k = 0; k < l.count; k++) {
    const gi = l.groupIndex[k]!;
    parts[k] = gi >= 0 ? gt.pairs[gi]![1] : labelPrefix(l.names[k]!) + escapeLabelValue(l.values[k]!) + '"';
  }
  return parts.join(',');
}
