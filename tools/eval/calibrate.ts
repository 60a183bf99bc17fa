/** The target the ladder must meet, and the calibration that picks its threshold on the calibration half. */
import { type Pinned, type PointSummary, pinnedSummary, type Scorer } from "./pinned.ts";
import { simulate } from "./simulate.ts";

/**
 * The target (issue 14): ≥ 98% of the largest rung's accuracy, ≥ 75% of requests answered
 * below the top rung, and compute at most 1.25× the oracle's.
 */
export const TARGET = { accuracyOfLargest: 0.98, belowTopShare: 0.75, computeOfOracle: 1.25 } as const;

export function meetsTarget(
  point: PointSummary,
  largestAccuracy: number,
  oracleCompute?: number,
): { accuracy: boolean; belowTop: boolean; compute: boolean; both: boolean } {
  const accuracy = point.accuracy >= TARGET.accuracyOfLargest * largestAccuracy;
  const belowTop = 1 - point.share.at(-1)! >= TARGET.belowTopShare;
  const compute = oracleCompute === undefined || point.relativeCompute <= TARGET.computeOfOracle * oracleCompute;
  return { accuracy, belowTop, compute, both: accuracy && belowTop && compute };
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
 * The rule: among the grid thresholds whose simulated calibration accuracy is at least 98% of
 * the largest rung's calibration accuracy, the one with the lowest compute (ties: the lower
 * threshold). If none reaches it, the one with the highest accuracy.
 */
export const CALIBRATION_RULE =
  "lowest calibration compute among thresholds (0.01 grid, 0.001 above 0.99) whose calibration accuracy is >= 98% of the largest rung's calibration accuracy on every task; ties go to the lower threshold";

export function calibrate(pinnedOnCalibration: Pinned[], score?: Scorer): Calibration {
  // Several tasks: a threshold qualifies when it meets the accuracy bar on every task; compute is the tasks' mean.
  const perTask = pinnedOnCalibration.map((p) => ({
    p,
    largest: pinnedSummary(p, p.ids.length - 1).accuracy,
    grid: CALIBRATION_GRID.map((t) => simulate(p, t, score)),
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
