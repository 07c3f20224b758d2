/**
 * Escaped label names never start with `__` (docs/exposition.md "UTF-8 names"): Prometheus' `EscapeName`
 * turns `üüx` into `__x` (underscores), `ü.x` into `__dot_x` (dots) and `..name..` into `__name__`, a label
 * Prometheus' text parsers refuse, failing the scrape of every group. Accrue cuts the leading underscores of
 * an escaped label name to one. Every row below with a `__`-prefixed old result failed before the change.
 */
import fc from 'fast-check';
import {
  escapeLabelName,
  escapeMetricName,
  isLegacyLabelName,
  labelNameProblem,
  MAX_NAME_LENGTH,
  unescapeValuesName,
} from '../../../shared/model/names';

const LONG = `${'ü'.repeat(MAX_NAME_LENGTH - 1)}x`;

describe('escaped label names are never reserved', () => {
  it.each<[string, string, string, string]>([
    // name (a UTF-8 label name the push edge accepts), underscores, dots, values
    ['ü.x', '_x', '_dot_x', 'U___fc__2e_x'], // was __x / __dot_x
    ['üüx', '_x', '_x', 'U___fc__fc_x'], // was __x / __x
    ['..name..', '_name__', '_dot__dot_name_dot__dot_', 'U___2e__2e_name_2e__2e_'], // was __name__
    ['üüname_', '_name_', '_name__', 'U___fc__fc_name__'], // dots was __name__
    ['ü_proto__', '_proto__', '_proto____', 'U___fc___proto____'], // was __proto__ / ___proto____
    ['"\n"x', '_x', '_x', 'U___22__a__22_x'], // quotes and a newline; was ___x
    ['_"q"', '_q_', '_q_', 'U_____22_q_22_'], // was __q_ / ___q_
    ['1.x', '_x', '_dot_x', 'U___31__2e_x'], // a leading digit; was __x / __dot_x
    ['üü', '_', '_', 'U___fc__fc_'], // was __
    ['ü', '_', '_', 'U___fc_'],
    [LONG, '_x', '_x', `U__${'_fc_'.repeat(MAX_NAME_LENGTH - 1)}x`], // was 255 underscores then x
    ['my.label', 'my_label', 'my_dot_label', 'U__my_2e_label'], // not reserved: unchanged rule
    ['a:b', 'a_b', 'a_b', 'U__a_3a_b'],
  ])('label name %j', (name, underscores, dots, values) => {
    expect(labelNameProblem(name, 'utf8')).toBeUndefined();
    expect(escapeLabelName(name, 'underscores')).toBe(underscores);
    expect(escapeLabelName(name, 'dots')).toBe(dots);
    expect(escapeLabelName(name, 'values')).toBe(values);
    expect(escapeLabelName(name, 'allow-utf-8')).toBe(name);
    expect(unescapeValuesName(values)).toBe(name);
    for (const e of [underscores, dots, values]) {
      expect(isLegacyLabelName(e)).toBe(true);
      expect(e.startsWith('__')).toBe(false); // values escaping may exceed the 256-character input cap
    }
  });

  it('names the edges refuse stay refused, and legacy names are never rewritten', () => {
    for (const reserved of ['__proto__', '__name__', '__x'])
      expect(labelNameProblem(reserved, 'utf8')).toContain('reserved');
    for (const s of ['underscores', 'dots', 'values'] as const) expect(escapeLabelName('_x', s)).toBe('_x');
  });

  it('metric names keep Prometheus escaping exactly (the data model reserves `__` for label names only)', () => {
    expect(escapeMetricName('üüx', 'underscores')).toBe('__x');
    expect(escapeMetricName('ü.x', 'dots')).toBe('__dot_x');
  });

  it('any non-legacy label name escapes to a legacy, unreserved label name (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((n) => !isLegacyLabelName(n)),
        (name) => {
          for (const s of ['underscores', 'dots', 'values'] as const) {
            const e = escapeLabelName(name, s);
            expect(isLegacyLabelName(e)).toBe(true);
            expect(e.startsWith('__')).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
