/** The bars calibration tries, what each predicts, and the two rules that pick one. */
import { CALIBRATION_GRID } from "../eval/calibrate.ts";

/** The evaluation's grid: 0.01 steps, and 0.001 steps above 0.99 where sure models sit. */
export const BARS: readonly number[] = CALIBRATION_GRID;

/** Shares and accuracies are ratios of counts: compared with this slack, 7/10 meets a target of 0.7. */
const SLACK = 1e-9;

/** What the ladder would do at one bar over the sample. */
export interface BarPoint {
  bar: number;
  /** Share of requests answered by each rung, smallest first (requests the sample cannot place count at the top). */
  share: number[];
  /** Share answered below the top rung: 1 − the top's share. */
  belowTop: number;
  /** Requests whose every tried rung scored below the bar though the top was never tried: counted at the top. */
  unplaced: number;
  /** Labelled samples only: accuracy, and compute relative to always answering on the top rung. */
  accuracy?: number;
  relativeCompute?: number;
}

/**
 * RouteLLM's rule for a share: the highest bar (the most climbing, so the most quality) whose
 * predicted share below the top rung still reaches the target. The share only falls as the bar
 * rises, so this is the bar where the sample's top-rung share crosses 1 − target.
 */
export function highestBarForShare(points: readonly BarPoint[], target: number): BarPoint | undefined {
  let best: BarPoint | undefined;
  for (const point of points) if (point.belowTop + SLACK >= target && (!best || point.bar > best.bar)) best = point;
  return best;
}

/**
 * The evaluation's rule for accuracy: the lowest compute among the bars whose accuracy is at
 * least `target` × the top rung's (ties: the lower bar).
 */
export function cheapestBarForAccuracy(points: readonly BarPoint[], target: number, topAccuracy: number): BarPoint | undefined {
  let best: BarPoint | undefined;
  for (const point of [...points].sort((a, b) => a.bar - b.bar)) {
    if (point.accuracy === undefined || point.relativeCompute === undefined) continue;
    if (!keepsAccuracy(point.accuracy, target, topAccuracy)) continue;
    if (!best || point.relativeCompute < best.relativeCompute!) best = point;
  }
  return best;
}

/** Whether an accuracy is at least `target` × the top rung's, the accuracy rule's test. */
export function keepsAccuracy(accuracy: number, target: number, topAccuracy: number): boolean {
  return accuracy + SLACK >= target * topAccuracy;
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** A bar as the tables print it: two decimals on the 0.01 grid (0.70), all of them above it (0.995). */
export function barText(bar: number): string {
  return Number.isInteger(Math.round(bar * 1e6) / 1e4) ? bar.toFixed(2) : String(bar);
}
