import type { ApplyRequest } from '../../shared/store/types';

/**
 * Request `<prefix>-<n>` of the memory-store crash test: what the writer process applies and what the test
 * redelivers — the same content, since a redelivery with other content is refused (`redelivery_mismatch`).
 */
export function crashRequest(prefix: string, n: number): ApplyRequest {
  return {
    id: `${prefix}-${n}`,
    group: { job: 'crash', instance: `w${n % 4}` },
    ops: [
      { kind: 'counter_inc', name: 'crash_applied_total', labels: {}, value: 1 },
      { kind: 'counter_inc', name: 'crash_value_total', labels: { bucket: String(n % 5) }, value: n },
      { kind: 'gauge_set', name: 'crash_last', labels: {}, value: n, timeMs: n },
    ],
  };
}
