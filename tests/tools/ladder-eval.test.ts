/**
 * The evaluation in CI, reduced: one task's committed trained models (tests/fixtures/trained/,
 * nothing is trained here), the first few dozen problems of its TEST half, each rung pinned and
 * `auto` at the recommended threshold (chosen by `npm run eval` on the calibration half and
 * recorded in docs/eval/results.json), through the real edge and a real agent.
 *
 * Why the margins are not flaky: the models decode greedily, so on fixed problems every answer,
 * confidence and routing decision is the same on every run; the random baseline is an average
 * over 2,000 seeded assignments, also fixed. What could move the numbers is floating-point
 * differences between CPUs flipping a borderline confidence; each margin leaves room for
 * several such flips (one problem is 1/PROBLEMS of accuracy, about 2 points).
 *
 * Measured with the final fixtures (the shipped logistic judge at 0.92, the first 48 test problems
 * of add): pinned s/m/l 68.8% / 100% / 100%; auto 100% (25 answered by s, 22 by m, 1 by l) at
 * 61.0% of the largest rung's compute; random routing at that share 83.7%. So the ladder beats
 * random by 16.3 points (asserted: 10, three flips of room; the mean at 0.98 beat it by 12.5) and
 * matches the largest rung (asserted: within 5 points, two flips of room).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_POLICY, type Judge, sameJudge } from "@rung/shared/routing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AutoSummary, autoSummary } from "../../tools/eval/auto-summary.ts";
import { type RandomSummary, randomAtShare } from "../../tools/eval/baselines.ts";
import { loadTasks, splitProblems } from "../../tools/eval/fixtures.ts";
import { scorer } from "../../tools/eval/judges.ts";
import { type Pinned, pinnedSummary } from "../../tools/eval/pinned.ts";
import { EvalSession } from "../../tools/eval/session.ts";
import { repoRoot } from "../e2e/harness/paths.ts";

/** The addition task (the manifest's first task if none is named add…). */
const TASK = /^add/;
const PROBLEMS = 48;
/** auto must beat random routing at the same share per rung by at least this much accuracy. */
const BEATS_RANDOM_BY = 0.1;
/** auto must stay within this much accuracy of the largest rung pinned. */
const WITHIN_LARGEST = 0.05;

describe(`the ladder on trained models (addition, ${PROBLEMS} held-out test problems)`, () => {
  let session: EvalSession;
  let threshold: number;
  let pinned: Pinned;
  let auto: AutoSummary;
  let streamed: AutoSummary;
  let random: RandomSummary;
  let largestAccuracy: number;
  let chosen: { judge: Judge; bar: number };

  beforeAll(async () => {
    const results = JSON.parse(await readFile(join(repoRoot, "docs", "eval", "results.json"), "utf8")) as {
      judges: { chosen: { name: string; judge: Judge; bar: number } };
    };
    chosen = results.judges.chosen;
    const { judge, bar } = chosen;
    threshold = bar;
    const { tasks } = await loadTasks();
    const task = tasks.find((t) => TASK.test(t.entry.name)) ?? tasks[0];
    if (!task) throw new Error("no task in tests/fixtures/trained/manifest.json");
    const problems = splitProblems(task.problems).test.slice(0, PROBLEMS);
    session = await EvalSession.start();
    await session.serve(task);
    pinned = await session.pinned(task, problems);
    auto = autoSummary(`auto @ ${threshold}`, threshold, await session.auto(problems, threshold, false, judge), pinned, scorer(judge));
    const window = DEFAULT_POLICY.escalation.windowTokens;
    const streams = await session.auto(problems, threshold, false, judge, true);
    streamed = autoSummary(`auto @ ${threshold}, streamed`, threshold, streams, pinned, scorer(judge, window));
    random = randomAtShare("random at the same share", auto.counts, pinned);
    largestAccuracy = pinnedSummary(pinned, pinned.ids.length - 1).accuracy;
    console.log(
      `ladder eval (CI): threshold ${threshold}; pinned ${pinned.ids.map((_, r) => `${(100 * pinnedSummary(pinned, r).accuracy).toFixed(1)}%`).join(" / ")}; ` +
        `auto ${(100 * auto.accuracy).toFixed(1)}% answered s/m/l ${auto.counts.join("/")} at ${(100 * auto.relativeCompute).toFixed(1)}% compute; ` +
        `random at that share ${(100 * random.accuracy).toFixed(1)}%`,
    );
  }, 120_000);

  afterAll(async () => {
    await session?.dispose();
  });

  it("runs the shipped default: the judge and bar npm run eval chose", () => {
    expect(sameJudge(DEFAULT_POLICY.escalation.judge, chosen.judge)).toBe(true);
    expect(DEFAULT_POLICY.escalation.minMeanConfidence).toBe(chosen.bar);
  });

  it("routes every request as the judge's replay of the pinned answers predicts, starting on the smallest rung, without errors", () => {
    expect(auto.oddAttempts).toEqual([]);
    expect(auto.notStartedOnSmallest).toBe(0);
    expect(auto.disagreesWithPinned).toBe(0);
    expect(auto.textDiffersFromPinned).toBe(0);
  });

  it("routes streams as the replay of their commit window predicts, and never climbs after the client has text", () => {
    expect(streamed.oddAttempts).toEqual([]);
    expect(streamed.disagreesWithPinned).toBe(0);
    // A climb after the window would leave the client with text from two rungs.
    expect(streamed.textDiffersFromPinned).toBe(0);
    expect(streamed.accuracy).toBe(auto.accuracy);
  });

  it(`beats random routing at the same share per rung by at least ${100 * BEATS_RANDOM_BY} points of accuracy`, () => {
    expect(auto.accuracy - random.accuracy).toBeGreaterThanOrEqual(BEATS_RANDOM_BY);
  });

  it(`stays within ${100 * WITHIN_LARGEST} points of the largest rung's accuracy, for less compute`, () => {
    expect(auto.accuracy).toBeGreaterThanOrEqual(largestAccuracy - WITHIN_LARGEST);
    expect(auto.relativeCompute).toBeLessThan(1);
  });
});
