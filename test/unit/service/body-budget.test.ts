/**
 * The in-flight body budget (service/body-budget.ts): what a body received stays on the budget until a
 * full garbage collection has run after the request ended (or the wait cap passes); what was only
 * reserved comes back at once. Hostile rows: a flood of refused bodies can't cycle the budget faster than
 * memory is freed; a reservation larger than what arrived never leaks.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BodyBudget, OverloadedError } from '../../../service/body-budget';

const KiB = 1024;

/** A full collection on demand (the flag only exposes `gc` to contexts created afterwards). */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BodyBudget', () => {
  it('gives a reservation that never arrived back at once', () => {
    const budget = new BodyBudget(100 * KiB, 0, 2, 60_000);
    const hold = budget.open(80 * KiB); // declared Content-Length
    hold.take(10 * KiB, 80 * KiB); // 10 KiB arrived, within the reservation
    hold.release();
    expect(budget.inUse).toBe(10 * KiB);
    budget.close();
    expect(budget.inUse).toBe(0);
  });

  it('keeps received bytes on the budget until a full collection after the release', async () => {
    const budget = new BodyBudget(100 * KiB, 0, 2, 60_000);
    const a = budget.open(0);
    a.take(90 * KiB, 0); // a chunked body, refused: its chunks are garbage, not yet collected
    a.release();
    expect(budget.inUse).toBe(90 * KiB);
    // A refused flood: the next large body does not fit until the garbage is collected.
    expect(() => budget.open(20 * KiB)).toThrow(OverloadedError);
    fullGc();
    for (let i = 0; i < 500 && budget.inUse > 0; i++) await sleep(10); // gc entries arrive async
    expect(budget.inUse).toBe(0);
    budget.open(20 * KiB).release();
    budget.close();
  });

  it('gives received bytes back after the wait cap when no collection runs', async () => {
    const budget = new BodyBudget(100 * KiB, 0, 2, 50);
    const a = budget.open(0);
    a.take(60 * KiB, 0);
    a.release();
    a.release(); // idempotent
    expect(budget.inUse).toBe(60 * KiB);
    // The cap passes (a timer that fires early, as libuv's cached clock allows, waits again).
    for (let i = 0; i < 300 && budget.inUse > 0; i++) await sleep(10);
    expect(budget.inUse).toBe(0);
  });

  it('meters chunked bytes past the reservation and refuses what would overdraw', async () => {
    const budget = new BodyBudget(100 * KiB, 0, 2, 60_000);
    const hold = budget.open(10 * KiB);
    const meter = hold.meter(10 * KiB);
    const errors: Error[] = [];
    meter.on('error', (e) => errors.push(e));
    meter.resume();
    meter.write(Buffer.alloc(50 * KiB)); // 10 covered + 40 taken
    expect(budget.inUse).toBe(50 * KiB);
    meter.write(Buffer.alloc(60 * KiB)); // would make 110 KiB
    await sleep(0);
    expect(errors[0]).toBeInstanceOf(OverloadedError);
    hold.release();
    expect(budget.inUse).toBe(50 * KiB); // all of it arrived: waits for a collection
    budget.close();
    expect(budget.inUse).toBe(0);
  });
});
