/**
 * `--per-model`: a bar per rung below the top, as FrugalGPT learns a threshold per model of its
 * cascade, since models differ in how sure they sound when wrong. The shared bar's rule: the
 * lowest compute whose accuracy is at least the target × the top rung's; ties go to the bars
 * lowest in sum, then lexicographically lowest.
 */
import { BARS, keepsAccuracy } from "./grid.ts";
import { type Replayed, type ReplaySample, replay } from "./replay.ts";

export interface PerModelBars {
  /** One bar per rung below the top, smallest first (the top never climbs, so it has none). */
  bars: number[];
  replayed: Replayed;
  /** Every combination of grid bars, or coordinate descent from the shared bar. */
  search: "exhaustive" | "coordinate descent";
}

/** Up to this many rungs below the top every combination is tried: 110² replays for two; a third would be 110³. */
const EXHAUSTIVE_UP_TO = 2;

/**
 * The cheapest bars per rung on `BARS`. Both searches start from the shared bar (which must keep
 * the target) and take a combination only when the rule ranks it above, so the answer is never
 * worse than the shared bar on the sample. Coordinate descent: for each rung in turn, the grid
 * value the rule ranks best with the other bars held; until a whole pass changes nothing.
 */
export function cheapestBarsPerModel(
  sample: ReplaySample,
  rungsBelowTop: number,
  target: number,
  topAccuracy: number,
  sharedBar: number,
): PerModelBars {
  const at = (bars: number[]) => ({ bars, replayed: replay(sample, bars) });
  const keeps = (c: Candidate) => keepsAccuracy(c.replayed.accuracy, target, topAccuracy);
  let best = at(Array.from({ length: rungsBelowTop }, () => sharedBar));
  if (rungsBelowTop <= EXHAUSTIVE_UP_TO) {
    for (const bars of combinations(rungsBelowTop)) {
      const c = at(bars);
      if (keeps(c) && ranksAbove(c, best)) best = c;
    }
    return { ...best, search: "exhaustive" };
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < rungsBelowTop; k++) {
      for (const bar of BARS) {
        const c = at(best.bars.map((b, j) => (j === k ? bar : b)));
        if (keeps(c) && ranksAbove(c, best)) {
          best = c;
          changed = true;
        }
      }
    }
  }
  return { ...best, search: "coordinate descent" };
}

type Candidate = Omit<PerModelBars, "search">;

/** The rule's order; the rule's strict ranking is what ends coordinate descent. */
function ranksAbove(a: Candidate, b: Candidate): boolean {
  if (a.replayed.relativeCompute !== b.replayed.relativeCompute) return a.replayed.relativeCompute < b.replayed.relativeCompute;
  const sa = tenThousandths(a.bars);
  const sb = tenThousandths(b.bars);
  if (sa !== sb) return sa < sb;
  const k = a.bars.findIndex((bar, j) => bar !== b.bars[j]);
  return k >= 0 && a.bars[k]! < b.bars[k]!;
}

/** Grid bars are multiples of 0.0005: summed as integers, a float's rounding cannot break a tie. */
function tenThousandths(bars: readonly number[]): number {
  return bars.reduce((sum, bar) => sum + Math.round(bar * 1e4), 0);
}

function* combinations(length: number): Generator<number[]> {
  if (length === 0) {
    yield [];
    return;
  }
  for (const rest of combinations(length - 1)) for (const bar of BARS) yield [...rest, bar];
}
