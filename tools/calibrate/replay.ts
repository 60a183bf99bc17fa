/**
 * A labelled sample replayed at given bars: each prompt climbs from rung k while its score there
 * is below rung k's bar, and stops on the top rung. The shared bar is the case of one bar for
 * every rung; `--per-model` tries a bar per rung (per-model-bars.ts).
 */
import type { LabelledRung } from "./records.ts";

/** Every prompt's rungs in ladder order, and what one try of each costs. */
export interface ReplaySample {
  rows: readonly (readonly LabelledRung[])[];
  cost(rung: LabelledRung, k: number): number;
}

/** What the ladder does over the sample at one set of bars. */
export interface Replayed {
  /** Share of prompts answered by each rung, smallest first. */
  share: number[];
  /** Share answered below the top rung. */
  belowTop: number;
  accuracy: number;
  /** Compute relative to always answering on the top rung. */
  relativeCompute: number;
}

/** `bars[k]` is rung k's bar, one per rung below the top (the top never climbs). */
export function replay(sample: ReplaySample, bars: readonly number[]): Replayed {
  const top = bars.length;
  const counts = Array.from({ length: top + 1 }, () => 0);
  let correct = 0;
  let compute = 0;
  let topCompute = 0;
  for (const row of sample.rows) {
    let k = 0;
    while (k < top && row[k]!.score < bars[k]!) k++;
    counts[k]! += 1;
    if (row[k]!.correct) correct++;
    for (let j = 0; j <= k; j++) compute += sample.cost(row[j]!, j);
    topCompute += sample.cost(row[top]!, top);
  }
  const n = sample.rows.length;
  return {
    share: counts.map((c) => c / n),
    belowTop: (n - counts[top]!) / n,
    accuracy: correct / n,
    relativeCompute: topCompute > 0 ? compute / topCompute : 0,
  };
}
