import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../routing/backoff.ts";

const settings = { baseDelayMs: 50, maxDelayMs: 2000 };
const always = (value: number) => () => value;

describe("retryDelayMs", () => {
  it("can retry at once: full jitter starts at zero", () => {
    expect(retryDelayMs(0, settings, always(0))).toBe(0);
    expect(retryDelayMs(5, settings, always(0))).toBe(0);
  });

  it("doubles its ceiling with each retry", () => {
    expect([0, 1, 2, 3].map((i) => retryDelayMs(i, settings, always(0.5)))).toEqual([25, 50, 100, 200]);
    expect([0, 1, 2, 3].map((i) => retryDelayMs(i, settings, always(0.999)))).toEqual([49, 99, 199, 399]);
  });

  it("never waits as long as maxDelayMs", () => {
    expect(retryDelayMs(6, settings, always(0.5))).toBe(1000);
    expect(retryDelayMs(6, settings, always(0.999))).toBe(1998);
    expect(retryDelayMs(60, settings, always(0.999))).toBe(1998);
  });

  it("never waits less than minDelayMs, when one is set", () => {
    const floored = { ...settings, minDelayMs: 30 };
    expect(retryDelayMs(0, floored, always(0))).toBe(30);
    expect(retryDelayMs(3, floored, always(0.01))).toBe(30);
    expect(retryDelayMs(3, floored, always(0.5))).toBe(200);
  });
});
