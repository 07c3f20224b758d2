/**
 * A value computed once per store snapshot (that is, per store generation: the scrape cache keeps one
 * snapshot object per generation) and reused until the snapshot changes — for read APIs whose answer
 * depends on the snapshot alone, such as `/api/v1/metrics`' serialized JSON.
 */
import type { StoreSnapshot } from '../shared/store/types';

export class PerSnapshot<T> {
  private snapshot: StoreSnapshot | undefined;
  private generation: string | undefined;
  private value: T | undefined;
  builds = 0;

  get(snapshot: StoreSnapshot, build: (snapshot: StoreSnapshot) => T): T {
    if (this.snapshot !== snapshot || this.generation !== snapshot.generation || this.value === undefined) {
      this.value = build(snapshot);
      this.snapshot = snapshot;
      this.generation = snapshot.generation;
      this.builds++;
    }
    return this.value;
  }
}
