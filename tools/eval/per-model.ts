/**
 * A bar per model (`escalation.bars`) in the evaluation: for one task and one judge, the bars of
 * its rungs below the top picked by `npm run calibrate --per-model`'s own search
 * (`cheapestBarsPerModel`) on the task's calibration half, then replayed on its test half beside
 * the shared bar and the task's own single bar. The replay is calibrate's (`replay`), fed the
 * pinned runs with the eval's compute (parameters × prompt + completion tokens, abandoned tries
 * included) and exact scores, and checked against the eval's own replay (`simulate`) at the
 * shared bars: the two must agree exactly.
 */
import { cheapestBarsPerModel } from "../calibrate/per-model-bars.ts";
import type { LabelledRung } from "../calibrate/records.ts";
import { type Replayed, type ReplaySample, replay } from "../calibrate/replay.ts";
import { oracle } from "./baselines.ts";
import { calibrate, TARGET } from "./calibrate.ts";
import { type Pinned, pinnedSummary, type Scorer } from "./pinned.ts";
import { simulate } from "./simulate.ts";

/** The pinned runs as calibrate's labelled sample: every rung's exact score, correctness, parameters and tokens. */
export function pinnedSample(p: Pinned, score: Scorer): ReplaySample {
  const n = p.runs[0]!.length;
  const rows: LabelledRung[][] = [];
  for (let i = 0; i < n; i++) {
    rows.push(
      p.ids.map((model, r) => {
        const o = p.runs[r]![i]!;
        return { model, score: score(o), correct: o.correct, parameters: p.parameters[r]!, tokens: o.promptTokens + o.completionTokens };
      }),
    );
  }
  return { rows, cost: (rung) => rung.parameters! * rung.tokens! };
}

/** The ladder at a set of bars on one half, in the eval's terms. */
export interface BarsPoint extends Replayed {
  /** One bar per rung below the top, smallest first. */
  bars: number[];
  /** Accuracy ÷ the largest rung's on the same half. */
  ofLargest: number;
  /** Compute ÷ the oracle's on the same half. */
  ofOracle: number;
  meets: { accuracy: boolean; belowTop: boolean; compute: boolean; all: boolean };
}

export function barsPoint(p: Pinned, sample: ReplaySample, bars: number[]): BarsPoint {
  const replayed = replay(sample, bars);
  const largest = pinnedSummary(p, p.ids.length - 1).accuracy;
  const ofLargest = largest === 0 ? 1 : replayed.accuracy / largest;
  const ofOracle = replayed.relativeCompute / oracle(p).relativeCompute;
  const meets = {
    accuracy: ofLargest >= TARGET.accuracyOfLargest,
    belowTop: replayed.belowTop >= TARGET.belowTopShare,
    compute: ofOracle <= TARGET.computeOfOracle,
  };
  return { bars, ...replayed, ofLargest, ofOracle, meets: { ...meets, all: meets.accuracy && meets.belowTop && meets.compute } };
}

export interface PerModelRow {
  task: string;
  /** The judge's bar shared by every task, its task's own single bar, and the per-model search's result. */
  sharedBar: number;
  taskBar: number;
  bars: number[];
  search: "exhaustive" | "coordinate descent";
  /** Target × the largest rung's calibration accuracy: what the search had to hold. */
  target: number;
  calibrationLargestAccuracy: number;
  calibration: { shared: BarsPoint; taskBar: BarsPoint; perModel: BarsPoint };
  test: { shared: BarsPoint; taskBar: BarsPoint; perModel: BarsPoint };
}

/**
 * One task's bars per model under a judge: the task's own bar by the eval's calibration rule on
 * its calibration half, then `cheapestBarsPerModel` from it (target × the largest rung's
 * calibration accuracy, on the same half), all three replayed on both halves. Throws when
 * calibrate's replay and the eval's disagree at the shared bars.
 */
export function perModelRow(task: string, calibrationPinned: Pinned, testPinned: Pinned, score: Scorer, sharedBar: number): PerModelRow {
  const target = TARGET.accuracyOfLargest;
  const below = calibrationPinned.ids.length - 1;
  const same = (bar: number) => Array.from({ length: below }, () => bar);
  const taskBar = calibrate([calibrationPinned], score).threshold;
  const calibrationSample = pinnedSample(calibrationPinned, score);
  const testSample = pinnedSample(testPinned, score);
  const calibrationLargestAccuracy = pinnedSummary(calibrationPinned, below).accuracy;
  const chosen = cheapestBarsPerModel(calibrationSample, below, target, calibrationLargestAccuracy, taskBar);
  for (const [p, sample] of [
    [calibrationPinned, calibrationSample],
    [testPinned, testSample],
  ] as const) {
    for (const bar of [sharedBar, taskBar]) agreesWithEval(task, p, sample, bar, score);
  }
  const at = (p: Pinned, sample: ReplaySample) => ({
    shared: barsPoint(p, sample, same(sharedBar)),
    taskBar: barsPoint(p, sample, same(taskBar)),
    perModel: barsPoint(p, sample, chosen.bars),
  });
  return {
    task,
    sharedBar,
    taskBar,
    bars: chosen.bars,
    search: chosen.search,
    target,
    calibrationLargestAccuracy,
    calibration: at(calibrationPinned, calibrationSample),
    test: at(testPinned, testSample),
  };
}

/** calibrate's replay at one bar for every rung against the eval's `simulate`: accuracy, shares and compute must be equal. */
function agreesWithEval(task: string, p: Pinned, sample: ReplaySample, bar: number, score: Scorer): void {
  const ours = replay(
    sample,
    p.ids.slice(1).map(() => bar),
  );
  const theirs = simulate(p, bar, score);
  const equal =
    ours.accuracy === theirs.accuracy &&
    ours.relativeCompute === theirs.relativeCompute &&
    ours.share.length === theirs.share.length &&
    ours.share.every((s, k) => s === theirs.share[k]);
  if (!equal)
    throw new Error(`${task} at ${bar}: calibrate's replay ${JSON.stringify(ours)} differs from the eval's ${JSON.stringify(theirs)}`);
}
