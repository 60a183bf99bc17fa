import type { HistogramFamily, HistogramSample, Labels } from "./metric-family.ts";
import { SeriesMap, type SeriesOptions } from "./series-map.ts";

/** Upper bounds in seconds for LLM requests: a few ms for a cached or refused one, up to two minutes for a long answer. */
export const LLM_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120,
]);

/** Upper bounds in seconds for what the edge itself adds to a request: mostly milliseconds. */
export const EDGE_SECONDS_BUCKETS: readonly number[] = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);

interface Series {
  counts: number[];
  sum: number;
}

/**
 * Observations counted into fixed buckets, per label set. An observation
 * costs a walk over the bounds, O(buckets), and no allocation once its series
 * exists. Out comes plain data (`HistogramSample`), written cumulative by the page.
 */
export class Histogram {
  readonly bounds: readonly number[];
  readonly #series: SeriesMap<Series>;

  /** `bounds` increasing and finite; default `LLM_SECONDS_BUCKETS`. */
  constructor(bounds: readonly number[] = LLM_SECONDS_BUCKETS, options: SeriesOptions = {}) {
    bounds.forEach((bound, i) => {
      if (!Number.isFinite(bound) || (i > 0 && bound <= bounds[i - 1]!)) throw new Error("histogram bounds must be finite and increasing");
    });
    this.bounds = [...bounds];
    this.#series = new SeriesMap(() => ({ counts: new Array<number>(bounds.length + 1).fill(0), sum: 0 }), options);
  }

  /** Counts `value` in the first bucket whose bound is at least it (past the last: the `+Inf` one). NaN and infinities are ignored. */
  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    const series = this.#series.get(labels);
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    series.counts[i]! += 1;
    series.sum += value;
  }

  /** Its series, each with `extra` labels (the pool) written first. */
  samples(extra: Labels = {}): HistogramSample[] {
    return this.#series
      .entries()
      .map(({ labels, value }) => ({ labels: { ...extra, ...labels }, counts: [...value.counts], sum: value.sum }));
  }

  /** Its buckets as plain data, to keep across the object's restarts. */
  snapshot(): { labels: Labels; counts: number[]; sum: number }[] {
    return this.#series.entries().map(({ labels, value }) => ({ labels, counts: [...value.counts], sum: value.sum }));
  }

  /** Buckets from a snapshot, added to what it holds; a series of other bounds (a changed release) is left out. */
  restore(snapshot: readonly { labels: Labels; counts: readonly number[]; sum: number }[]): void {
    for (const { labels, counts, sum } of snapshot) {
      if (counts.length !== this.bounds.length + 1) continue;
      const series = this.#series.get(labels);
      counts.forEach((count, i) => {
        series.counts[i]! += count;
      });
      series.sum += sum;
    }
  }

  family(name: string, help: string, extra: Labels = {}): HistogramFamily {
    return { name, help, type: "histogram", bounds: [...this.bounds], samples: this.samples(extra) };
  }
}
