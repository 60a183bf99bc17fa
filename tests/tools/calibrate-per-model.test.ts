/**
 * `npm run calibrate --per-model` (tools/calibrate/per-model-bars.ts): a bar per rung below the
 * top, on a hand-made labelled sample whose answers are worked out in the comment.
 */
import { describe, expect, it } from "vitest";
import { calibrateSample } from "../../tools/calibrate/calibrate-sample.ts";
import { main } from "../../tools/calibrate/cli.ts";
import { captureIo, sample, threeRungs } from "./calibrate-samples.ts";

/**
 * Three rungs small → middle → large (costs 1, 2, 3) whose scores differ in scale: small's wrong
 * answers score 0.90-0.93 and its right ones 0.95+, middle's wrong ones 0.97-0.98 and its right
 * ones 0.99+; large is always right. Keeping all of large's accuracy takes small's bar in
 * (0.93, 0.95] and middle's in (0.98, 0.99]: bars 0.94 (the lowest) and 0.99, where R1, R2, R7
 * and R8 stop on small (1 each), R3 and R4 on middle (3 each), R5 and R6 on large (6 each): 22
 * of always-large's 24. One shared bar must be 0.99 for middle's sake, so small's right answers
 * below it climb too (R1, R2, R7): 28 of 24.
 */
const scales = [
  [0.96, true, 0.995, true],
  [0.95, true, 0.99, true],
  [0.93, false, 0.99, true],
  [0.9, false, 0.992, true],
  [0.92, false, 0.98, false],
  [0.91, false, 0.97, false],
  [0.98, true, 0.999, true],
  [0.99, true, 0.9995, true],
] as const;

/** The lines of `scales`, with a rung below small whose [score, correct] per prompt `tiny` gives. */
function scalesLines(tiny?: readonly (readonly [number, boolean])[]) {
  return scales.map(([small, smallRight, middle, middleRight], i) => ({
    rungs: [
      ...(tiny ? [{ model: "tiny", score: tiny[i]![0], correct: tiny[i]![1] }] : []),
      { model: "small", score: small, correct: smallRight },
      { model: "middle", score: middle, correct: middleRight },
      { model: "large", score: 0.99, correct: true },
    ],
  }));
}

describe("calibrate a bar per model (--per-model)", () => {
  it("tries every pair of bars on a three-rung ladder and finds each model's own", () => {
    const result = calibrateSample(sample(scalesLines()), { target: { accuracy: 0.98 }, perModel: true });
    if (result.kind !== "labelled" || !result.perModel) throw new Error("expected bars per model");
    expect(result.perModel.search).toBe("exhaustive");
    expect(result.perModel.bars).toEqual([0.94, 0.99]);
    expect(result.perModel.replayed).toEqual({ share: [0.5, 0.25, 0.25], belowTop: 0.75, accuracy: 1, relativeCompute: 22 / 24 });
    // The shared bar keeps the same accuracy at more compute.
    expect(result.chosen.bar).toBe(0.99);
    expect(result.chosen.accuracy).toBe(1);
    expect(result.chosen.relativeCompute).toBe(28 / 24);
  });

  it("searches by coordinate descent from the shared bar above two rungs below the top", () => {
    // A tiny rung below small (cost 1, the rest 2, 3, 4), right on R7 and R8 only, where it scores 0.8+
    // and at most 0.7 elsewhere: its bar is 0.71, and small's and middle's stay 0.94 and 0.99.
    const tiny = [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.85, 0.8].map((score, i) => [score, i >= 6] as const);
    const result = calibrateSample(sample(scalesLines(tiny)), { target: { accuracy: 1 }, perModel: true });
    if (result.kind !== "labelled" || !result.perModel) throw new Error("expected bars per model");
    expect(result.perModel.search).toBe("coordinate descent");
    expect(result.perModel.bars).toEqual([0.71, 0.94, 0.99]);
    expect(result.perModel.replayed.accuracy).toBe(1);
    expect(result.perModel.replayed.relativeCompute).toBeLessThan(result.chosen.relativeCompute!);
  });

  it("prints the bars beside the shared bar's figures, a warning to hold prompts out, and the bars as the policy change", async () => {
    const io = captureIo(
      scalesLines()
        .map((l) => JSON.stringify(l))
        .join("\n"),
    );
    expect(await main(["-", "--accuracy", "0.98", "--per-model"], io)).toBe(0);
    expect(io.lines).toContain(
      "bars per model small 0.94, middle 0.99 (every combination on the grid tried): 75.0% answered below the top rung; per rung small 50.0%, middle 25.0%, large 25.0%",
    );
    expect(io.lines).toContain("  accuracy 100.0% (100.0% of the top rung's), compute 91.7% of always the top rung");
    expect(io.lines).toContain(
      "for comparison, the shared bar 0.99: 75.0% answered below the top rung; per rung small 12.5%, middle 62.5%, large 25.0%",
    );
    expect(io.lines).toContain("  accuracy 100.0% (100.0% of the top rung's), compute 116.7% of always the top rung");
    expect(io.lines).toContain(
      "warning: more bars fit the sample more closely: check them on prompts not used to calibrate (hold some out)",
    );
    expect(JSON.parse(io.lines.at(-1)!)).toEqual({ escalation: { bars: { small: 0.94, middle: 0.99 } } });
  });

  it("refuses traces, which do not say what untried rungs would answer, and a target other than --accuracy", async () => {
    const traces = captureIo(threeRungs.map((t) => JSON.stringify(t)).join("\n"));
    expect(await main(["-", "--accuracy", "0.98", "--per-model"], traces)).toBe(1);
    expect(traces.errors.at(-1)).toMatch(/^calibrate: --per-model needs a labelled sample: .* never tried would have answered/);
    const usage = captureIo("");
    expect(await main(["x.jsonl", "--below-top", "0.8", "--per-model"], usage)).toBe(2);
    expect(usage.errors[0]).toMatch(/^--per-model goes with --accuracy/);
  });
});
