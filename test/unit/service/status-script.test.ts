/**
 * The status page's "… ago" in the browser is shared/format/ago.ts itself: the served status.js starts
 * with that function's compiled source (`accrueAgo`), and the script calls it instead of keeping a copy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAssets, STATIC_DIR, STATUS_SCRIPT_PRELUDE } from '../../../service/status/assets';
import { ago } from '../../../shared/format/ago';

describe('status.js and shared/format/ago.ts', () => {
  const served = loadAssets().get('status.js')!.body;

  it('the served script starts with the shared function', () => {
    expect(served.startsWith(STATUS_SCRIPT_PRELUDE)).toBe(true);
    expect(served.slice(STATUS_SCRIPT_PRELUDE.length)).toBe(
      readFileSync(join(STATIC_DIR, 'status.js'), 'utf8'),
    );
  });

  it('the prelude runs on its own (no imports, no other names) and answers as ago() does', () => {
    const accrueAgo = new Function(`${STATUS_SCRIPT_PRELUDE}return accrueAgo;`)() as typeof ago;
    const now = 1_767_225_600_000;
    for (const dt of [
      0, 1_000, 89_499, 89_500, 90_000, 5_399_000, 5_400_000, 172_799_000, 172_800_000, 9e9, -4_000, -1e8,
    ])
      expect(accrueAgo(now - dt, now)).toBe(ago(now - dt, now));
  });

  it('status.js keeps no copy of the rule', () => {
    const own = readFileSync(join(STATIC_DIR, 'status.js'), 'utf8');
    expect(own).toContain('accrueAgo(');
    expect(own).not.toMatch(/172800|5400\b|86400/);
  });
});
