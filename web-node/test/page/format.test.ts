import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatRate, timeLeftMs } from "../../src/page/format.ts";

describe("figures for donors", () => {
  it("sizes in binary units, one decimal below 100", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(350 * 1024 * 1024)).toBe("350 MB");
    expect(formatBytes(2.25 * 1024 ** 3)).toBe("2.3 GB");
  });

  it("durations in seconds, minutes and hours", () => {
    expect(formatDuration(4_400)).toBe("4 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(3_720_000)).toBe("1 h 2 min");
    expect(formatDuration(Number.NaN)).toBe("–");
  });

  it("time left at the rate so far, unknown until bytes arrive", () => {
    expect(timeLeftMs(0, 100, 1_000)).toBeUndefined();
    expect(timeLeftMs(25, 0, 1_000)).toBeUndefined();
    expect(timeLeftMs(25, 100, 1_000)).toBe(3_000);
    expect(timeLeftMs(100, 100, 1_000)).toBe(0);
  });

  it("rates", () => {
    expect(formatRate(0)).toBe("–");
    expect(formatRate(12.34)).toBe("12.3 tok/s");
    expect(formatRate(250.6)).toBe("251 tok/s");
  });
});
