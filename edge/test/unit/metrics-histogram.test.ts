import { describe, expect, it } from "vitest";
import { Counter, foldLabels, Histogram, type Labels, LLM_SECONDS_BUCKETS, OTHER, SeriesMap } from "../../src/metrics/index.ts";

describe("Histogram", () => {
  it("counts each value into the first bucket whose bound is at least it, per label set", () => {
    const h = new Histogram([0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 1, 7, 11, 500]) h.observe({ model: "a" }, v);
    h.observe({ model: "b" }, 2);
    expect(h.samples({ pool: "p" })).toEqual([
      { labels: { pool: "p", model: "a" }, counts: [2, 2, 1, 2], sum: 519.65 },
      { labels: { pool: "p", model: "b" }, counts: [0, 0, 1, 0], sum: 2 },
    ]);
  });

  it("ignores NaN and infinities, so its data stays JSON-safe", () => {
    const h = new Histogram([1]);
    h.observe({}, Number.NaN);
    h.observe({}, Infinity);
    h.observe({}, 0.5);
    expect(JSON.parse(JSON.stringify(h.family("x_seconds", "X.")))).toEqual({
      name: "x_seconds",
      help: "X.",
      type: "histogram",
      bounds: [1],
      samples: [{ labels: {}, counts: [1, 0], sum: 0.5 }],
    });
  });

  it("hands out copies: later observations do not change data already out", () => {
    const h = new Histogram([1]);
    h.observe({}, 0.5);
    const out = h.samples();
    h.observe({}, 0.5);
    expect(out[0]!.counts).toEqual([1, 0]);
  });

  it("uses buckets for LLM requests by default and refuses bounds out of order", () => {
    expect(new Histogram().bounds).toEqual(LLM_SECONDS_BUCKETS);
    expect(LLM_SECONDS_BUCKETS[0]).toBe(0.005);
    expect(LLM_SECONDS_BUCKETS.at(-1)).toBe(120);
    expect(() => new Histogram([1, 1])).toThrow(/increasing/);
    expect(() => new Histogram([1, Infinity])).toThrow(/finite/);
  });

  it("folds label sets past its cap into other", () => {
    const h = new Histogram([1], { maxSeries: 2 });
    for (const model of ["a", "b", "c", "d"]) h.observe({ model }, 0.5);
    expect(h.samples().map((s) => [s.labels.model, s.counts[0]])).toEqual([
      ["a", 1],
      ["b", 1],
      [OTHER, 2],
    ]);
  });
});

describe("Counter", () => {
  it("adds up per label set and never goes down", () => {
    const c = new Counter();
    c.inc({ key: "k1" });
    c.inc({ key: "k1" }, 4);
    c.inc({ key: "k1" }, -10);
    c.inc({ key: "k1" }, Number.NaN);
    c.inc({ key: "k2" }, 0);
    expect(c.family("rung_x_total", "X.", { pool: "p" }).samples).toEqual([
      { labels: { pool: "p", key: "k1" }, value: 5 },
      { labels: { pool: "p", key: "k2" }, value: 0 },
    ]);
  });
});

describe("SeriesMap", () => {
  it("keeps a label set whatever the order of its names", () => {
    const series = new SeriesMap(() => ({ n: 0 }));
    series.get({ a: "1", b: "2" }).n++;
    series.get({ b: "2", a: "1" }).n++;
    expect(series.entries()).toEqual([{ labels: { a: "1", b: "2" }, value: { n: 2 } }]);
  });

  it("keeps apart label sets whose names and values run together", () => {
    const series = new SeriesMap(() => ({ n: 0 }));
    const sets: Labels[] = [{ a: "1b2" }, { a: "1", b: "2" }, { a1: "b2" }, { "a:1": "" }, { a: "" }, {}, { a: "1:b" }, { "1": "a" }];
    for (const labels of sets) series.get(labels).n++;
    expect(series.entries().map((e) => e.value.n)).toEqual(sets.map(() => 1));
  });

  it("past the cap folds only the labels it is told to, and known sets still count as themselves", () => {
    const series = new SeriesMap(() => ({ n: 0 }), { maxSeries: 2, fold: foldLabels("model") });
    series.get({ model: "a", status: "200" }).n++;
    series.get({ model: "b", status: "200" }).n++;
    series.get({ model: "c", status: "200" }).n++;
    series.get({ model: "d", status: "429" }).n++;
    series.get({ model: "e", status: "429" }).n++;
    series.get({ model: "a", status: "200" }).n++;
    expect(series.entries().map(({ labels, value }) => [labels.model, labels.status, value.n])).toEqual([
      ["a", "200", 2],
      ["b", "200", 1],
      [OTHER, "200", 1],
      [OTHER, "429", 2],
    ]);
    expect(series.size).toBe(4);
  });
});
