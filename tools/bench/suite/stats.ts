/** Percentiles the suite reports, of a run's samples. */
export interface Spread {
  p50: number;
  p95: number;
  p99: number;
  samples: number;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function spread(values: readonly number[]): Spread {
  return { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), samples: values.length };
}

/** Milliseconds as the tables print them. */
export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "–");

/** A figure with sign, e.g. "+1.25", for what one path adds over another. */
export const signed = (value: number) => (value >= 0 ? `+${ms(value)}` : ms(value));

/** A ratio, e.g. "0.42x". */
export const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "–");

/** Whole numbers with thousands separated, e.g. "4,250". */
export const count = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "–");
