/** Structural checks of OpenMetrics output (no OpenMetrics parser of our own). */
/**
 * Structural OpenMetrics 1.0 checks: ends with one `# EOF`, every sample belongs to the family declared by
 * the preceding TYPE with an allowed suffix, no family declared twice, counters' samples end in _total.
 */
export function checkOpenMetricsStructure(om: string): void {
  expect(om.endsWith('# EOF\n')).toBe(true);
  const lines = om.slice(0, -1).split('\n');
  expect(lines.filter((l) => l === '# EOF')).toHaveLength(1);
  expect(lines[lines.length - 1]).toBe('# EOF');
  const seen = new Set<string>();
  let fam = '';
  let type = '';
  for (const line of lines.slice(0, -1)) {
    const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/s.exec(line);
    if (m) {
      if (m[2] !== fam) {
        expect(seen.has(m[2]!)).toBe(false);
        seen.add(m[2]!);
        fam = m[2]!;
        type = '';
      }
      if (m[1] === 'TYPE') {
        type = m[3]!;
        expect(['counter', 'gauge', 'histogram', 'summary', 'unknown']).toContain(type);
      }
      continue;
    }
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/s.exec(line);
    expect(s).not.toBeNull();
    const name = s![1]!;
    const suffix = name.slice(fam.length);
    expect(name.startsWith(fam)).toBe(true);
    const allowed: Record<string, string[]> = {
      counter: ['_total', '_created'],
      gauge: [''],
      unknown: [''],
      histogram: ['_bucket', '_sum', '_count', '_created'],
      summary: ['', '_sum', '_count', '_created'],
    };
    expect(allowed[type]).toContain(suffix);
    expect(s![3]).toMatch(/^(NaN|[+-]Inf|-?[0-9.e+-]+)$/);
  }
}
