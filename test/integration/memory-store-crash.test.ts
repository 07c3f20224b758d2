/**
 * Crash test of the durable memory store: a child process (test/support/memory-store-writer.ts) applies
 * requests and prints each id once `apply` resolved; we `kill -9` it mid-stream (also mid-compaction,
 * which it runs often), reopen the folder, and check that every acknowledged write is there exactly once,
 * that redelivering any id (acknowledged or not) is never double counted, and that the store keeps
 * working across several crashes in the same folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../shared/store/memory';
import type { ApplyRequest } from '../../shared/store/types';
import { seriesValue } from '../contract/helpers';
import { crashRequest } from '../support/crash-request';
import { validApplies } from '../support/edge';

const ROOT = join(__dirname, '..', '..');
const WRITER = join(ROOT, 'test', 'support', 'memory-store-writer.ts');

interface Run {
  acked: string[];
  stderr: string;
}

/** Starts the writer, waits for `minAcks` acknowledged ids, then SIGKILLs it. */
async function runAndKill(dir: string, prefix: string, minAcks: number, compactBytes: number): Promise<Run> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', WRITER, dir, prefix, String(compactBytes)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const acked: string[] = [];
  let partial = '';
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  // 'close' fires after the last stdout bytes were read: lines written before the kill are all counted.
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      const text = partial + b.toString();
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l !== 'ready') acked.push(l);
      if (acked.length >= minAcks && child.exitCode === null && !child.killed) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited early (${code}): ${stderr}`));
    });
  });
  await closed;
  return { acked, stderr };
}

function redelivery(id: string): ApplyRequest {
  const [prefix, n] = id.split('-') as [string, string];
  return crashRequest(prefix, Number(n));
}

/** Sum of a counter over all groups. */
function sumOver(snap: Awaited<ReturnType<MemoryStore['snapshot']>>, name: string): number {
  let t = 0;
  for (const g of snap.groups) {
    const f = g.families.find((x) => x.name === name);
    if (f && f.type !== 'histogram' && f.type !== 'summary') for (const s of f.series) t += s.value;
  }
  return t;
}

describe('memory store survives kill -9', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'accrue-crash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['first crash, frequent compaction', 'a', 400, 4_000],
    ['second crash in the same folder, rare compaction', 'b', 600, 1_000_000],
    ['third crash, compaction on almost every batch', 'c', 300, 500],
  ])('%s: every acknowledged write is present exactly once', async (_t, prefix, minAcks, compactBytes) => {
    const before = await MemoryStore.open({ dir });
    const appliedBefore = sumOver(await before.snapshot(), 'crash_applied_total');
    const valueBefore = sumOver(await before.snapshot(), 'crash_value_total');
    await before.close();

    const { acked: ackedLines } = await runAndKill(dir, prefix, minAcks, compactBytes);
    const acked = ackedLines.map((l) => l.split(' ')[0]!);
    expect(acked.length).toBeGreaterThanOrEqual(minAcks);

    const store = await MemoryStore.open({ dir });
    const snap = await store.snapshot();
    const applied = sumOver(snap, 'crash_applied_total') - appliedBefore;
    // Every acknowledged id is present; at most the 4 in flight at the kill (one per writer) are also present.
    expect(applied).toBeGreaterThanOrEqual(acked.length);
    expect(applied).toBeLessThanOrEqual(acked.length + 4);

    // Redeliver every acknowledged id: all are duplicates, nothing changes.
    const res = await store.apply(validApplies(acked.map(redelivery)));
    expect(res.filter((r) => r.status !== 'duplicate').map((r) => r.id)).toEqual([]);
    // Redeliver every id the writer may have started: each lands exactly once overall.
    const maxN = Math.max(...acked.map((id) => Number(id.split('-')[1])));
    const all: string[] = [];
    for (let n = 0; n <= maxN + 8; n++) all.push(`${prefix}-${n}`);
    const second = await store.apply(validApplies(all.map(redelivery)));
    const newlyApplied = second.filter((r) => r.status === 'applied').length;
    const after = await store.snapshot();
    expect(sumOver(after, 'crash_applied_total') - appliedBefore).toBe(all.length);
    expect(applied + newlyApplied).toBe(all.length);
    // Value check: sum of n over all ids, each counted once (no double counting of any id).
    const expectedValue = all.reduce((t, id) => t + Number(id.split('-')[1]), 0);
    expect(sumOver(after, 'crash_value_total') - valueBefore).toBe(expectedValue);
    // The LWW gauge of each group is at least its newest acknowledged set (set value = time = n).
    const newestByWriter = new Map<string, number>();
    for (const line of ackedLines) {
      const [id, w] = line.split(' ') as [string, string];
      newestByWriter.set(w, Math.max(newestByWriter.get(w) ?? -1, Number(id.split('-')[1])));
    }
    for (const [w, newest] of newestByWriter) {
      expect(seriesValue(after, { job: 'crash', instance: w }, 'crash_last')).toBeGreaterThanOrEqual(newest);
    }
    await store.close();
  });
});
