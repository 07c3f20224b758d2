import { boundedDetail } from '../../shared/aws/dead-letter';

describe('boundedDetail (DLQ accrue-detail)', () => {
  it.each([
    ['short', { stage: 'event', index: 3, message: 'x' }],
    ['long message', { stage: 'event', index: 7, message: 'm'.repeat(100_000), group: { job: 'a' } }],
    [
      'long group values',
      {
        stage: 'store',
        index: 1,
        events: [1, 4],
        message: 'x',
        group: { job: 'j'.repeat(50_000), i: '"\\\n' },
      },
    ],
    [
      'many group labels',
      {
        stage: 'push',
        pushIndex: 2,
        message: 'y'.repeat(5000),
        group: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`l${i}`, 'v'.repeat(100)])),
      },
    ],
    [
      'a group whose label names alone exceed the budget',
      {
        stage: 'event',
        index: 9,
        message: 'z',
        group: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`${'k'.repeat(200)}${i}`, 'v'])),
        idempotencyKey: 'i'.repeat(5000),
      },
    ],
  ])('%s: stays JSON within 4096 characters and keeps stage and index', (_n, detail) => {
    const out = boundedDetail(detail, 4096);
    expect(out.length).toBeLessThanOrEqual(4096);
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed.stage).toBe(detail.stage);
    for (const k of ['index', 'events', 'pushIndex'] as const)
      if (k in detail) expect(parsed[k]).toEqual((detail as Record<string, unknown>)[k]);
    if (JSON.stringify(detail).length > 4096) expect(parsed.truncated).toBe(true);
  });
});
