/**
 * A bar from a labelled sample: every rung's own answer to each prompt, its score under the
 * judge and whether it was right, so the ladder replays exactly at any bar (the evaluation's
 * simulation, tools/eval/simulate.ts, on an operator's own prompts).
 */
import { CalibrationRefusal } from "./calibration-refusal.ts";
import { BARS, type BarPoint, cheapestBarForAccuracy, highestBarForShare, percent } from "./grid.ts";
import { givenLadder, type LadderOrder } from "./ladder-order.ts";
import { cheapestBarsPerModel, type PerModelBars } from "./per-model-bars.ts";
import type { LabelledRung } from "./records.ts";
import { type ReplaySample, replay } from "./replay.ts";

export type LabelledTarget = { accuracy: number } | { belowTop: number };

export interface LabelledCalibration {
  ladder: LadderOrder;
  requests: number;
  /** The top rung's accuracy on the sample: the accuracy target is relative to it. */
  topAccuracy: number;
  /** What a rung's try costs: `parameters × tokens` when every record gives both, else the rung weights used. */
  computeBasis: string;
  points: BarPoint[];
  target: LabelledTarget;
  /** The shared bar: one for every rung. */
  chosen: BarPoint;
  /** `perModel` with an accuracy target: a bar per rung below the top, beside the shared one. */
  perModel?: PerModelBars;
}

export interface LabelledOptions {
  rungs?: readonly string[];
  /** Cost of one try of each rung, smallest first, when the records carry no parameters and tokens; default 1, 2, 3, … */
  rungCosts?: readonly number[];
  /** With an accuracy target, also search a bar per rung below the top (per-model-bars.ts). */
  perModel?: boolean;
}

/**
 * At each bar every prompt climbs while its rung's score is below the bar (up to the top rung);
 * compute is every rung tried. `accuracy`: the lowest-compute bar whose accuracy is at least the
 * target × the top rung's (ties: the lower bar). `belowTop`: the highest bar whose share below
 * the top reaches the target, exact here (nothing is left unplaced). `perModel`, with an accuracy
 * target: a bar per rung below the top as well, by the same rule.
 */
export function calibrateFromLabels(
  records: readonly { where: string; rungs: readonly LabelledRung[] }[],
  target: LabelledTarget,
  options: LabelledOptions = {},
): LabelledCalibration {
  const first = records[0];
  if (!first) throw new CalibrationRefusal("no labelled record to calibrate on");
  const ladder = options.rungs
    ? givenLadder(
        options.rungs,
        records.flatMap((r) => r.rungs.map((x) => x.model)),
      )
    : { rungs: first.rungs.map((r) => r.model), source: "given" as const };
  const rows = records.map((record) => inLadderOrder(record, ladder.rungs));
  const top = ladder.rungs.length - 1;
  const byTokens = rows.every((row) => row.every((r) => r.parameters !== undefined && r.tokens !== undefined));
  const weights = options.rungCosts ?? ladder.rungs.map((_, k) => k + 1);
  if (!byTokens && weights.length !== ladder.rungs.length)
    throw new CalibrationRefusal(
      `--rung-costs gives ${weights.length} costs for ${ladder.rungs.length} rungs (${ladder.rungs.join(", ")})`,
    );
  const sample: ReplaySample = { rows, cost: (r, k) => (byTokens ? r.parameters! * r.tokens! : weights[k]!) };
  const topAccuracy = rows.filter((row) => row[top]!.correct).length / rows.length;
  const points: BarPoint[] = BARS.map((bar) => ({
    bar,
    unplaced: 0,
    ...replay(
      sample,
      Array.from({ length: top }, () => bar),
    ),
  }));

  let chosen: BarPoint | undefined;
  let perModel: PerModelBars | undefined;
  if ("accuracy" in target) {
    if (topAccuracy === 0)
      throw new CalibrationRefusal(`the top rung (${ladder.rungs[top]}) answered none of the sample right: nothing to keep`);
    chosen = cheapestBarForAccuracy(points, target.accuracy, topAccuracy);
    if (!chosen) {
      const best = points.reduce((a, b) => (b.accuracy! > a.accuracy! ? b : a));
      throw new CalibrationRefusal(
        `no bar keeps ${percent(target.accuracy)} of the top rung's accuracy (${percent(topAccuracy)}): the best is bar ${best.bar} at ${percent(best.accuracy!)}`,
      );
    }
    if (options.perModel) perModel = cheapestBarsPerModel(sample, top, target.accuracy, topAccuracy, chosen.bar);
  } else {
    chosen = highestBarForShare(points, target.belowTop);
    if (!chosen) throw new CalibrationRefusal(`no bar answers ${percent(target.belowTop)} below the top rung`);
  }
  return {
    ladder,
    requests: rows.length,
    topAccuracy,
    computeBasis: byTokens
      ? "parameters × tokens"
      : `rung weights ${weights.join(", ")}${options.rungCosts ? "" : " (no parameters and tokens in the records; --rung-costs sets them)"}`,
    points,
    target,
    chosen,
    ...(perModel && { perModel }),
  };
}

/** A record's rungs in the ladder's order; a record that lists other models refuses the sample (they are one ladder's answers). */
function inLadderOrder(record: { where: string; rungs: readonly LabelledRung[] }, ladder: readonly string[]): LabelledRung[] {
  const models = record.rungs.map((r) => r.model);
  if (models.length !== ladder.length || !ladder.every((m) => models.includes(m))) {
    throw new CalibrationRefusal(
      `${record.where} lists the rungs ${models.join(", ")} but the sample's ladder is ${ladder.join(", ")}: a labelled sample is every rung's answer to each prompt, the same rungs on every line`,
    );
  }
  return ladder.map((m) => record.rungs.find((r) => r.model === m)!);
}
