import type { Labels, Sample, ScalarFamily } from "./metric-family.ts";
import { SeriesMap, type SeriesOptions } from "./series-map.ts";

/** A count that only goes up, per label set; it starts again at 0 when its object does, which Prometheus' `rate` allows for. */
export class Counter {
  readonly #series: SeriesMap<{ value: number }>;

  constructor(options: SeriesOptions = {}) {
    this.#series = new SeriesMap(() => ({ value: 0 }), options);
  }

  /** Adds `by` (default 1); a negative or non-finite amount is ignored, since a counter never goes down. `inc(labels, 0)` shows a series at 0. */
  inc(labels: Labels, by = 1): void {
    if (!Number.isFinite(by) || by < 0) return;
    this.#series.get(labels).value += by;
  }

  /** Its series, each with `extra` labels (the pool) written first. */
  samples(extra: Labels = {}): Sample[] {
    return this.#series.entries().map(({ labels, value }) => ({ labels: { ...extra, ...labels }, value: value.value }));
  }

  /** Its counts as plain data, to keep across the object's restarts. */
  snapshot(): { labels: Labels; value: number }[] {
    return this.#series.entries().map(({ labels, value }) => ({ labels, value: value.value }));
  }

  /** Counts from a snapshot, added to what it holds (a restored object starts at 0, so: set). */
  restore(snapshot: readonly { labels: Labels; value: number }[]): void {
    for (const { labels, value } of snapshot) this.inc(labels, value);
  }

  family(name: string, help: string, extra: Labels = {}): ScalarFamily {
    return { name, help, type: "counter", samples: this.samples(extra) };
  }
}
