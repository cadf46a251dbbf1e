/**
 * Nearest-rank percentiles of a sample (latencies in ms, usually), for every part that reports
 * figures: the device fleet, the simulation report and the benches. An empty sample has a count
 * of 0 and no other figure: there is no p50 of nothing.
 */
export interface Percentiles {
  readonly count: number;
  readonly min?: number;
  readonly p50?: number;
  readonly p95?: number;
  readonly p99?: number;
  readonly max?: number;
  readonly mean?: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    count: sorted.length,
    min: round(sorted[0]),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}
