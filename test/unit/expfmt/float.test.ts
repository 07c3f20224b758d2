import fc from 'fast-check';
import { formatFloat, parseGoFloat, parseSimpleDecimalAt } from '../../../shared/expfmt/float';

describe('formatFloat prints like Go strconv.FormatFloat(f, "g", -1, 64)', () => {
  it.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1, '-1'],
    [1.5, '1.5'],
    [0.005, '0.005'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5e-7, '-2.5e-07'],
    [123456, '123456'],
    [999999, '999999'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [1.7e9, '1.7e+09'],
    [1e21, '1e+21'],
    [1e100, '1e+100'],
    [Number.MAX_VALUE, '1.7976931348623157e+308'],
    [Number.MIN_VALUE, '5e-324'],
    [0.1 + 0.2, '0.30000000000000004'],
    [Number.NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%p → %s', (f, s) => {
    expect(formatFloat(f)).toBe(s);
  });
});

describe('parseGoFloat accepts what Go ParseFloat accepts', () => {
  it.each([
    ['1', 1],
    ['+1', 1],
    ['-1.5e3', -1500],
    ['.5', 0.5],
    ['5.', 5],
    ['1E-3', 0.001],
    ['NaN', Number.NaN],
    ['nan', Number.NaN],
    ['+Inf', Infinity],
    ['-inf', -Infinity],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['0x1p-2', 0.25],
    ['0x1.8p1', 3],
    ['1e-400', 0],
    ['1e308', 1e308],
  ])('%p → %p', (s, f) => {
    expect(parseGoFloat(s)).toEqual(f);
  });
  it.each([
    [''],
    ['1e'],
    ['e5'],
    ['+-1'],
    ['1..2'],
    ['1e400'],
    ['-1e400'],
    ['0b1'],
    ['0x1F'],
    ['1_000'],
    ['+NaN'],
    ['Inf1'],
    ['"1"'],
    ['１'],
  ])('refuses %p', (s) => {
    expect(parseGoFloat(s)).toBeUndefined();
  });
  it('round-trips every formatted double', () => {
    for (const f of [0.1, 1 / 3, 1e-5, 123456.789, 2 ** 53 + 2, -1e-300, 6.02214076e23]) {
      expect(parseGoFloat(formatFloat(f))).toBe(f);
    }
  });
});

describe('parseSimpleDecimalAt (the parser fast path) agrees with Number() whenever it answers', () => {
  it.each([
    ['0', 0],
    ['-0', -0],
    ['-0.0', -0],
    ['+1', 1],
    ['.5', 0.5],
    ['5.', 5],
    ['0.005', 0.005],
    ['123456789012345', 123456789012345],
    ['0.1', 0.1],
  ])('%p → %p', (s, v) => {
    expect(Object.is(parseSimpleDecimalAt(s, 0, s.length), v)).toBe(true);
  });
  it.each([[''], ['.'], ['+'], ['-.'], ['1e5'], ['1234567890123456'], ['NaN'], ['1.2.3'], ['0x10']])(
    'leaves %p to the slow path',
    (s) => {
      expect(parseSimpleDecimalAt(s, 0, s.length)).toBeUndefined();
    },
  );
  it('matches Number() on generated decimals', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.stringMatching(/^[+-]?[0-9]{0,9}\.?[0-9]{0,9}$/),
          fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
          fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((d) => d.toFixed(6)),
        ),
        (s) => {
          const v = parseSimpleDecimalAt(`x${s}y`, 1, s.length + 1);
          if (v !== undefined) expect(Object.is(v, Number(s))).toBe(true);
        },
      ),
      { numRuns: 20000 },
    );
  });
});
