import fc from 'fast-check';
import { metricFamiliesToOpenMetrics } from '../../../shared/expfmt/openmetrics-create';
import { metricFamiliesToText } from '../../../shared/expfmt/text-create';
import { parseText } from '../../../shared/expfmt/text-parse';
import { ParseError } from '../../../shared/model/errors';
import type { HistogramSeries } from '../../../shared/model/types';
import { promtoolCheckMetrics } from '../../support/promtool';
import { families } from './arbitraries';
import { checkOpenMetricsStructure } from './openmetrics-check';

describe('round trip', () => {
  it('parseText(metricFamiliesToText(x)) equals x', () => {
    fc.assert(
      fc.property(families, (fams) => {
        expect(parseText(metricFamiliesToText(fams))).toEqual(fams);
      }),
      { numRuns: 300 },
    );
  });

  it('rendering is stable: text → parse → text is byte-identical', () => {
    fc.assert(
      fc.property(families, (fams) => {
        const t = metricFamiliesToText(fams);
        expect(metricFamiliesToText(parseText(t))).toBe(t);
      }),
      { numRuns: 200 },
    );
  });

  it('OpenMetrics output is structurally valid for generated families', () => {
    fc.assert(
      fc.property(families, (fams) => {
        checkOpenMetricsStructure(metricFamiliesToOpenMetrics(fams));
      }),
      { numRuns: 200 },
    );
  });

  it('the real Prometheus parser (promtool) accepts generated text output', async () => {
    await fc.assert(
      fc.asyncProperty(families, async (fams) => {
        const { code, output } = await promtoolCheckMetrics(metricFamiliesToText(fams));
        // 0 = clean, 3 = lint findings only (e.g. camelCase label names); 1 = could not parse.
        expect(output).not.toMatch(/error while linting/);
        expect([0, 3]).toContain(code);
      }),
      { numRuns: 25 },
    );
  });
});

describe('label order and spacing never change the result', () => {
  const PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  it('parse(reordered, respaced text) equals parse(canonical text)', () => {
    fc.assert(
      fc.property(families, fc.infiniteStream(fc.nat()), (fams, rnd) => {
        const canonical = metricFamiliesToText(fams);
        const it = rnd[Symbol.iterator]();
        const next = () => it.next().value as number;
        const variant = canonical
          .split('\n')
          .map((line) => {
            const open = line.indexOf('{');
            if (line.startsWith('#') || open === -1) return line;
            const close = line.lastIndexOf('} ');
            const pairs = [...line.slice(open + 1, close).matchAll(PAIR)].map((m) => m[0]);
            for (let i = pairs.length - 1; i > 0; i--) {
              const j = next() % (i + 1);
              [pairs[i], pairs[j]] = [pairs[j]!, pairs[i]!];
            }
            const sep = [',', ' , ', ',\t'][next() % 3]!;
            const trail = next() % 2 === 0 ? '' : ',';
            return `${line.slice(0, open)}{ ${pairs.join(sep)}${trail} }${line.slice(close + 1)}`;
          })
          .join('\n');
        expect(parseText(variant)).toEqual(parseText(canonical));
      }),
      { numRuns: 300 },
    );
  });
});

describe('fuzz: the parser only ever throws ParseError', () => {
  const alphabet = fc.constantFrom(
    ...'ab_:{}="\\,# \t\n01.e+-InfNa\u0000\rle'.split(''),
    'HELP ',
    'TYPE ',
    'histogram',
    '_bucket',
    'le="',
  );
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 80 }), (s) => {
        try {
          parseText(s);
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('on mutated valid bodies', () => {
    fc.assert(
      fc.property(families, fc.nat(), fc.string({ maxLength: 3 }), (fams, at, insert) => {
        const t = metricFamiliesToText(fams);
        const i = t.length === 0 ? 0 : at % t.length;
        try {
          parseText(t.slice(0, i) + insert + t.slice(i + 1));
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('negative zero bounds', () => {
  it('writes le="-0" as le="0" and reads it back as +0, also when another family has the bound 0', () => {
    const h = (name: string, le: number) => ({
      name,
      help: 'h',
      type: 'histogram' as const,
      series: [{ labels: {}, buckets: [{ le, count: 1 }], sum: 0, count: 1 }],
    });
    const text = metricFamiliesToText([h('a', -0), h('b', 0)]);
    expect(text).toContain('a_bucket{le="0"} 1');
    expect(text).toContain('b_bucket{le="0"} 1');
    expect(text).not.toContain('le="-0"');
    const parsed = parseText('# TYPE x histogram\nx_bucket{le="-0"} 1\nx_sum 0\nx_count 1\n');
    const le = (parsed[0]!.series[0] as HistogramSeries).buckets[0]!.le;
    expect(Object.is(le, 0)).toBe(true);
  });
});
