/**
 * The evaluation's arithmetic, kept apart from the requests so the full run and the CI
 * test compute every figure the same way. Everything here is pure and deterministic.
 */
import type { Attempt, RungTrace } from "@rung/shared/openai";
import { seededRandom } from "@rung/shared/routing";
import { median } from "../../tests/e2e/harness/edge-admin.ts";

/** One request's outcome through the edge. */
export interface Observation {
  text: string;
  correct: boolean;
  promptTokens: number;
  completionTokens: number;
  /** Request sent to whole answer received, ms. */
  ms: number;
  trace: RungTrace;
}

/** The three rungs' pinned observations on the same problems, index by index. */
export interface Pinned {
  ids: string[];
  parameters: number[];
  /** pinned[r][i]: rung r on problem i. */
  runs: Observation[][];
}

export const confidenceOf = (o: Observation): number => {
  const mean = o.trace.attempts.at(-1)?.confidence?.mean;
  if (typeof mean !== "number") throw new Error(`answer without a confidence in its trace: ${JSON.stringify(o.trace)}`);
  return mean;
};

/** Parameters × (prompt + generated tokens) of rung r answering problem i pinned. */
export const pinnedCompute = (p: Pinned, r: number, i: number): number =>
  p.parameters[r]! * (p.runs[r]![i]!.promptTokens + p.runs[r]![i]!.completionTokens);

export const largestCompute = (p: Pinned): number => {
  const top = p.ids.length - 1;
  return p.runs[top]!.reduce((sum, _, i) => sum + pinnedCompute(p, top, i), 0);
};

export interface PointSummary {
  label: string;
  accuracy: number;
  /** Share of requests answered by each rung, in ladder order. */
  share: number[];
  /** Compute relative to always using the largest rung on the same problems. */
  relativeCompute: number;
  medianMs: number | null;
}

export function pinnedSummary(p: Pinned, r: number): PointSummary {
  const runs = p.runs[r]!;
  const n = runs.length;
  const compute = runs.reduce((sum, _, i) => sum + pinnedCompute(p, r, i), 0);
  return {
    label: `pinned ${p.ids[r]}`,
    accuracy: runs.filter((o) => o.correct).length / n,
    share: p.ids.map((_, k) => (k === r ? 1 : 0)),
    relativeCompute: compute / largestCompute(p),
    medianMs: median(runs.map((o) => o.ms)),
  };
}

export interface AutoSummary extends PointSummary {
  threshold: number;
  /** Requests answered by each rung. */
  counts: number[];
  escalationsPerRequest: number;
  /** Share of compute spent on abandoned (escalated) attempts. */
  wastedShare: number;
  /** Requests whose first attempt was not the smallest rung (the balanced profile should start there). */
  notStartedOnSmallest: number;
  /** Attempts that ended neither answered nor escalated (errors, lost hedges). */
  oddAttempts: string[];
  /**
   * Requests whose rung differs from what the pinned confidences predict for this threshold,
   * not counting those where a judged confidence lies within 0.0005 of the threshold: traces
   * round confidences to 3 decimals, while the edge compares the exact value.
   */
  disagreesWithPinned: number;
  /** Disagreements a rounded confidence explains (within 0.0005 of the threshold). */
  disagreesWithinRounding: number;
  /** Answers whose text differs from the same rung's pinned answer (greedy should make them equal). */
  textDiffersFromPinned: number;
}

/**
 * `auto` at one threshold. Abandoned attempts count: an escalated whole answer generated what
 * the same rung generates pinned on the same problem (greedy decoding is deterministic).
 */
export function autoSummary(label: string, threshold: number, auto: Observation[], p: Pinned): AutoSummary {
  const n = auto.length;
  const counts = p.ids.map(() => 0);
  let compute = 0;
  let wasted = 0;
  let notStartedOnSmallest = 0;
  let disagrees = 0;
  let withinRounding = 0;
  let textDiffers = 0;
  const oddAttempts: string[] = [];
  auto.forEach((o, i) => {
    const answeredRung = p.ids.indexOf(o.trace.model);
    if (answeredRung < 0) throw new Error(`answer from ${o.trace.model}, not a rung of this task`);
    counts[answeredRung]! += 1;
    if (o.trace.attempts[0]!.model !== p.ids[0]) notStartedOnSmallest++;
    if (answeredRung !== simulatedRung(p, i, threshold)) {
      const near = p.runs.slice(0, -1).some((runs) => Math.abs(confidenceOf(runs[i]!) - threshold) <= 0.0005 + 1e-9);
      if (near) withinRounding++;
      else disagrees++;
    }
    if (o.text !== p.runs[answeredRung]![i]!.text) textDiffers++;
    for (const attempt of o.trace.attempts) {
      const r = p.ids.indexOf(attempt.model);
      const generated =
        attempt.outcome === "answered" ? o.completionTokens : attempt.outcome === "escalated" ? p.runs[r]![i]!.completionTokens : 0;
      const cost = p.parameters[r]! * (o.promptTokens + generated);
      compute += cost;
      if (attempt.outcome !== "answered") wasted += cost;
      if (!["answered", "escalated"].includes(attempt.outcome)) oddAttempts.push(describe(attempt));
    }
  });
  return {
    label,
    threshold,
    accuracy: auto.filter((o) => o.correct).length / n,
    share: counts.map((c) => c / n),
    counts,
    relativeCompute: compute / largestCompute(p),
    medianMs: median(auto.map((o) => o.ms)),
    escalationsPerRequest: auto.reduce((sum, o) => sum + o.trace.escalations, 0) / n,
    wastedShare: compute === 0 ? 0 : wasted / compute,
    notStartedOnSmallest,
    oddAttempts,
    disagreesWithPinned: disagrees,
    disagreesWithinRounding: withinRounding,
    textDiffersFromPinned: textDiffers,
  };
}

const describe = (a: Attempt) => `${a.model}@${a.node}: ${a.outcome}${a.reason ? ` (${a.reason})` : ""}`;

/** The rung the ladder should answer on at this threshold, from the pinned confidences: climb while below it. */
export function simulatedRung(p: Pinned, i: number, threshold: number, maxClimbs = p.ids.length - 1): number {
  let r = 0;
  while (r < p.ids.length - 1 && r < maxClimbs && confidenceOf(p.runs[r]![i]!) < threshold) r++;
  return r;
}

/** The ladder at a threshold, simulated from pinned runs (used on the calibration half only). */
export function simulate(p: Pinned, threshold: number): PointSummary & { threshold: number } {
  const n = p.runs[0]!.length;
  const counts = p.ids.map(() => 0);
  let correct = 0;
  let compute = 0;
  for (let i = 0; i < n; i++) {
    const r = simulatedRung(p, i, threshold);
    counts[r]! += 1;
    if (p.runs[r]![i]!.correct) correct++;
    for (let k = 0; k <= r; k++) compute += pinnedCompute(p, k, i);
  }
  return {
    label: `simulated ${threshold}`,
    threshold,
    accuracy: correct / n,
    share: counts.map((c) => c / n),
    relativeCompute: compute / largestCompute(p),
    medianMs: null,
  };
}

export interface RandomSummary extends PointSummary {
  seeds: number;
  /** 5th and 95th percentile of accuracy over the seeded assignments. */
  accuracyRange: [number, number];
  /** Σ share × pinned accuracy: what the seeded average converges to. */
  expectedAccuracy: number;
}

/**
 * Random routing with exactly the same number of requests per rung as an auto point: each seed
 * shuffles the problems and deals them to rungs in those counts; correctness and compute come
 * from the pinned runs (a random router never climbs, so it wastes nothing).
 */
export function randomAtShare(label: string, counts: readonly number[], p: Pinned, seeds = 2000): RandomSummary {
  const n = p.runs[0]!.length;
  const accuracies: number[] = [];
  let computeSum = 0;
  const largest = largestCompute(p);
  for (let seed = 1; seed <= seeds; seed++) {
    const next = seededRandom(seed);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let correct = 0;
    let compute = 0;
    let position = 0;
    counts.forEach((count, r) => {
      for (let k = 0; k < count; k++, position++) {
        const i = order[position]!;
        if (p.runs[r]![i]!.correct) correct++;
        compute += pinnedCompute(p, r, i);
      }
    });
    accuracies.push(correct / n);
    computeSum += compute / largest;
  }
  accuracies.sort((a, b) => a - b);
  const pinnedAccuracy = p.runs.map((runs) => runs.filter((o) => o.correct).length / n);
  return {
    label,
    seeds,
    accuracy: accuracies.reduce((a, b) => a + b, 0) / seeds,
    accuracyRange: [accuracies[Math.floor(0.05 * (seeds - 1))]!, accuracies[Math.ceil(0.95 * (seeds - 1))]!],
    expectedAccuracy: counts.reduce((sum, c, r) => sum + (c / n) * pinnedAccuracy[r]!, 0),
    share: counts.map((c) => c / n),
    relativeCompute: computeSum / seeds,
    medianMs: null,
  };
}

/** The oracle: the smallest rung whose pinned answer is right, else the largest. */
export function oracle(p: Pinned): PointSummary {
  const n = p.runs[0]!.length;
  const top = p.ids.length - 1;
  const counts = p.ids.map(() => 0);
  let correct = 0;
  let compute = 0;
  for (let i = 0; i < n; i++) {
    let r = p.runs.findIndex((runs) => runs[i]!.correct);
    if (r < 0) r = top;
    else correct++;
    counts[r]! += 1;
    compute += pinnedCompute(p, r, i);
  }
  return {
    label: "oracle",
    accuracy: correct / n,
    share: counts.map((c) => c / n),
    relativeCompute: compute / largestCompute(p),
    medianMs: null,
  };
}

/** AUROC of a rung's mean confidence for its own correctness (ties count half). */
export function auroc(runs: readonly Observation[]): number | null {
  const right = runs.filter((o) => o.correct).map(confidenceOf);
  const wrong = runs.filter((o) => !o.correct).map(confidenceOf);
  if (right.length === 0 || wrong.length === 0) return null;
  let wins = 0;
  for (const a of right) for (const b of wrong) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (right.length * wrong.length);
}

/** The issue's target: ≥ 95% of the largest rung's accuracy with ≥ 75% of requests answered below the top rung. */
export const TARGET = { accuracyOfLargest: 0.95, belowTopShare: 0.75 } as const;

export function meetsTarget(point: PointSummary, largestAccuracy: number): { accuracy: boolean; belowTop: boolean; both: boolean } {
  const accuracy = point.accuracy >= TARGET.accuracyOfLargest * largestAccuracy;
  const belowTop = 1 - point.share.at(-1)! >= TARGET.belowTopShare;
  return { accuracy, belowTop, both: accuracy && belowTop };
}

/** Thresholds the calibration searches: 0.01 steps, and 0.001 steps above 0.99 where sure models sit. */
export const CALIBRATION_GRID: number[] = [
  ...Array.from({ length: 100 }, (_, i) => i / 100),
  ...Array.from({ length: 10 }, (_, i) => Math.round((0.99 + i / 1000) * 1000) / 1000).slice(1),
  0.9995,
];

export interface Calibration {
  rule: string;
  grid: (PointSummary & { threshold: number })[];
  largestAccuracy: number;
  threshold: number;
  chosen: PointSummary & { threshold: number };
}

/**
 * The rule: among the grid thresholds whose simulated calibration accuracy is at least 95% of
 * the largest rung's calibration accuracy, the one with the lowest compute (ties: the lower
 * threshold). If none reaches it, the one with the highest accuracy.
 */
export const CALIBRATION_RULE =
  "lowest calibration compute among thresholds (0.01 grid, 0.001 above 0.99) whose calibration accuracy is >= 95% of the largest rung's calibration accuracy; ties go to the lower threshold";

export function calibrate(pinnedOnCalibration: Pinned[]): Calibration {
  // Several tasks: a threshold qualifies when it meets the accuracy bar on every task; compute is the tasks' mean.
  const perTask = pinnedOnCalibration.map((p) => ({
    p,
    largest: pinnedSummary(p, p.ids.length - 1).accuracy,
    grid: CALIBRATION_GRID.map((t) => simulate(p, t)),
  }));
  const combined = CALIBRATION_GRID.map((threshold, g) => {
    const points = perTask.map((t) => t.grid[g]!);
    return {
      threshold,
      ok: perTask.every((t, k) => points[k]!.accuracy >= TARGET.accuracyOfLargest * t.largest),
      compute: points.reduce((s, x) => s + x.relativeCompute, 0) / points.length,
      accuracy: points.reduce((s, x) => s + x.accuracy, 0) / points.length,
    };
  });
  const qualifying = combined.filter((c) => c.ok);
  const best = qualifying.length
    ? qualifying.reduce((a, b) => (b.compute < a.compute ? b : a))
    : combined.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const g = CALIBRATION_GRID.indexOf(best.threshold);
  return {
    rule: CALIBRATION_RULE,
    grid:
      perTask.length === 1
        ? perTask[0]!.grid
        : combined.map((c) => ({
            label: `mean over tasks ${c.threshold}`,
            threshold: c.threshold,
            accuracy: c.accuracy,
            share: [],
            relativeCompute: c.compute,
            medianMs: null,
          })),
    largestAccuracy: perTask.reduce((s, t) => s + t.largest, 0) / perTask.length,
    threshold: best.threshold,
    chosen:
      perTask.length === 1
        ? perTask[0]!.grid[g]!
        : { label: "chosen", threshold: best.threshold, accuracy: best.accuracy, share: [], relativeCompute: best.compute, medianMs: null },
  };
}
