import { describe, expect, it } from "vitest";
import { SpeedMeter } from "../../node/speed-meter.ts";
import { MAX_TOKENS_PER_SECOND } from "../../protocol/messages.ts";

describe("SpeedMeter", () => {
  it("reports nothing before a job finished", () => {
    expect(new SpeedMeter().recent().size).toBe(0);
  });

  it("counts tokens after the first over the time from first piece to end, per model", () => {
    const meter = new SpeedMeter();
    meter.record("a", 11, 0.5);
    meter.record("b", 101, 2);
    expect(Object.fromEntries(meter.recent())).toEqual({ a: 20, b: 50 });
  });

  it("weights jobs by their tokens and forgets jobs past its window", () => {
    const meter = new SpeedMeter(2);
    meter.record("a", 101, 1); // 100 tok/s
    meter.record("a", 11, 1); // 10 tok/s
    expect(meter.recent().get("a")).toBe(55);
    meter.record("a", 21, 1); // pushes out the first job
    expect(meter.recent().get("a")).toBe(15);
  });

  it("reports at most what hello and heartbeat may carry", () => {
    const meter = new SpeedMeter();
    meter.record("echo", 1_000, 1e-6);
    expect(meter.recent().get("echo")).toBe(MAX_TOKENS_PER_SECOND);
  });

  it("ignores jobs with nothing to time", () => {
    const meter = new SpeedMeter();
    meter.record("a", 1, 0.3);
    meter.record("a", 5, 0);
    expect(meter.recent().has("a")).toBe(false);
  });
});
