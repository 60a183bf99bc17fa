/** The routers the ladder is compared with besides the pinned rungs: random at the same share, and the oracle. */
import { seededRandom } from "@rung/shared/routing";
import { largestCompute, type Pinned, type PointSummary, pinnedCompute } from "./pinned.ts";

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

/**
 * The ladder with a perfect judge: each rung from the smallest is tried until one answers right
 * (else the largest), and every rung tried is paid for. The least compute any ladder that tries
 * small rungs first can spend, so compute ÷ this separates the judge's cost from the cascade's.
 */
export function perfectJudge(p: Pinned): PointSummary {
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
    for (let k = 0; k <= r; k++) compute += pinnedCompute(p, k, i);
  }
  return {
    label: "perfect judge",
    accuracy: correct / n,
    share: counts.map((c) => c / n),
    relativeCompute: compute / largestCompute(p),
    medianMs: null,
  };
}
