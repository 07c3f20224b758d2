import { ByteSink } from '../../../shared/expfmt/byte-sink';

describe('ByteSink', () => {
  it.each<[string, string[]]>([
    ['ASCII', ['abc', '', 'def']],
    ['non-ASCII after ASCII', ['price in €', ' and ', '日本語']],
    ['astral characters', ['🚀', 'x', '👩‍💻']],
    ['quotes, backslashes, newlines', ['a"b\\c\nd']],
    ['long strings force growth', ['x'.repeat(100_000), 'é'.repeat(50_000), 'y']],
  ])('writes %s as UTF-8', (_name, parts) => {
    const sink = new ByteSink(4);
    for (const p of parts) sink.str(p);
    const want = parts.join('');
    expect(sink.toString()).toBe(want);
    expect(Buffer.compare(sink.bytes(), Buffer.from(want, 'utf8'))).toBe(0);
  });

  it.each([0, 1, 9, 10, 99, 100, 12345, 999_999, 123_456_789_012_345])('writes the integer %p', (v) => {
    const sink = new ByteSink(1);
    sink.uint(v);
    expect(sink.toString()).toBe(String(v));
  });

  it('repeats earlier bytes, across a growth', () => {
    const sink = new ByteSink(8);
    sink.str('ab');
    const s = sink.pos;
    sink.str('cd€');
    const e = sink.pos;
    for (let i = 0; i < 100; i++) sink.repeat(s, e);
    expect(sink.toString()).toBe(`ab${'cd€'.repeat(101)}`);
  });
});
