/**
 * Metric families as plain data: what a pool's object hands the Worker over
 * Durable Object RPC (structured clone), and what the Worker writes as one
 * Prometheus page. No classes and no functions inside, so nothing is lost on
 * the way; values are finite numbers wherever this codebase makes them, so the
 * data survives JSON too.
 */

/** Label names to values, written in this order. */
export type Labels = Readonly<Record<string, string>>;

/** One series of a counter or gauge. */
export interface Sample {
  labels: Labels;
  value: number;
}

/** One series of a histogram. */
export interface HistogramSample {
  labels: Labels;
  /**
   * Observations per bucket, not cumulative: `counts[i]` fell in
   * (`bounds[i-1]`, `bounds[i]`]; one entry more than `bounds`, the last for
   * those above the highest bound. The page writes them cumulative.
   */
  counts: number[];
  /** The sum of every observed value. */
  sum: number;
}

interface FamilyHead {
  /** The full sample name; a counter's ends in `_total` (text format 0.0.4). */
  name: string;
  help: string;
}

export type ScalarFamily = FamilyHead & { type: "counter" | "gauge"; samples: Sample[] };

export type HistogramFamily = FamilyHead & {
  type: "histogram";
  /** Upper bounds of the buckets, increasing and finite; `+Inf` is implied. */
  bounds: number[];
  samples: HistogramSample[];
};

export type MetricFamily = ScalarFamily | HistogramFamily;

/** One string per label set, whatever the order of its names: samples with the same labels share it. */
export function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
