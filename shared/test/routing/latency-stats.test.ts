import { describe, expect, it } from "vitest";
import { FirstTokenStats, type HedgeSettings, hedgeDelayMs } from "../../routing/latency-stats.ts";
import { seededRandom } from "../../routing/seeded-random.ts";

function statsWith(modelId: string, samples: number[], capacity?: number): FirstTokenStats {
  const stats = new FirstTokenStats(capacity);
  for (const ms of samples) stats.record(modelId, ms);
  return stats;
}

/** 1..n in a shuffled order, so sorting is exercised. */
function oneTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i * 7) % n) + 1);
}

describe("FirstTokenStats", () => {
  it("counts samples per model", () => {
    const stats = statsWith("a", [10, 20]);
    stats.record("b", 5);
    expect(stats.count("a")).toBe(2);
    expect(stats.count("b")).toBe(1);
    expect(stats.count("c")).toBe(0);
  });

  it("gives nearest-rank percentiles", () => {
    const stats = statsWith("a", oneTo(20));
    expect(stats.percentile("a", 0.95, 1)).toBe(19);
    expect(stats.percentile("a", 0.5, 1)).toBe(10);
    expect(stats.percentile("a", 1, 1)).toBe(20);
    expect(stats.percentile("a", 0, 1)).toBe(1);
    expect(statsWith("b", [300]).percentile("b", 0.95, 1)).toBe(300);
  });

  it("gives nothing below minSamples, or without samples", () => {
    const stats = statsWith("a", oneTo(7));
    expect(stats.percentile("a", 0.95, 8)).toBeUndefined();
    stats.record("a", 8);
    expect(stats.percentile("a", 0.95, 8)).toBe(8);
    expect(stats.percentile("none", 0.95, 0)).toBeUndefined();
  });

  it("keeps only the last capacity samples", () => {
    const stats = statsWith("a", [1000, 1000, 1000, 1, 2, 3, 4], 4);
    expect(stats.count("a")).toBe(4);
    expect(stats.percentile("a", 1, 1)).toBe(4);
    stats.record("a", 9);
    expect(stats.percentile("a", 0, 1)).toBe(2);
    expect(stats.percentile("a", 1, 1)).toBe(9);
  });
});

describe("hedgeDelayMs", () => {
  const settings: HedgeSettings = { enabled: true, percentile: 0.95, minSamples: 8, afterMs: null, minDelayMs: 250 };
  const slow = statsWith(
    "m",
    oneTo(20).map((i) => i * 100),
  );

  it("does not hedge when hedging is off", () => {
    expect(hedgeDelayMs(slow, "m", { ...settings, enabled: false })).toBeNull();
    expect(hedgeDelayMs(slow, "m", { ...settings, enabled: false, afterMs: 100 })).toBeNull();
  });

  it("uses a fixed delay when one is set, with or without history", () => {
    expect(hedgeDelayMs(slow, "m", { ...settings, afterMs: 700 })).toBe(700);
    expect(hedgeDelayMs(new FirstTokenStats(), "m", { ...settings, afterMs: 700 })).toBe(700);
  });

  it("waits for the model's percentile first-token time", () => {
    expect(hedgeDelayMs(slow, "m", settings)).toBe(1900);
  });

  it("waits at least minDelayMs", () => {
    const fast = statsWith("m", oneTo(20));
    expect(hedgeDelayMs(fast, "m", settings)).toBe(250);
  });

  it("does not hedge without enough history", () => {
    expect(hedgeDelayMs(statsWith("m", [5000, 5000]), "m", settings)).toBeNull();
    expect(hedgeDelayMs(slow, "other", settings)).toBeNull();
  });

  it("keeps its percentiles right as old samples leave a full ring", () => {
    const random = seededRandom(3);
    const stats = new FirstTokenStats(5);
    const recent: number[] = [];
    for (let i = 0; i < 200; i++) {
      const ms = Math.round(random() * 100);
      stats.record("m", ms);
      recent.push(ms);
      const last = [...recent.slice(-5)].sort((a, b) => a - b);
      for (const p of [0.2, 0.5, 0.95, 1]) expect(stats.percentile("m", p, 1)).toBe(last[Math.max(1, Math.ceil(p * last.length)) - 1]);
    }
  });
});
