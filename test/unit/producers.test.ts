import { RejectReason } from '../../shared/model/errors';
import { authorizeSender, mayWrite, parseProducers } from '../../shared/producers';

const SPEC = JSON.stringify([
  { name: 'aria-eu', credential: 'bearer:t1', sqsSenderIds: ['AIDAEU'], jobs: ['aria', 'aria_eu_*'] },
  { name: 'batch', sqsSenderIds: ['AIDABATCH'], jobs: ['nightly'] },
]);

describe('producer trust model', () => {
  const producers = parseProducers(SPEC)!;

  it.each<[string, string, boolean]>([
    ['aria', 'aria', true],
    ['aria prefix', 'aria_eu_fx', true],
    ['prefix is not a substring match', 'xaria_eu_fx', false],
    ['exact is exact', 'aria2', false],
    ['other job', 'nightly', false],
  ])('aria-eu writes %s: %s', (_n, job, ok) => {
    expect(mayWrite(producers[0]!, job)).toBe(ok);
  });

  it('binds SQS senders to their jobs; unknown or missing senders are forbidden', () => {
    expect(() => authorizeSender(producers, 'AIDABATCH', 'nightly')).not.toThrow();
    for (const [sender, job] of [
      ['AIDABATCH', 'aria'],
      ['AIDAOTHER', 'nightly'],
      [undefined, 'nightly'],
    ] as const) {
      try {
        authorizeSender(producers, sender, job);
        throw new Error('accepted');
      } catch (e) {
        expect((e as { reason: string }).reason).toBe(RejectReason.forbidden);
      }
    }
    expect(() => authorizeSender(undefined, undefined, 'anything')).not.toThrow();
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['empty list', '[]', /non-empty JSON array/],
    ['no jobs', '[{"name":"a","credential":"bearer:x"}]', /jobs: must name/],
    ['no identity', '[{"name":"a","jobs":["x"]}]', /needs a credential or sqsSenderIds/],
    ['unknown field', '[{"name":"a","jobs":["x"],"credential":"bearer:x","admin":true}]', /unknown field/],
    ['__proto__ key', '[{"name":"a","jobs":["x"],"credential":"bearer:x","__proto__":{}}]', /./],
  ])('refuses %s naming the variable', (_n, spec, msg) => {
    if (_n === '__proto__ key') {
      // JSON.parse makes __proto__ an own key: refused as unknown.
      expect(() => parseProducers(spec)).toThrow(/ACCRUE_PRODUCERS\[0\]\.__proto__: unknown field/);
      return;
    }
    expect(() => parseProducers(spec)).toThrow(msg);
  });
});
