/**
 * The bucket rules (shared/model/buckets.ts) and every path that calls them. Before they had one home,
 * the text and protobuf parsers, the push validator and the store validator each kept a loop, and the
 * store's had drifted: it let an infinite bucket count or series count through, which every other path
 * refuses. The parity table below sends each case down every path and expects one decision.
 */
import { parseProtobufDelimited } from '../../../shared/expfmt/protobuf-parse';
import { parseText } from '../../../shared/expfmt/text-parse';
import {
  BOUND_RULES,
  bucketProblemText,
  checkCumulativeBuckets,
  isBucketProblem,
  layoutProblems,
} from '../../../shared/model/buckets';
import type { MetricFamily } from '../../../shared/model/types';
import { preparePush } from '../../../shared/push/prepare';
import { opProblems, validatePushRequest } from '../../../shared/store/valid';
import { clientModelRoot } from '../../support/client-model';

const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');

/** `normalised`: the decision on the store's form, which has no +Inf bucket (defaults to `accepted`). */
type Case = [
  name: string,
  buckets: [le: number, count: number][],
  count: number,
  accepted: boolean,
  normalised?: boolean,
];

/** Buckets in ascending `le` order; a trailing `+Inf` bucket where the case has one. */
const CASES: Case[] = [
  [
    'valid',
    [
      [0.5, 1],
      [1, 3],
      [Infinity, 3],
    ],
    3,
    true,
  ],
  [
    'valid without +Inf',
    [
      [0.5, 1],
      [1, 3],
    ],
    4,
    true,
  ],
  ['no buckets', [], 0, true],
  [
    'not cumulative',
    [
      [0.5, 2],
      [1, 1],
    ],
    2,
    false,
  ],
  [
    '+Inf differs from count',
    [
      [1, 1],
      [Infinity, 2],
    ],
    3,
    false,
    true,
  ],
  ['count below the highest bucket', [[1, 4]], 3, false],
  ['infinite bucket count', [[1, Infinity]], Infinity, false],
  ['infinite series count', [[1, 1]], Infinity, false],
  ['NaN bucket count', [[1, Number.NaN]], 1, false],
  ['NaN series count', [[1, 1]], Number.NaN, false],
  ['negative bucket count', [[1, -1]], 1, false],
  [
    'huge counts',
    [
      [1e300, 1e308],
      [Infinity, 1e308],
    ],
    1e308,
    true,
  ],
];

function fmt(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);
}

function textBody(buckets: Case[1], count: number): string {
  const lines = buckets.map(([le, c]) => `h_bucket{le="${fmt(le)}"} ${fmt(c)}`);
  return `# TYPE h histogram\n${lines.join('\n')}${lines.length ? '\n' : ''}h_sum 1\nh_count ${fmt(count)}\n`;
}

function protobufBody(buckets: Case[1], count: number): Uint8Array {
  const msg = MF.fromObject({
    name: 'h',
    type: 4,
    metric: [
      {
        histogram: {
          sampleCountFloat: count,
          sampleSum: 1,
          bucket: buckets.map(([le, c]) => ({ upperBound: le, cumulativeCountFloat: c })),
        },
      },
    ],
  });
  return MF.encodeDelimited(msg).finish();
}

/** The structured form; the store's (normalised) form has no +Inf bucket, a push may pass one last. */
function family(buckets: Case[1], count: number, keepInf = false): MetricFamily[] {
  const finite = buckets.filter(([le]) => keepInf || le !== Infinity).map(([le, c]) => ({ le, count: c }));
  return [
    { name: 'h', help: '', type: 'histogram', series: [{ labels: {}, buckets: finite, sum: 1, count }] },
  ];
}

function accepts(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch {
    return false;
  }
}

describe('one bucket rule on every path', () => {
  it.each(CASES)('%s', (_name, buckets, count, accepted, normalised = accepted) => {
    const finite = buckets.filter(([le]) => le !== Infinity);
    const inf = buckets.find(([le]) => le === Infinity)?.[1];
    const rule = checkCumulativeBuckets(
      finite.length,
      (i) => finite[i]![0],
      (i) => finite[i]![1],
      count,
      inf,
    );
    expect(!isBucketProblem(rule)).toBe(accepted);
    expect({
      text: accepts(() => parseText(textBody(buckets, count))),
      protobuf: accepts(() => parseProtobufDelimited(protobufBody(buckets, count))),
      push: accepts(() => preparePush('PUT', { job: 'j' }, family(buckets, count, true), 0)),
      store: accepts(() =>
        validatePushRequest({
          method: 'PUT',
          group: { job: 'j' },
          families: family(buckets, count),
          pushTimeMs: 0,
        }),
      ),
    }).toEqual({ text: accepted, protobuf: accepted, push: accepted, store: normalised });
  });

  it('a +Inf bucket passed inside a structured push is refused (it is implied by count, last only)', () => {
    const series = {
      labels: {},
      buckets: [
        { le: 1, count: 1 },
        { le: Infinity, count: 2 },
        { le: 2, count: 2 },
      ],
      sum: 0,
      count: 2,
    };
    const push = (): unknown =>
      preparePush('PUT', { job: 'j' }, [{ name: 'h', help: '', type: 'histogram', series: [series] }], 0);
    expect(push).toThrow('buckets[1]: bucket upper bound must be finite');
  });

  it('a trailing +Inf bucket equal to count is folded away by the push validator', () => {
    const r = preparePush(
      'PUT',
      { job: 'j' },
      family(
        [
          [1, 1],
          [Infinity, 2],
        ],
        2,
      ).map((f) => ({
        ...f,
        series: [
          {
            labels: {},
            buckets: [
              { le: 1, count: 1 },
              { le: Infinity, count: 2 },
            ],
            sum: 1,
            count: 2,
          },
        ],
      })) as MetricFamily[],
      0,
    );
    expect(r.families[0]!.series[0]).toMatchObject({ buckets: [{ le: 1, count: 1 }], count: 2 });
  });
});

describe('checkCumulativeBuckets', () => {
  const check = (les: number[], counts: number[], count?: number, inf?: number) =>
    checkCumulativeBuckets(
      les.length,
      (i) => les[i]!,
      (i) => counts[i]!,
      count,
      inf,
    );

  it.each<[string, number[], number[], number | undefined, number | undefined, string]>([
    ['NaN bound', [Number.NaN], [1], 1, undefined, 'bound'],
    ['-Inf bound', [-Infinity], [1], 1, undefined, 'bound'],
    ['+Inf given as a finite bucket', [1, Infinity], [1, 1], 1, undefined, 'bound'],
    ['duplicate bound', [1, 1], [1, 1], 1, undefined, 'duplicate'],
    ['descending bounds', [2, 1], [1, 1], 1, undefined, 'ascending'],
    ['no count and no +Inf', [1], [1], undefined, undefined, 'noCount'],
    ['negative count', [], [], -1, undefined, 'count'],
  ])('%s', (_n, les, counts, count, inf, rule) => {
    const r = check(les, counts, count, inf);
    expect(isBucketProblem(r) && r.rule).toBe(rule);
    if (isBucketProblem(r)) expect(bucketProblemText(r, 'x_count')).not.toBe('');
  });

  it('the +Inf bucket stands for a missing count', () => {
    expect(check([1], [1], undefined, 5)).toEqual({ count: 5 });
  });
});

describe('layoutProblems', () => {
  it.each<[string, unknown[], [number, string][]]>([
    ['valid', [0.1, 1, 10], []],
    ['empty', [], []],
    ['descending', [2, 1], [[1, BOUND_RULES.ascending]]],
    ['equal', [1, 1], [[1, BOUND_RULES.ascending]]],
    ['+Inf listed', [1, Infinity], [[1, BOUND_RULES.finite]]],
    ['NaN', [Number.NaN], [[0, BOUND_RULES.finite]]],
    ['a string', ['1'], [[0, BOUND_RULES.finite]]],
    ['__proto__ object', [JSON.parse('{"__proto__": 1}')], [[0, BOUND_RULES.finite]]],
  ])('%s', (_n, bounds, expected) => {
    expect(layoutProblems(bounds).map((p) => [p.index, p.message])).toEqual(expected);
  });

  it('the store, the SQS decoder path and profiles name the same rule', () => {
    const problems = opProblems(
      {
        kind: 'histogram_observe',
        name: 'h',
        labels: {},
        bounds: [2, 1],
        counts: [0, 0, 0],
        count: 0,
        sum: 0,
      },
      0,
      { job: 'j' },
    );
    expect(problems).toContainEqual({ path: 'ops[0].bounds[1]', message: BOUND_RULES.ascending });
  });
});
