import { describe, expect, it } from "vitest";
import { ladderSteps } from "../../src/dashboard/ladder-picture.ts";

describe("the ladder a request climbed", () => {
  it("puts each attempt on its model's rung, in the order the request reached them, with the bar its reason names", () => {
    const { rungs, steps } = ladderSteps([
      {
        model: "small",
        node: "a",
        outcome: "escalated",
        reason: "mean confidence 0.21 < 0.5",
        ms: 40,
        confidence: { mean: 0.21, min: 0.1 },
      },
      { model: "large", node: "b", outcome: "node_disconnected", ms: 5 },
      { model: "large", node: "c", outcome: "answered", ms: 90, confidence: { mean: 0.9, min: 0.8 } },
    ]);
    expect(rungs).toEqual(["small", "large"]);
    expect(steps.map((s) => [s.rung, s.kind, s.bar, s.measure])).toEqual([
      [0, "escalated", 0.5, "mean"],
      [1, "failed", undefined, "mean"],
      [1, "answered", undefined, "mean"],
    ]);
    expect(
      ladderSteps([{ model: "m", node: "n", outcome: "escalated", reason: "token confidence 0.05 < 0.1", ms: 1 }]).steps[0]?.measure,
    ).toBe("min");
  });
});
