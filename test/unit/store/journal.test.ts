import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransientError } from '../../../shared/model/errors';
import { MemoryStore } from '../../../shared/store/memory';
import { Journal, journalPath, listJournals, readJournal } from '../../../shared/store/memory/journal';
import { inc, req } from '../../contract/helpers';
import { validApplies, validPush } from '../../support/edge';

const dirs: string[] = [];
async function newDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'accrue-journal-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('Journal', () => {
  it('writes every appended line once, in order, across concurrent flushes', async () => {
    const dir = await newDir();
    const j = new Journal(dir, 0, true);
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      j.append(`line ${i} "quoted" ü`);
      if (i % 7 === 0) flushes.push(j.flush());
    }
    flushes.push(j.flush());
    await Promise.all(flushes);
    const { lines, torn } = await readJournal(journalPath(dir, 0));
    expect(torn).toBe(false);
    expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i} "quoted" ü`));
    await j.close();
  });

  it('rotate sends later appends to the next file, even before the earlier ones were written', async () => {
    const dir = await newDir();
    const j = new Journal(dir, 5, false);
    j.append('before-1');
    j.append('before-2');
    expect(j.rotate()).toBe(5);
    j.append('after-1');
    await j.flush();
    expect((await readJournal(journalPath(dir, 5))).lines).toEqual(['before-1', 'before-2']);
    expect((await readJournal(journalPath(dir, 6))).lines).toEqual(['after-1']);
    expect(await listJournals(dir)).toEqual([5, 6]);
    await Journal.removeUpTo(dir, 5);
    expect(await listJournals(dir)).toEqual([6]);
    await j.close();
  });

  it.each([
    ['empty file', '', [], false],
    ['complete lines', 'a\nb\n', ['a', 'b'], false],
    ['torn last line', 'a\nb\n{"half', ['a', 'b'], true],
    ['only a torn line', '{"half', [], true],
    [
      'newline inside JSON string is escaped so lines stay whole',
      `${JSON.stringify({ v: 'x\ny' })}\n`,
      ['{"v":"x\\ny"}'],
      false,
    ],
  ])('reads %s', async (_t, content, lines, torn) => {
    const dir = await newDir();
    await writeFile(journalPath(dir, 0), content);
    expect(await readJournal(journalPath(dir, 0))).toEqual({ lines, torn });
  });

  it('a failed write rejects the waiting flushes and every later one', async () => {
    const dir = await newDir();
    const j = new Journal(join(dir, 'missing'), 0, true);
    j.append('x');
    await expect(j.flush()).rejects.toThrow(/ENOENT/);
    await expect(j.flush()).rejects.toThrow(/ENOENT/);
  });
});

describe('MemoryStore after a journal write error', () => {
  it('fails the writes it could not make durable, then refuses writes and fails ping until reopened', async () => {
    const dir = await newDir();
    const s = await MemoryStore.open({ dir });
    await rm(dir, { recursive: true, force: true }); // the journal file can no longer be created
    const res = await s.apply(validApplies([req('a', { job: 'j' }, [inc('x_total', {}, 1)])]));
    expect(res[0]!.status).toBe('failed');
    if (res[0]!.status === 'failed') {
      expect(res[0]!.error).toBeInstanceOf(TransientError);
      expect(res[0]!.error.permanent).toBe(false);
    }
    await expect(
      s.push(validPush({ method: 'PUT', group: { job: 'j' }, pushTimeMs: 1, families: [] })),
    ).rejects.toBeInstanceOf(TransientError);
    await expect(s.ping()).rejects.toThrow(/journal unavailable/);
    await s.abandon().catch(() => undefined);
    // Nothing was acknowledged, and the folder can be used again.
    const r = await MemoryStore.open({ dir });
    expect((await r.snapshot()).groups).toEqual([]);
    await r.close();
    expect(await readFile(join(dir, 'state.json'), 'utf8').catch(() => 'none')).toBe('none');
  });
});
