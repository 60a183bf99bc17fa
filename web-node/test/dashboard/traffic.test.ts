import { latencyBucketOf, type TrafficMinute } from "@rung/shared/protocol";
import { describe, expect, it } from "vitest";
import { Traffic, WINDOW_MINUTES } from "../../src/dashboard/traffic.ts";

function row(minute: number, model: string, fields: Partial<TrafficMinute> = {}): TrafficMinute {
  return { minute, model, requests: 1, answered: 1, completionTokens: 10, escalations: 0, errors: 0, latency: {}, ...fields };
}

describe("the dashboard's traffic", () => {
  it("keeps the newest row of a minute and model, and charts the last hour only", () => {
    const traffic = new Traffic();
    traffic.put([row(100, "small"), row(100 - WINDOW_MINUTES, "small", { requests: 99 })]);
    traffic.put([row(100, "small", { requests: 3 })]);
    const series = traffic.series(100);
    expect(series.seconds).toHaveLength(WINDOW_MINUTES);
    expect(series.seconds.at(-1)).toBe(6_000);
    expect(series.models).toEqual(["small"]);
    expect(series.requests[0]!.at(-1)).toBe(3);
    expect(series.requests[0]!.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("reads latency quantiles across models and each rung's share of the answers", () => {
    const traffic = new Traffic();
    const fast = { [latencyBucketOf(10)]: 9 };
    const slow = { [latencyBucketOf(1_000)]: 1 };
    traffic.put([row(5, "small", { answered: 3, requests: 4, errors: 1, latency: fast }), row(5, "large", { latency: slow })]);
    const series = traffic.series(5);
    expect(series.p50.at(-1)).toBeGreaterThan(9);
    expect(series.p50.at(-1)).toBeLessThan(12);
    expect(series.p95.at(-1)).toBeGreaterThan(900);
    expect(series.share.map((s) => s.at(-1))).toEqual([25, 75]);
    expect(series.share[0]![0]).toBeNull();
    expect(series.errors.at(-1)).toBe(1);
    expect(series.tokensPerSecond.map((s) => s.at(-1))).toEqual([10 / 60, 10 / 60]);
    const [large, small] = traffic.summary(5);
    expect(small).toMatchObject({ model: "small", requests: 4, errors: 1, answeredShare: 0.75 });
    expect(large?.tokensPerSecond).toBeCloseTo(10 / 3_600);
  });
});
