/**
 * One group's families with their sample values, for the status page's expanded group and
 * `GET /api/v1/accrue/group/<grouping path>`. Values are strings in Prometheus' float format (`+Inf`,
 * `NaN`), so JSON carries every value. Bounded: a group with 100k series returns the first
 * `MAX_SERIES_PER_FAMILY` of each family and says how many it left out.
 */
import { formatFloat } from '../../shared/expfmt';
import type { MetricFamily } from '../../shared/model/types';
import type { GroupState } from '../../shared/store/types';
import { type GroupSummary, summarize } from './groups';

export const MAX_SERIES_PER_FAMILY = 100;

export type SeriesView =
  | { readonly labels: Record<string, string>; readonly value: string }
  | {
      readonly labels: Record<string, string>;
      readonly buckets: readonly { readonly le: string; readonly count: string }[];
      readonly sum: string;
      readonly count: string;
    }
  | {
      readonly labels: Record<string, string>;
      readonly quantiles: readonly { readonly quantile: string; readonly value: string }[];
      readonly sum: string;
      readonly count: string;
    };

export interface FamilyView {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly series: readonly SeriesView[];
  /** Series left out (beyond MAX_SERIES_PER_FAMILY). */
  readonly omitted: number;
}

export interface GroupDetail {
  readonly group: GroupSummary;
  readonly families: readonly FamilyView[];
}

function familyView(f: MetricFamily): FamilyView {
  let series: SeriesView[];
  if (f.type === 'histogram') {
    series = f.series.slice(0, MAX_SERIES_PER_FAMILY).map((s) => ({
      labels: { ...s.labels },
      buckets: [
        ...s.buckets.map((b) => ({ le: formatFloat(b.le), count: formatFloat(b.count) })),
        { le: '+Inf', count: formatFloat(s.count) },
      ],
      sum: formatFloat(s.sum),
      count: formatFloat(s.count),
    }));
  } else if (f.type === 'summary') {
    series = f.series.slice(0, MAX_SERIES_PER_FAMILY).map((s) => ({
      labels: { ...s.labels },
      quantiles: s.quantiles.map((q) => ({ quantile: formatFloat(q.quantile), value: formatFloat(q.value) })),
      sum: formatFloat(s.sum),
      count: formatFloat(s.count),
    }));
  } else {
    series = f.series
      .slice(0, MAX_SERIES_PER_FAMILY)
      .map((s) => ({ labels: { ...s.labels }, value: formatFloat(s.value) }));
  }
  return {
    name: f.name,
    type: f.type,
    help: f.help,
    series,
    omitted: Math.max(0, f.series.length - MAX_SERIES_PER_FAMILY),
  };
}

export function groupDetail(g: GroupState, nowMs: number): GroupDetail {
  return { group: summarize(g, nowMs), families: g.families.map(familyView) };
}
