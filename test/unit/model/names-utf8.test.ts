import {
  ESCAPING_SCHEMES,
  escapeLabelName,
  escapeMetricName,
  isLegacyLabelName,
  isLegacyMetricName,
  labelNameProblem,
  MAX_NAME_LENGTH,
  metricNameProblem,
  unescapeValuesName,
} from '../../../shared/model/names';

describe('name validation: legacy and utf8', () => {
  it.each<[unknown, string | undefined, string | undefined]>([
    // name, legacy problem (substring), utf8 problem (substring)
    ['http_requests_total', undefined, undefined],
    ['my.metric', 'must match', undefined],
    ['温度', 'must match', undefined],
    ['a "quoted"\nname\\', 'must match', undefined],
    ['🙂', 'must match', undefined],
    ['', 'must not be empty', 'must not be empty'],
    ['x'.repeat(MAX_NAME_LENGTH + 1), 'at most 256', 'at most 256'],
    ['x'.repeat(2 * 1024 * 1024), 'at most 256', 'at most 256'],
    ['a\ud800b', 'must match', 'lone UTF-16 surrogate'],
    ['\udc00', 'must match', 'lone UTF-16 surrogate'],
    [42, 'must be a string', 'must be a string'],
    [null, 'must be a string', 'must be a string'],
  ])('metric name %j', (name, legacy, utf8) => {
    const l = metricNameProblem(name, 'legacy');
    const u = metricNameProblem(name, 'utf8');
    if (legacy === undefined) expect(l).toBeUndefined();
    else expect(l).toContain(legacy);
    if (utf8 === undefined) expect(u).toBeUndefined();
    else expect(u).toContain(utf8);
  });

  it('the legacy message says how to enable UTF-8 names', () => {
    expect(metricNameProblem('a.b')).toContain('ACCRUE_UTF8_NAMES');
  });

  it.each<[string, boolean]>([
    ['instance', true],
    ['my.label', true],
    ['__reserved', false],
    ['__proto__', false],
    ['__ü', false],
    ['_ok', true],
  ])('utf8 label name %j valid: %s', (name, ok) => {
    expect(labelNameProblem(name, 'utf8') === undefined).toBe(ok);
  });

  it('label names keep the __ reservation and legacy mode keeps the regex', () => {
    expect(labelNameProblem('my.label')).toContain('must match');
    expect(labelNameProblem('a:b')).toContain('must match');
    expect(labelNameProblem('a:b', 'utf8')).toBeUndefined();
    expect(labelNameProblem('__x', 'utf8')).toContain('reserved');
  });
});

describe('escaping schemes', () => {
  it.each<[string, string, string, string]>([
    // name, underscores, dots, values
    ['my.metric', 'my_metric', 'my_dot_metric', 'U__my_2e_metric'],
    [
      'metric.name/with/slashes',
      'metric_name_with_slashes',
      'metric_dot_name_with_slashes',
      'U__metric_2e_name_2f_with_2f_slashes',
    ],
    ['my.metric_total', 'my_metric_total', 'my_dot_metric__total', 'U__my_2e_metric__total'],
    ['1st', '_st', '_st', 'U___31_st'],
    ['温度', '__', '__', 'U___6e29__5ea6_'],
    ['🙂x', '_x', '_x', 'U___1f642_x'],
    ['a"b\nc\\', 'a_b_c_', 'a_b_c_', 'U__a_22_b_a_c_5c_'],
  ])('metric name %j', (name, underscores, dots, values) => {
    expect(escapeMetricName(name, 'underscores')).toBe(underscores);
    expect(escapeMetricName(name, 'dots')).toBe(dots);
    expect(escapeMetricName(name, 'values')).toBe(values);
    expect(escapeMetricName(name, 'allow-utf-8')).toBe(name);
    for (const s of ['underscores', 'dots', 'values'] as const) {
      expect(isLegacyMetricName(escapeMetricName(name, s))).toBe(true);
    }
    expect(unescapeValuesName(values)).toBe(name);
  });

  it('legacy names are unchanged under every scheme (default output never changes)', () => {
    for (const s of ESCAPING_SCHEMES) {
      expect(escapeMetricName('http_requests_total', s)).toBe('http_requests_total');
      expect(escapeMetricName('a:b', s)).toBe('a:b');
      expect(escapeLabelName('instance', s)).toBe('instance');
    }
  });

  it('label names escape ":" (not in the legacy label set)', () => {
    expect(escapeLabelName('a:b', 'underscores')).toBe('a_b');
    expect(escapeLabelName('a:b', 'values')).toBe('U__a_3a_b');
    expect(isLegacyLabelName(escapeLabelName('my.label', 'dots'))).toBe(true);
  });

  it.each<[string, string]>([
    ['U__foo_2e_bar', 'foo.bar'],
    ['U__foo_2E_bar', 'foo.bar'],
    ['U__a__b', 'a_b'],
    ['U___1f642_', '🙂'],
    ['plain', 'plain'],
    ['U__', ''],
    // invalid escapes: returned unchanged
    ['U__foo_2e', 'U__foo_2e'],
    ['U__foo_', 'U__foo_'],
    ['U__foo_zz_', 'U__foo_zz_'],
    ['U__foo_1234567_', 'U__foo_1234567_'],
    ['U__foo_d800_', 'U__foo_d800_'],
    ['U__foo_110000_', 'U__foo_110000_'],
  ])('unescapeValuesName(%j) = %j', (escaped, name) => {
    expect(unescapeValuesName(escaped)).toBe(name);
  });
});
