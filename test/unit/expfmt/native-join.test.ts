import { nativeJoiner } from '../../../shared/expfmt/native-join';
import { observeNative } from '../../../shared/model/native';
import type { HistogramSeries, MetricFamily } from '../../../shared/model/types';
import type { GroupState, StoreSnapshot } from '../../../shared/store/types';

const a = observeNative([1, 2], 0, 0);
const b = observeNative([4, 8, 16], 1, 0);

function group(key: Record<string, string>, updated: number, series: HistogramSeries[]): GroupState {
  return {
    key,
    lastUpdateMs: updated,
    families: [{ name: 'h_seconds', help: '', type: 'histogram', series }],
  };
}
function snapshot(groups: GroupState[]): StoreSnapshot {
  return { generation: '1', takenAtMs: 0, groups };
}
/** The family as parsed back from text: labels as exposed, no native part. */
function parsed(labels: Record<string, string>): MetricFamily[] {
  return [
    { name: 'h_seconds', help: '', type: 'histogram', series: [{ labels, buckets: [], sum: 3, count: 2 }] },
  ];
}
const nativeOf = (fams: MetricFamily[]) => (fams[0]!.series[0] as HistogramSeries).native;

describe('nativeJoiner: native histograms back onto the text-parsed families', () => {
  it('matches a series by the labels it is exposed with (group labels over series labels)', () => {
    const snap = snapshot([
      group({ job: 'j', instance: 'i' }, 1, [
        { labels: { path: '/x', job: 'ignored' }, buckets: [], sum: a.sum, count: a.count, native: a.native },
      ]),
    ]);
    expect(nativeOf(nativeJoiner(snap)(parsed({ instance: 'i', job: 'j', path: '/x' })))).toEqual(a.native);
    expect(nativeOf(nativeJoiner(snap)(parsed({ instance: 'i', job: 'j', path: '/y' })))).toBeUndefined();
  });

  it('when two groups expose one series, the most recently updated group decides, also when it has none', () => {
    const older = group({ job: 'j' }, 1, [
      { labels: { instance: 'x' }, buckets: [], sum: a.sum, count: a.count, native: a.native },
    ]);
    const newerNative = group({ job: 'j', instance: 'x' }, 2, [
      { labels: {}, buckets: [], sum: b.sum, count: b.count, native: b.native },
    ]);
    const newerClassic = group({ job: 'j', instance: 'x' }, 2, [
      { labels: {}, buckets: [{ le: 1, count: 1 }], sum: 3, count: 2 },
    ]);
    const exposed = { instance: 'x', job: 'j' };
    expect(nativeOf(nativeJoiner(snapshot([older, newerNative]))(parsed(exposed)))).toEqual(b.native);
    expect(nativeOf(nativeJoiner(snapshot([newerNative, older]))(parsed(exposed)))).toEqual(b.native);
    expect(nativeOf(nativeJoiner(snapshot([older, newerClassic]))(parsed(exposed)))).toBeUndefined();
  });

  it('leaves families untouched when no stored series is native', () => {
    const snap = snapshot([group({ job: 'j' }, 1, [{ labels: {}, buckets: [], sum: 1, count: 1 }])]);
    const fams = parsed({ job: 'j' });
    expect(nativeJoiner(snap)(fams)[0]).toBe(fams[0]);
  });
});
