/**
 * The reduced `npm run hostile -- --quick` run (short timeouts, smaller counts) against a real local
 * gateway in a child process. Every functional row is judged and must PASS. The latency and RSS rows are
 * printed as INFO ("not judged"): jest runs other suites beside it on the same two cores, so they say
 * nothing here; the full `npm run hostile` judges them (docs/security.md "Memory under attack").
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { canReadTcpTable } from '../support/tcp-state';

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
    const rows = r.stdout.split('\n').filter((l) => /^(PASS|FAIL|INFO) /.test(l));
    process.stdout.write(`${rows.join('\n')}\n`);
    const judged = rows.filter((l) => !l.startsWith('INFO'));
    const info = rows.filter((l) => l.startsWith('INFO'));
    // A run that printed no table says why on stderr: show it with the failure.
    expect({ judged: judged.length >= 12, stderr: judged.length >= 12 ? '' : r.stderr }).toEqual({
      judged: true,
      stderr: '',
    });
    // The table says which rows it judged: timings and RSS only as INFO, everything else PASS.
    expect(info.map((l) => [TIMING.test(l), /not judged\)$/.test(l)])).toEqual([
      [true, true],
      [true, true],
      [true, true],
    ]);
    expect(judged.filter((l) => TIMING.test(l))).toEqual([]);
    // Clients that never read their answer: the gateway's close is judged from the kernel's table.
    if (canReadTcpTable())
      expect(judged.filter((l) => /client never reads/.test(l)).map((l) => l.slice(0, 4))).toEqual([
        'PASS',
        'PASS',
      ]);
    // Slow readers of a large /metrics: cut at the response deadline and counted.
    expect(judged.filter((l) => /slow readers/.test(l)).map((l) => l.slice(0, 4))).toEqual(['PASS']);
    const failed = judged.filter((l) => !l.startsWith('PASS'));
    expect({ failed, status: r.status, stderr: failed.length ? r.stderr.slice(-2000) : '' }).toEqual({
      failed: [],
      status: 0,
      stderr: '',
    });
  }, 120_000);
});
