/** Shared inputs of the benchmarks: a deterministic PRNG and the ARIA symbols and error types. */

/** Deterministic PRNG (mulberry32), so every run measures the same inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The heavy mix's symbols (12). */
export const BENCH_SYMBOLS: readonly string[] = [
  'EURUSD',
  'GBPUSD',
  'USDJPY',
  'AUDUSD',
  'USDCAD',
  'USDCHF',
  'NZDUSD',
  'EURGBP',
  'EURJPY',
  'GBPJPY',
  'XAUUSD',
  'US30',
];

export const BENCH_ERRORS: readonly string[] = [
  'timeout',
  'rejected',
  'requote',
  'no_liquidity',
  'connection',
];
