/**
 * The protobuf exposition encoded per family block and cached by block identity (service/codec.ts) is
 * byte-identical to encoding the whole text render parsed back, the rule it is defined by.
 */
import fc from 'fast-check';
import { createCodec, withEmptyInstance } from '../../../service/codec';
import { metricFamiliesToProtobufDelimited, parseText, renderSnapshot } from '../../../shared/expfmt';
import type { MetricFamily } from '../../../shared/model/types';
import type { GroupState, StoreSnapshot } from '../../../shared/store/types';
import { groupSpecs } from '../expfmt/arbitraries';
import { gauge } from '../expfmt/fixtures';

function whole(snapshot: StoreSnapshot, extra: readonly MetricFamily[]): Buffer {
  const stored = snapshot.groups.length === 0 ? [] : parseText(renderSnapshot(snapshot, 'text'));
  return Buffer.from(metricFamiliesToProtobufDelimited([...stored.map(withEmptyInstance), ...extra]));
}

const snap = (groups: GroupState[], generation = 'g'): StoreSnapshot => ({
  generation,
  takenAtMs: 0,
  groups,
});

const groupsArb = groupSpecs;

type Generated = typeof groupsArb extends fc.Arbitrary<infer T> ? T : never;

const toGroups = (gs: Generated) =>
  gs.map(
    (g): GroupState => ({
      key: g.instance === undefined ? { job: g.job } : { job: g.job, instance: g.instance },
      lastUpdateMs: g.lastUpdateMs,
      lastPushMs: 1_700_000_000_000 + g.lastUpdateMs,
      families: g.families,
    }),
  );

describe('codec.renderProtobuf', () => {
  it('equals the whole text render parsed back and encoded, also after partial changes (cache reused)', () => {
    const codec = createCodec();
    const own = [gauge('accrue_own', [{ labels: {}, value: 1 }])];
    fc.assert(
      fc.property(groupsArb, groupsArb, (a, b) => {
        const first = toGroups(a);
        const s1 = snap(first, '1');
        expect(Buffer.concat(codec.renderProtobuf(s1, own))).toEqual(whole(s1, own));
        expect(Buffer.concat(codec.renderProtobuf(s1, []))).toEqual(whole(s1, []));
        // Keep half of the groups (same objects: their blocks are reused), replace or add the rest.
        const kept = first.filter((_, i) => i % 2 === 0);
        const keys = new Set(kept.map((g) => JSON.stringify(g.key)));
        const s2 = snap([...kept, ...toGroups(b).filter((g) => !keys.has(JSON.stringify(g.key)))], '2');
        expect(Buffer.concat(codec.renderProtobuf(s2, own))).toEqual(whole(s2, own));
      }),
      { numRuns: 40 },
    );
  });

  it('an empty store gives only the extra families', () => {
    const own = [gauge('accrue_own', [{ labels: {}, value: 1 }])];
    expect(Buffer.concat(createCodec().renderProtobuf(snap([]), own))).toEqual(whole(snap([]), own));
    expect(createCodec().renderProtobuf(snap([]), []).length).toBe(0);
  });

  it('re-encodes only the changed family blocks', () => {
    const codec = createCodec();
    const groups = Array.from(
      { length: 50 },
      (_, i): GroupState => ({
        key: { job: 'j', instance: `i${i}` },
        lastUpdateMs: 1,
        families: [
          gauge('stable', [{ labels: { k: '1' }, value: i }]),
          gauge(`own_${i}`, [{ labels: {}, value: i }]),
        ],
      }),
    );
    const s1 = snap(groups, '1');
    codec.renderProtobuf(s1, []);
    const changed = [...groups];
    changed[7] = {
      ...groups[7]!,
      families: [groups[7]!.families[0]!, gauge('own_7', [{ labels: {}, value: 99 }])],
    };
    const s2 = snap(changed, '2');
    const before = codec.stats.protobufBlocksEncoded;
    const out = Buffer.concat(codec.renderProtobuf(s2, []));
    // The changed family and the two push-time blocks (rebuilt on every render); not the 50 others.
    expect(codec.stats.protobufBlocksEncoded - before).toBe(3);
    expect(out).toEqual(whole(s2, []));
  });
});
