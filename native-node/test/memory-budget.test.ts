import { describe, expect, it } from "vitest";
import { formatBytes } from "../src/engines/format-bytes.ts";
import { memoryBudget } from "../src/engines/memory-budget.ts";

describe("memoryBudget", () => {
  it("plans with the free memory when no limit is given", () => {
    expect(memoryBudget(undefined, 23.6e9, "VRAM")).toEqual({ bytes: 23.6e9, name: "the 23.6 GB of free VRAM" });
  });

  it("plans with a limit below what is free, named once with its figure", () => {
    expect(memoryBudget(8e9, 23.6e9, "RAM")).toEqual({ bytes: 8e9, name: "the 8.0 GB memory limit" });
    // 8G reads back as it was given: sizes and formatBytes are both decimal.
    expect(formatBytes(8e9)).toBe("8.0 GB");
  });

  it("caps a limit above what is free at the free memory, and says so", () => {
    expect(memoryBudget(64e9, 23.6e9, "VRAM")).toEqual({
      bytes: 23.6e9,
      name: "the 23.6 GB of free VRAM",
      warning: "--memory-limit 64.0 GB exceeds the 23.6 GB free; planning with 23.6 GB",
    });
  });
});
