/**
 * The judges compared: each feature of an answer's tokens alone, and logistic rules over
 * several fitted here, on the calibration halves only. Each judge gets its bar by the same
 * calibration rule; the shipped default is picked among them by DEFAULT_JUDGE_RULE, stated
 * before any test half is looked at. Pure and deterministic, like the rest of tools/eval.
 */
import { answerFeatures, FEATURE_NAMES, type FeatureName, type Judge, judgeScore, logit, needsTokenSignals } from "@rung/shared/routing";
import { oracle } from "./baselines.ts";
import { type Calibration, calibrate, TARGET } from "./calibrate.ts";
import { auroc, type Observation, type Pinned, type PointSummary, type Scorer } from "./pinned.ts";
import { simulate } from "./simulate.ts";

export interface JudgeCandidate {
  name: string;
  judge: Judge;
}

/**
 * An observation's score under a judge, as the edge computes it on the first `windowTokens`
 * tokens: a judge whose features are unknown falls back to the mean confidence; an answer with
 * no known confidence is never weak.
 */
export function scorer(judge: Judge, windowTokens = Number.MAX_SAFE_INTEGER): Scorer {
  return (o: Observation) => {
    if (!o.tokens) throw new Error(`answer without its tokens' signals in the trace: ${JSON.stringify(o.trace)}`);
    const features = answerFeatures(o.tokens, windowTokens);
    if (features === null) return 1;
    return judgeScore(judge, features) ?? features.mean!;
  };
}

/** Features every node can send (each chosen token's probability), and those that need margins or entropies too. */
export const PROBABILITY_FEATURES: FeatureName[] = ["mean", "geoMean", "min", "q10", "q25"];
export const ALL_FEATURES: FeatureName[] = [...FEATURE_NAMES];

/**
 * A logistic rule for "is this rung's answer right?" over the logits of `features`, fitted on
 * every answer that could still climb (all rungs but the top) of the calibration halves of every
 * task: standardized inputs, L2 penalty 1e-3, 4,000 steps of full-batch gradient descent from
 * zero (deterministic), then written back as raw weights and a bias on the logits, which is what
 * the edge computes.
 */
export function fitLogistic(pinnedOnCalibration: Pinned[], features: FeatureName[]): Judge {
  const xs: number[][] = [];
  const ys: number[] = [];
  for (const p of pinnedOnCalibration) {
    for (const runs of p.runs.slice(0, -1)) {
      for (const o of runs) {
        const f = answerFeatures(o.tokens!, Number.MAX_SAFE_INTEGER);
        if (!f || features.some((name) => f[name] === null)) continue;
        xs.push(features.map((name) => logit(f[name]!)));
        ys.push(o.correct ? 1 : 0);
      }
    }
  }
  const k = features.length;
  const mean = features.map((_, j) => xs.reduce((s, x) => s + x[j]!, 0) / xs.length);
  const sd = features.map((_, j) => Math.sqrt(xs.reduce((s, x) => s + (x[j]! - mean[j]!) ** 2, 0) / xs.length) || 1);
  const z = xs.map((x) => x.map((v, j) => (v - mean[j]!) / sd[j]!));
  const w = new Array<number>(k).fill(0);
  let b = 0;
  const lambda = 1e-3;
  const rate = 0.5;
  for (let step = 0; step < 4000; step++) {
    const gw = new Array<number>(k).fill(0);
    let gb = 0;
    for (let i = 0; i < z.length; i++) {
      const s = b + z[i]!.reduce((acc, v, j) => acc + v * w[j]!, 0);
      const err = 1 / (1 + Math.exp(-s)) - ys[i]!;
      gb += err;
      for (let j = 0; j < k; j++) gw[j]! += err * z[i]![j]!;
    }
    b -= (rate * gb) / z.length;
    for (let j = 0; j < k; j++) w[j]! -= rate * (gw[j]! / z.length + lambda * w[j]!);
  }
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const weights: Partial<Record<FeatureName, number>> = {};
  features.forEach((name, j) => {
    weights[name] = round(w[j]! / sd[j]!);
  });
  const bias = round(b - features.reduce((s, _, j) => s + (w[j]! * mean[j]!) / sd[j]!, 0));
  return { logistic: { bias, weights } };
}

/** Every judge compared: each feature alone, then the two fitted rules (probabilities only; all features). */
export function judgeCandidates(pinnedOnCalibration: Pinned[]): JudgeCandidate[] {
  return [
    ...ALL_FEATURES.map((feature) => ({ name: feature, judge: { feature } as Judge })),
    { name: "logistic (probabilities)", judge: fitLogistic(pinnedOnCalibration, PROBABILITY_FEATURES) },
    { name: "logistic (all features)", judge: fitLogistic(pinnedOnCalibration, ALL_FEATURES) },
  ];
}

/** One judge on one half of one task, at a bar. */
export interface JudgePoint extends PointSummary {
  /** Compute ÷ the oracle's compute on the same problems. */
  ofOracle: number;
  ofLargest: number;
  belowTop: number;
  /** AUROC of each rung's score for its own correctness. */
  auroc: (number | null)[];
  meets: { accuracy: boolean; belowTop: boolean; compute: boolean; all: boolean };
}

export function judgePoint(p: Pinned, bar: number, score: Scorer): JudgePoint {
  const sim = simulate(p, bar, score);
  const largest = p.runs.at(-1)!.filter((o) => o.correct).length / p.runs[0]!.length;
  const ofOracle = sim.relativeCompute / oracle(p).relativeCompute;
  const ofLargest = largest === 0 ? 1 : sim.accuracy / largest;
  const belowTop = 1 - sim.share.at(-1)!;
  const meets = {
    accuracy: ofLargest >= TARGET.accuracyOfLargest,
    belowTop: belowTop >= TARGET.belowTopShare,
    compute: ofOracle <= TARGET.computeOfOracle,
  };
  return {
    ...sim,
    ofOracle,
    ofLargest,
    belowTop,
    auroc: p.runs.map((runs) => auroc(runs, score)),
    meets: { ...meets, all: meets.accuracy && meets.belowTop && meets.compute },
  };
}

export interface JudgeStudy {
  candidate: JudgeCandidate;
  /** Whether every node can feed it (it reads only each chosen token's probability). */
  everyNode: boolean;
  calibration: Calibration;
  /** Per task, on its calibration half at the calibrated bar. */
  onCalibration: JudgePoint[];
  /** Mean over tasks of compute ÷ oracle on the calibration halves: what the default rule minimizes. */
  calibrationOfOracle: number;
  /** Whether the bar holds the accuracy target on every task's calibration half. */
  calibrationMeetsAccuracy: boolean;
}

export function studyJudge(candidate: JudgeCandidate, pinnedOnCalibration: Pinned[]): JudgeStudy {
  const score = scorer(candidate.judge);
  const calibration = calibrate(pinnedOnCalibration, score);
  const onCalibration = pinnedOnCalibration.map((p) => judgePoint(p, calibration.threshold, score));
  return {
    candidate,
    everyNode: !needsTokenSignals(candidate.judge),
    calibration,
    onCalibration,
    calibrationOfOracle: onCalibration.reduce((s, x) => s + x.ofOracle, 0) / onCalibration.length,
    calibrationMeetsAccuracy: onCalibration.every((x) => x.meets.accuracy),
  };
}

export const DEFAULT_JUDGE_RULE =
  "among judges every node can feed (each chosen token's probability only: upstream providers, older nodes and the browser engines send no entropies, and margins cost a node a pass over its vocabulary per token) whose calibrated bar holds >= 98% of the largest rung's accuracy on every task's calibration half, the lowest mean compute ÷ oracle over the calibration halves; a judge within 0.02 of that goes before it if it has fewer parameters (one feature before a rule), then the mean before the others (no change for operators)";

/** The shipped default, by DEFAULT_JUDGE_RULE, from the calibration halves only. */
export function chooseDefaultJudge(studies: JudgeStudy[]): JudgeStudy {
  const eligible = studies.filter((s) => s.everyNode && s.calibrationMeetsAccuracy);
  if (eligible.length === 0) throw new Error("no judge holds the accuracy bar on every task's calibration half");
  const best = Math.min(...eligible.map((s) => s.calibrationOfOracle));
  const close = eligible.filter((s) => s.calibrationOfOracle <= best + 0.02);
  const parameters = (s: JudgeStudy) => ("feature" in s.candidate.judge ? 1 : 2);
  return close.sort(
    (a, b) =>
      parameters(a) - parameters(b) ||
      Number(b.candidate.name === "mean") - Number(a.candidate.name === "mean") ||
      a.calibrationOfOracle - b.calibrationOfOracle,
  )[0]!;
}

/**
 * A labelled sample for `npm run calibrate --accuracy`: one line per problem, every rung's own
 * answer in ladder order with its score under the judge and whether it was right.
 */
export function labelledRecords(p: Pinned, score: Scorer): string {
  const n = p.runs[0]!.length;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const rungs = p.ids.map((model, r) => {
      const o = p.runs[r]![i]!;
      return {
        model,
        score: Math.round(score(o) * 1e4) / 1e4,
        correct: o.correct,
        parameters: p.parameters[r]!,
        tokens: o.promptTokens + o.completionTokens,
      };
    });
    lines.push(JSON.stringify({ rungs }));
  }
  return `${lines.join("\n")}\n`;
}
