/**
 * A bar per model in `npm run eval` (tools/eval/per-model.ts): calibrate's search and replay fed
 * the pinned runs, on a hand-made ladder whose figures are worked out in the comments.
 */
import type { RungTrace } from "@rung/shared/openai";
import { describe, expect, it } from "vitest";
import { perModelRow } from "../../tools/eval/per-model.ts";
import type { Observation, Pinned } from "../../tools/eval/pinned.ts";
import { simulate } from "../../tools/eval/simulate.ts";

const scores = new Map<Observation, number>();
const score = (o: Observation) => scores.get(o)!;

function answer(correct: boolean, s: number): Observation {
  const o: Observation = { text: "", correct, promptTokens: 6, completionTokens: 4, ms: 1, trace: {} as RungTrace };
  scores.set(o, s);
  return o;
}

/**
 * Ten problems, 10 tokens each, parameters 1 / 4 / 16. The small rung is right on 0–5 (sure, 0.9)
 * and wrong on 6–9 (0.5); the middle is right on 0–7 (0.99) and wrong on 8–9 (0.95, nearly as
 * sure); the largest is right on all. One bar must exceed 0.95 to send 8–9 up, so it also sends
 * the small rung's right answers up: 0.96. Bars per model: 0.51 for s, 0.96 for m.
 */
function ladder(): Pinned {
  const n = Array.from({ length: 10 }, (_, i) => i);
  return {
    ids: ["t-s", "t-m", "t-l"],
    parameters: [1, 4, 16],
    runs: [
      n.map((i) => answer(i < 6, i < 6 ? 0.9 : 0.5)),
      n.map((i) => answer(i < 8, i < 8 ? 0.99 : 0.95)),
      n.map(() => answer(true, 0.999)),
    ],
  };
}

describe("a bar per model in the evaluation", () => {
  it("picks the bars with calibrate's search, replays them as the eval does, and reports them against the oracle", () => {
    const p = ladder();
    const row = perModelRow("t", p, p, score, 0.98);
    expect(row.taskBar).toBe(0.96);
    expect(row.bars).toEqual([0.51, 0.96]);
    expect(row.search).toBe("exhaustive");
    // Oracle: 6 × 10 + 2 × 40 + 2 × 160 = 460 of 1,600. Per model: s on all (100), m on 6–9 (160), l on 8–9 (320) = 580.
    expect(row.test.perModel.accuracy).toBe(1);
    expect(row.test.perModel.belowTop).toBeCloseTo(0.8);
    expect(row.test.perModel.ofOracle).toBeCloseTo(580 / 460);
    expect(row.test.perModel.meets).toEqual({ accuracy: true, belowTop: true, compute: false, all: false });
    // One bar of 0.96: s on all (100), m on all (400), l on 8–9 (320) = 820.
    expect(row.test.taskBar.ofOracle).toBeCloseTo(820 / 460);
    // The shared bar's figures are the eval's own replay's.
    const sim = simulate(p, 0.98, score);
    expect(row.test.shared.relativeCompute).toBe(sim.relativeCompute);
    expect(row.test.shared.share).toEqual(sim.share);
  });
});
