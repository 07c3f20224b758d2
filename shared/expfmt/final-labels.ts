/**
 * The one rule for a series' final labels under its group, shared by the snapshot's text and protobuf
 * renders: the group's non-empty labels win over same-named series labels, the series' other non-empty
 * labels follow, `instance=""` is added when neither has an instance, and everything is sorted by name.
 */
import type { Labels } from '../model/types';

/** A group's labels as the render merges them into its series'. */
export interface GroupLabels {
  /** Names of the group's non-empty labels (they override series labels of the same name). */
  readonly names: ReadonlySet<string>;
  /** The non-empty (name, value) pairs, sorted by name. */
  readonly values: readonly (readonly [string, string])[];
  readonly hasInstance: boolean;
}

/**
 * The final labels of one series, in order: `names[k]`, `values[k]`, and `groupIndex[k]`, the pair's index
 * in the group's `values` (-1 for a series label and for the implied `instance=""`). Valid until the next
 * call (one reused list: rendering is synchronous).
 */
export interface FinalLabelList {
  readonly count: number;
  readonly names: readonly string[];
  readonly values: readonly string[];
  readonly groupIndex: readonly number[];
}

const SERIES_NAMES: string[] = [];
const NAMES: string[] = [];
const VALUES: string[] = [];
const GROUP_INDEX: number[] = [];
const OUT = { count: 0, names: NAMES, values: VALUES, groupIndex: GROUP_INDEX };

/** The final labels of a series with `labels` under `group`, sorted by name. */
export function finalLabels(group: GroupLabels, labels: Labels): FinalLabelList {
  const own = SERIES_NAMES;
  own.length = 0;
  for (const k in labels) {
    if (!Object.hasOwn(labels, k) || group.names.has(k) || labels[k] === '') continue;
    own.push(k);
  }
  if (own.length > 1) own.sort();
  const gv = group.values;
  let needInstance = !group.hasInstance;
  let count = 0;
  let i = 0;
  let j = 0;
  while (i < gv.length || j < own.length) {
    const g = i < gv.length ? gv[i]! : undefined;
    const n = j < own.length ? own[j]! : undefined;
    const fromGroup = n === undefined || (g !== undefined && g[0] < n);
    const name = fromGroup ? g![0] : n;
    if (needInstance && name >= 'instance') {
      if (name !== 'instance') {
        NAMES[count] = 'instance';
        VALUES[count] = '';
        GROUP_INDEX[count++] = -1;
      }
      needInstance = false;
    }
    NAMES[count] = name;
    if (fromGroup) {
      VALUES[count] = g![1];
      GROUP_INDEX[count++] = i++;
    } else {
      VALUES[count] = labels[name]!;
      GROUP_INDEX[count++] = -1;
      j++;
    }
  }
  if (needInstance) {
    NAMES[count] = 'instance';
    VALUES[count] = '';
    GROUP_INDEX[count++] = -1;
  }
  OUT.count = count;
  return OUT;
}
