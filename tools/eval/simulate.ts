/** The ladder replayed from pinned runs: what it would answer at a threshold, without running it. */
import { confidenceOf, largestCompute, type Pinned, type PointSummary, pinnedCompute, type Scorer } from "./pinned.ts";

/** The rung the ladder should answer on at this threshold, from the pinned answers' scores: climb while below it. */
export function simulatedRung(p: Pinned, i: number, threshold: number, score: Scorer = confidenceOf, maxClimbs = p.ids.length - 1): number {
  let r = 0;
  while (r < p.ids.length - 1 && r < maxClimbs && score(p.runs[r]![i]!) < threshold) r++;
  return r;
}

/** The ladder at a threshold, simulated from pinned runs (used on the calibration half only). */
export function simulate(p: Pinned, threshold: number, score: Scorer = confidenceOf): PointSummary & { threshold: number } {
  const n = p.runs[0]!.length;
  const counts = p.ids.map(() => 0);
  let correct = 0;
  let compute = 0;
  for (let i = 0; i < n; i++) {
    const r = simulatedRung(p, i, threshold, score);
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
