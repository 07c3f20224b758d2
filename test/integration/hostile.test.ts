/**
 * The reduced `npm run hostile -- --quick` run (short timeouts, smaller counts) against a real local
 * gateway in a child process. Every functional case must pass; the latency and RSS rows are printed but
 * not asserted here, because jest runs other suites beside it on the same two cores (the full
 * `npm run hostile` asserts them).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const TIMING = /p99|RSS/;

describe('npm run hostile -- --quick', () => {
  it('refuses, closes and counts every attack while staying up', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/hostile.ts', '--quick'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    const rows = r.stdout.split('\n').filter((l) => /^(PASS|FAIL) /.test(l));
    process.stdout.write(`${rows.join('\n')}\n`);
    expect(rows.length).toBeGreaterThanOrEqual(13);
    const failed = rows.filter((l) => l.startsWith('FAIL') && !TIMING.test(l));
    expect({ failed, stderr: failed.length ? r.stderr.slice(-2000) : '' }).toEqual({
      failed: [],
      stderr: '',
    });
  }, 120_000);
});
