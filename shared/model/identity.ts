import type { Labels } from './types';

/**
 * Separator between the parts of an identity key: U+0000. Label values containing NUL are refused at every
 * edge (push validation in shared/push, event validation in shared/ingest, store op checks in
 * shared/store/families.ts), which keeps these keys unambiguous and lets every store use them as plain
 * strings.
 */
export const KEY_SEP = '\u0000';

/** Sorted own label names. */
export function sortedLabelNames(labels: Labels): string[] {
  return Object.keys(labels).sort();
}

/**
 * Deterministic identity of a label set: names sorted, `name SEP value SEP name SEP value …`.
 * Label order never matters; `JSON.stringify` is never used (see STYLE.md §5).
 */
export function labelsKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  if (names.length > 1) names.sort();
  let key = '';
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (i > 0) key += KEY_SEP;
    key += n + KEY_SEP + labels[n];
  }
  return key;
}

/** Identity of one series: metric name plus its sorted labels. */
export function seriesKey(name: string, labels: Labels): string {
  const lk = labelsKey(labels);
  return lk === '' ? name : name + KEY_SEP + lk;
}

/** Builds a labels object with a null prototype from pairs, so hostile names can't reach Object.prototype. */
export function labelsFrom(pairs: Iterable<readonly [string, string]>): Labels {
  const out: Record<string, string> = Object.create(null);
  for (const [n, v] of pairs) out[n] = v;
  return out;
}
