/**
 * `npm run calibrate` (tools/calibrate): the bar for an operator's target from recorded traces
 * or a labelled sample. Hand-made samples whose answers are worked out in the comments; one
 * test runs the command itself on a file. Bars per model: calibrate-per-model.test.ts; applying
 * the bar to an edge: calibrate-edge.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calibrateSample, type Target } from "../../tools/calibrate/calibrate-sample.ts";
import { CalibrationRefusal } from "../../tools/calibrate/calibration-refusal.ts";
import { main } from "../../tools/calibrate/cli.ts";
import { parseSample, type SampleRecord } from "../../tools/calibrate/records.ts";
import { repoRoot } from "../e2e/harness/paths.ts";
import { attempt, captureIo, sample, threeRungs, trace } from "./calibrate-samples.ts";

function refusal(records: SampleRecord[], target: Target): string {
  try {
    calibrateSample(records, { target });
  } catch (error) {
    expect(error).toBeInstanceOf(CalibrationRefusal);
    return (error as Error).message;
  }
  throw new Error("expected a refusal");
}

/**
 * Two rungs, small → large, recorded at bar 0.5: six requests the small rung answered (scores
 * 0.95 0.9 0.85 0.8 0.7 0.6), two it passed up (0.4, 0.3) to large, one pre-routed straight to
 * large, one in a whole OpenAI body, and one pinned request (no profile), which the bar never moves.
 * At bar t the share below the top is the share of small's answers scoring ≥ t: 5 of 10 up to
 * 0.70 and 4 of 10 above it, so a 50% target takes 0.70, where the 0.6 answer cannot be placed
 * (its trace never tried large) and counts at the top.
 */
const twoRungs = [
  ...[0.95, 0.9, 0.85, 0.8, 0.7, 0.6].map((s) => trace([attempt("small", "answered", s, 0.5)])),
  ...[0.4, 0.3].map((s) => trace([attempt("small", "escalated", s, 0.5), attempt("large", "answered", 0.9, 0.5)])),
  trace([attempt("large", "answered", 0.99, 0.5)]),
  { id: "chatcmpl-1", object: "chat.completion", choices: [], rung: trace([attempt("large", "answered", 0.8, 0.5)]) },
  trace([attempt("small", "answered", 0.2, 0.5)], null),
];

describe("calibrate from traces: a share answered below the top rung", () => {
  it("takes the highest bar that meets the share on a two-rung ladder, counting requests it cannot place at the top", () => {
    const result = calibrateSample(sample(twoRungs), { target: { belowTop: 0.5 } });
    expect(result.kind).toBe("traces");
    if (result.kind !== "traces") return;
    expect(result.ladder).toEqual({ rungs: ["small", "large"], source: "inferred" });
    expect(result.requests).toBe(10);
    expect(result.leftOut).toEqual({ pinned: 1, unjudged: 0 });
    expect(result.recordedBars).toEqual([0.5]);
    expect(result.chosen.bar).toBe(0.7);
    expect(result.chosen.share).toEqual([0.5, 0.5]);
    expect(result.chosen.unplaced).toBe(1);
    const above = result.points.find((p) => p.bar === 0.71)!;
    expect(above.belowTop).toBe(0.4);
    // At or below the recorded bar every request is placed.
    expect(result.points.find((p) => p.bar === 0.5)!.unplaced).toBe(0);
    expect(result.points.find((p) => p.bar === 0.5)!.belowTop).toBe(0.6);
  });

  it("takes the highest bar that meets the share on a three-rung ladder, with every rung's score known", () => {
    const result = calibrateSample(sample(threeRungs), { target: { belowTop: 0.6 } });
    if (result.kind !== "traces") throw new Error("expected traces");
    expect(result.ladder.rungs).toEqual(["a", "b", "c"]);
    expect(result.chosen.bar).toBe(0.9);
    expect(result.chosen.share).toEqual([0.2, 0.4, 0.4]);
    expect(result.chosen.unplaced).toBe(0);
    expect(result.points.find((p) => p.bar === 0.91)!.belowTop).toBe(0.4);
  });

  it("treats a climb the bar did not cause (its score met the bar it was held to) as a climb at every bar", () => {
    // a scored 0.99 against 0.9 yet climbed (a token below minTokenConfidence): at any bar it goes on to b.
    const forced = trace([attempt("a", "escalated", 0.99, 0.9), attempt("b", "answered", 0.95, 0.9)]);
    const result = calibrateSample(sample([forced, ...threeRungs]), { target: { belowTop: 0.5 } });
    if (result.kind !== "traces") throw new Error("expected traces");
    const low = result.points.find((p) => p.bar === 0.1)!;
    expect(low.share[0]).toBeCloseTo(5 / 6);
    expect(low.share[1]).toBeCloseTo(1 / 6);
  });

  it("takes the ladder from --rungs and refuses models it does not name", () => {
    const result = calibrateSample(sample(threeRungs), { target: { belowTop: 0.6 }, rungs: ["a", "b", "c"] });
    expect(result.ladder).toEqual({ rungs: ["a", "b", "c"], source: "given" });
    expect(() => calibrateSample(sample(threeRungs), { target: { belowTop: 0.6 }, rungs: ["a", "c"] })).toThrow(
      /the sample names models --rungs does not: b/,
    );
  });

  it("refuses a target no bar reaches, saying what bar 0 gives", () => {
    // Two of the ten start on the top rung, so at most 80% can be answered below it.
    expect(refusal(sample(twoRungs), { belowTop: 0.9 })).toMatch(/no bar answers 90.0% below the top rung: even at bar 0 .* only 80.0%/);
  });
});

/**
 * Two rungs s → l, rung costs 1 and 2 (no parameters and tokens in the records).
 *   R1: s 0.95 right, l right;  R2: s 0.90 wrong, l right;  R3: s 0.50 right, l right;  R4: s 0.30 wrong, l wrong.
 * The top rung is right on 3 of 4 (75%). Up to bar 0.90 the ladder is right on 2 of 4 (R2 stays
 * on s, wrong); from 0.91 to 0.95 R2 climbs and it is right on 3 of 4, at compute 1 + 3 + 3 + 3 =
 * 10 of always-l's 8 (125%). So keeping 100% (or 98%) of the top's accuracy takes 0.91; keeping
 * 66% (2 of 4 is enough) takes bar 0, the cheapest (every bar up to 0.30 ties; the lower wins).
 */
const labelled = [
  [0.95, true, true],
  [0.9, false, true],
  [0.5, true, true],
  [0.3, false, false],
].map(([score, smallRight, largeRight]) => ({
  rungs: [
    { model: "s", score, correct: smallRight },
    { model: "l", score: 0.99, correct: largeRight },
  ],
}));

describe("calibrate from labelled records: accuracy relative to the top rung", () => {
  it("takes the cheapest bar that keeps the share of the top rung's accuracy", () => {
    for (const accuracy of [1, 0.98]) {
      const result = calibrateSample(sample(labelled), { target: { accuracy } });
      if (result.kind !== "labelled") throw new Error("expected labelled");
      expect(result.topAccuracy).toBe(0.75);
      expect(result.chosen.bar).toBe(0.91);
      expect(result.chosen.accuracy).toBe(0.75);
      expect(result.chosen.share).toEqual([0.25, 0.75]);
      expect(result.chosen.relativeCompute).toBe(1.25);
      expect(result.computeBasis).toMatch(/^rung weights 1, 2/);
    }
    const cheap = calibrateSample(sample(labelled), { target: { accuracy: 0.66 } });
    expect(cheap.chosen.bar).toBe(0);
    expect(cheap.chosen.relativeCompute).toBe(0.5);
  });

  it("counts compute as parameters × tokens when the records give them, else --rung-costs", () => {
    const withTokens = labelled.map((r) => ({
      rungs: r.rungs.map((x, k) => ({ ...x, parameters: k === 0 ? 1e9 : 9e9, tokens: 100 })),
    }));
    const result = calibrateSample(sample(withTokens), { target: { accuracy: 1 } });
    if (result.kind !== "labelled") throw new Error("expected labelled");
    expect(result.computeBasis).toBe("parameters × tokens");
    // R1 on s (1), the rest s then l (1 + 9 each): 31 of 36.
    expect(result.chosen.relativeCompute).toBeCloseTo(31 / 36);
    const weighted = calibrateSample(sample(labelled), { target: { accuracy: 1 }, rungCosts: [1, 4] });
    expect(weighted.chosen.relativeCompute).toBe((1 + 5 * 3) / 16);
  });

  it("answers a share target exactly from labelled records", () => {
    const result = calibrateSample(sample(labelled), { target: { belowTop: 0.5 } });
    expect(result.chosen.bar).toBe(0.9);
    expect(result.chosen.unplaced).toBe(0);
  });

  it("refuses records that list different rungs", () => {
    const odd = {
      rungs: [
        { model: "s", score: 0.5, correct: true },
        { model: "m", score: 0.5, correct: true },
      ],
    };
    expect(refusal(sample([...labelled, odd]), { accuracy: 0.98 })).toMatch(
      /sample\.jsonl:5 lists the rungs s, m but the sample's ladder is s, l/,
    );
  });
});

describe("calibrate refuses what would mislead", () => {
  it("refuses an accuracy target on unlabelled traces, saying what to record", () => {
    const message = refusal(sample(threeRungs), { accuracy: 0.98 });
    expect(message).toMatch(/--accuracy needs a labelled sample/);
    expect(message).toMatch(/each rung pinned/);
    expect(message).toContain('{"rungs":[{"model":"small","score":0.93,"correct":true}');
  });

  it("refuses a sample that mixes judges, naming them", () => {
    const other = trace([attempt("a", "answered", 0.9, 0.5, "logistic score")]);
    // A trace from before judges were named scored by the mean, so it is no mix with "mean confidence".
    const unnamed = trace([{ model: "a", node: "node-1", outcome: "answered", ms: 3, confidence: { mean: 0.9, min: 0.4 } } as never]);
    expect(calibrateSample(sample([...threeRungs, unnamed]), { target: { belowTop: 0.6 } }).judge).toBe("mean confidence");
    expect(refusal(sample([...threeRungs, other]), { belowTop: 0.6 })).toMatch(/mixes judges \(mean confidence, logistic score\)/);
  });

  it("reports each bad line by file and line and skips it", () => {
    const text = [
      JSON.stringify(threeRungs[0]),
      "",
      "{not json",
      JSON.stringify({ object: "chat.completion.chunk", choices: [] }),
      JSON.stringify({ rungs: [{ model: "s", score: 1.5, correct: true }] }),
      `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [], rung: threeRungs[1] })}`,
      "data: [DONE]",
      JSON.stringify({ hello: "world" }),
    ].join("\n");
    const { records, bad } = parseSample(text, "traces.jsonl");
    expect(records).toHaveLength(2);
    expect(bad.map((b) => b.where)).toEqual(["traces.jsonl:3", "traces.jsonl:4", "traces.jsonl:5", "traces.jsonl:8"]);
    expect(bad[0]!.why).toMatch(/^not JSON/);
    expect(bad[1]!.why).toMatch(/chat\.completion\.chunk without a rung trace/);
    expect(bad[2]!.why).toMatch(/a labelled record, but rungs/);
  });

  it("refuses a sample with no good line (the command exits 1 and says so)", async () => {
    const io = captureIo("{oops\n[1,2]\n");
    expect(await main(["-", "--below-top", "0.8"], io)).toBe(1);
    expect(io.errors[0]).toMatch(/^skipped stdin:1: not JSON/);
    expect(io.errors[1]).toBe("skipped stdin:2: not a JSON object");
    expect(io.errors.at(-1)).toBe("calibrate: none of the 2 line(s) is an answer with a rung trace, a trace, or a labelled record");
  });

  it("refuses a usage mistake with exit 2", async () => {
    const io = captureIo("");
    expect(await main(["x.jsonl", "--below-top", "0.8", "--accuracy", "0.9"], io)).toBe(2);
    expect(io.errors[0]).toMatch(/^give exactly one target/);
    expect(await main(["x.jsonl", "--below-top", "80"], io)).toBe(2);
    expect(await main(["x.jsonl", "--below-top", "0.8", "--edge", "http://127.0.0.1:1"], { ...io, env: {} })).toBe(2);
  });
});

describe("npm run calibrate", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rung-calibrate-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints the chosen bar, its table and the policy change from a file of traces", async () => {
    const file = join(dir, "traces.jsonl");
    await writeFile(file, `${twoRungs.map((l) => JSON.stringify(l)).join("\n")}\nnot a trace\n`);
    const run = spawnSync("npx", ["tsx", "tools/calibrate/run.ts", file, "--below-top", "0.5"], { cwd: repoRoot, encoding: "utf8" });
    expect(run.stderr).toContain(`skipped ${file}:12: not JSON`);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe(`sample: 11 record(s) from ${file}; 1 bad line(s) skipped`);
    expect(run.stdout).toContain("ladder: small → large (inferred");
    expect(run.stdout).toContain("bar 0.70: 50.0% answered below the top rung; per rung small 50.0%, large 50.0%");
    expect(run.stdout).toMatch(/1 request\(s\) \(10\.0%\) scored below 0\.70 on every rung they tried/);
    expect(run.stdout).toMatch(/\*0\.70 +50\.0% +50\.0% +50\.0% +1/);
    expect(JSON.parse(lines.at(-1)!)).toEqual({ escalation: { judge: { feature: "mean" }, minMeanConfidence: 0.7 } });
  });
});
