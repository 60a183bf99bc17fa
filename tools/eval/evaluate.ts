/**
 * The evaluation: pinned runs of every rung on both halves of each task's held-out problems,
 * a threshold calibrated on the calibration half only, then `auto` on the test half judged by
 * the mean at its default bar and several others, with the baselines computed from the same run.
 */
import { MEAN_BAR } from "@rung/shared/routing";
import { edgeStatus } from "../../tests/e2e/harness/edge-admin.ts";
import { type AutoSummary, autoSummary } from "./auto-summary.ts";
import { oracle, type RandomSummary, randomAtShare } from "./baselines.ts";
import { type Calibration, calibrate, meetsTarget } from "./calibrate.ts";
import { splitProblems, type Task } from "./fixtures.ts";
import { auroc, type Pinned, type PointSummary, pinnedSummary } from "./pinned.ts";
import { type EvalSession, policyFor } from "./session.ts";
import { simulate } from "./simulate.ts";

/** Thresholds run through `auto` on the test half, besides the default and the calibrated ones. */
export const SWEEP = [0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999];

export interface TaskResult {
  task: string;
  description: string;
  rungs: {
    id: string;
    rung: string;
    parameters: number;
    catalogParameters: number | null;
    /** The trainer's own held-out accuracy in PyTorch (manifest), beside this run's pinned accuracy over both halves. */
    manifestHeldoutAccuracy: number | null;
    edgeAccuracyBothHalves: number;
  }[];
  problems: { calibration: number; test: number };
  calibration: {
    pinned: PointSummary[];
    auroc: (number | null)[];
    /** This task's own calibrated threshold, by the same rule. */
    own: Calibration;
  };
  test: {
    pinned: PointSummary[];
    auroc: (number | null)[];
    largestAccuracy: number;
    auto: (AutoSummary & { shippedWeights: boolean; policy: string; target: ReturnType<typeof meetsTarget>; random: RandomSummary })[];
    oracle: PointSummary;
    /** The calibration's prediction for the recommended threshold, set beside what the test half measured. */
  };
}

export interface Phase1 {
  task: Task;
  calibrationPinned: Pinned;
  testPinned: Pinned;
  catalogParameters: (number | null)[];
  limit: { calibration: number; test: number };
}

/** Pinned runs of every rung on both halves. `limit` caps each half (for quick and CI runs). */
export async function pinnedPhase(session: EvalSession, task: Task, limit = Infinity): Promise<Phase1> {
  const { calibration, test } = splitProblems(task.problems);
  const cal = calibration.slice(0, limit);
  const tst = test.slice(0, limit);
  await session.serve(task);
  const catalog = (await edgeStatus(session.edge.url)).catalog;
  const catalogParameters = task.rungs.map((m) => catalog.find((e) => e.id === m.id)?.parameters ?? null);
  const calibrationPinned = await session.pinned(task, cal);
  const testPinned = await session.pinned(task, tst);
  return { task, calibrationPinned, testPinned, catalogParameters, limit: { calibration: cal.length, test: tst.length } };
}

/** `auto` on the test half at each threshold (undefined: the default policy), with its baselines. */
export async function autoPhase(
  session: EvalSession,
  phase: Phase1,
  thresholds: (number | undefined)[],
  recommended: number,
): Promise<TaskResult> {
  const rows: { threshold: number | undefined; shippedWeights: boolean }[] = [
    ...thresholds.map((threshold) => ({ threshold, shippedWeights: false })),
    { threshold: recommended, shippedWeights: true },
  ];
  const { task, testPinned: p, calibrationPinned } = phase;
  const { test } = splitProblems(task.problems);
  const problems = test.slice(0, phase.limit.test);
  await session.serve(task);
  const largestAccuracy = pinnedSummary(p, p.ids.length - 1).accuracy;
  const auto: TaskResult["test"]["auto"] = [];
  for (const { threshold, shippedWeights } of rows) {
    const observations = await session.auto(problems, threshold, shippedWeights);
    const t = threshold ?? MEAN_BAR;
    const label = shippedWeights
      ? `auto @ ${t}, shipped profile weights`
      : threshold === undefined
        ? `auto, the mean's default bar (${t})`
        : `auto @ ${t}${t === recommended ? " (recommended)" : ""}`;
    const summary = autoSummary(label, t, observations, p);
    auto.push({
      ...summary,
      shippedWeights,
      policy: JSON.stringify(policyFor(threshold, shippedWeights)),
      target: meetsTarget(summary, largestAccuracy, oracle(p).relativeCompute),
      random: randomAtShare(`random at the share of ${label}`, summary.counts, p),
    });
  }
  await session.stopAgent();
  return {
    task: task.entry.name,
    description: task.entry.description,
    rungs: task.rungs.map((m, r) => {
      const both = [...calibrationPinned.runs[r]!, ...p.runs[r]!];
      const heldout = (m as { heldout?: { accuracy?: unknown } }).heldout?.accuracy;
      return {
        id: m.id,
        rung: m.rung,
        parameters: m.parameters,
        catalogParameters: phase.catalogParameters[r]!,
        manifestHeldoutAccuracy: typeof heldout === "number" ? heldout : null,
        edgeAccuracyBothHalves: both.filter((o) => o.correct).length / both.length,
      };
    }),
    problems: phase.limit,
    calibration: {
      pinned: calibrationPinned.ids.map((_, r) => pinnedSummary(calibrationPinned, r)),
      auroc: calibrationPinned.runs.map((runs) => auroc(runs)),
      own: calibrate([calibrationPinned]),
    },
    test: {
      pinned: p.ids.map((_, r) => pinnedSummary(p, r)),
      auroc: p.runs.map((runs) => auroc(runs)),
      largestAccuracy,
      auto,
      oracle: oracle(p),
    },
  };
}

/** What the calibration half predicts at a threshold, for the report. */
export const predictedOnCalibration = (phase: Phase1, threshold: number) => simulate(phase.calibrationPinned, threshold);
