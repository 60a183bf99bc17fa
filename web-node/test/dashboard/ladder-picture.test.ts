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
    expect(steps.map((s) => [s.rung, s.kind, s.bar, s.judged?.label, s.judged?.value])).toEqual([
      [0, "escalated", 0.5, "mean confidence", 0.21],
      [1, "failed", undefined, undefined, undefined],
      [1, "answered", undefined, "mean confidence", 0.9],
    ]);
    const weakToken = { model: "m", node: "n", outcome: "escalated", reason: "token confidence 0.05 < 0.1", ms: 1 };
    expect(ladderSteps([{ ...weakToken, confidence: { mean: 0.6, min: 0.05 } }]).steps[0]).toMatchObject({
      judged: { label: "token confidence", value: 0.05 },
      bar: 0.1,
    });
  });

  it("shows the judge's own score and bar from the trace, whatever the judge", () => {
    const [step] = ladderSteps([
      {
        model: "small",
        node: "a",
        outcome: "answered",
        ms: 12,
        confidence: { mean: 0.7, min: 0.4, judge: "logistic score", score: 0.91, bar: 0.87 },
      },
    ]).steps;
    expect(step).toMatchObject({ judged: { label: "logistic score", value: 0.91 }, bar: 0.87 });
  });
});
