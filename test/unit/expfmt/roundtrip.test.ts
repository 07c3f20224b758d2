import fc from 'fast-check';
import { metricFamiliesToOpenMetrics } from '../../../shared/expfmt/openmetrics-create';
import { metricFamiliesToText } from '../../../shared/expfmt/text-create';
import { parseText } from '../../../shared/expfmt/text-parse';
import { ParseError } from '../../../shared/model/errors';
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
