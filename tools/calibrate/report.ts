/** What `npm run calibrate` prints: the chosen bar (or bars per model), what it predicts, a table around it, and the policy change. */
import { judgeOfLabel } from "@rung/shared/routing";
import type { PolicyPatch } from "./apply-policy.ts";
import type { SampleCalibration } from "./calibrate-sample.ts";
import type { LabelledCalibration } from "./from-labels.ts";
import { barText, percent } from "./grid.ts";
import type { PerModelBars } from "./per-model-bars.ts";
import type { Replayed } from "./replay.ts";

/**
 * The policy change the calibration is: what `PUT /admin/policy` merges in (`--edge` does it). A
 * bar is a number on its judge's scale, so the change names the judge when its label says which
 * (a policy that names none has the shipped one); a logistic rule's label does not.
 */
export function policyPatch(result: SampleCalibration): PolicyPatch {
  const judge = result.judge === undefined ? undefined : judgeOfLabel(result.judge);
  const named = judge && { judge };
  if (result.kind === "labelled" && result.perModel)
    return { escalation: { ...named, bars: Object.fromEntries(result.perModel.bars.map((bar, k) => [result.ladder.rungs[k]!, bar])) } };
  return { escalation: { ...named, minMeanConfidence: result.chosen.bar } };
}

/** Rows of the table either side of the chosen bar. */
const AROUND = 3;

export function reportLines(result: SampleCalibration): string[] {
  const { chosen, ladder } = result;
  const lines: string[] = [];
  const judge = result.judge ?? (result.kind === "labelled" ? "not named in the records" : "mean confidence");
  lines.push(
    `judge: ${judge}${result.kind === "traces" && result.recordedBars.length ? ` (recorded at bar ${result.recordedBars.join(", ")})` : ""}`,
  );
  const how =
    ladder.source === "given"
      ? result.kind === "labelled"
        ? "as the records list it"
        : "from --rungs"
      : ladder.source === "inferred"
        ? "inferred from the order the traces tried them; --rungs sets it"
        : "partly guessed: some models were never tried in one request together; name the ladder with --rungs a,b,c";
  lines.push(`ladder: ${ladder.rungs.join(" → ")} (${how})`);
  if (result.kind === "traces") {
    const { pinned, unjudged } = result.leftOut;
    lines.push(
      `requests: ${result.requests}${pinned ? `; ${pinned} pinned left out (the bar never moves them)` : ""}${unjudged ? `; ${unjudged} with no answered attempt left out` : ""}`,
    );
    lines.push(`target: at least ${percent(result.target)} answered below the top rung (the highest bar that reaches it)`);
  } else {
    lines.push(
      `requests: ${result.requests}; the top rung answers ${percent(result.topAccuracy)} right; compute counts ${result.computeBasis}`,
    );
    lines.push(
      "accuracy" in result.target
        ? `target: at least ${percent(result.target.accuracy)} of the top rung's accuracy (${result.perModel ? "the cheapest bars per model that keep it; ties: the lowest bars" : "the cheapest bar that keeps it; ties: the lower bar"})`
        : `target: at least ${percent(result.target.belowTop)} answered below the top rung (the highest bar that reaches it)`,
    );
  }
  lines.push("");
  const perModel = result.kind === "labelled" && result.perModel !== undefined;
  if (result.kind === "labelled" && result.perModel) lines.push(...perModelLines(result, result.perModel));
  lines.push(`${perModel ? "for comparison, the shared bar" : "bar"} ${barText(chosen.bar)}: ${answered(ladder.rungs, chosen)}`);
  if (result.kind === "labelled" && chosen.accuracy !== undefined)
    lines.push(`  ${accuracyAndCompute({ accuracy: chosen.accuracy, relativeCompute: chosen.relativeCompute! }, result.topAccuracy)}`);
  if (perModel) lines.push("warning: more bars fit the sample more closely: check them on prompts not used to calibrate (hold some out)");
  if (result.kind === "traces" && chosen.unplaced > 0) {
    const recorded = result.recordedBars.length ? `recorded at bar ${result.recordedBars.join(", ")}` : "recorded at a lower bar";
    lines.push(
      `  ${chosen.unplaced} request(s) (${percent(chosen.unplaced / result.requests)}) scored below ${barText(chosen.bar)} on every rung they tried and never tried the top: counted at the top, so the share below it may be higher.`,
      `  Traces ${recorded} cannot tell where those would stop; to calibrate higher bars, record a sample at a higher bar, e.g. requests sent with "rung": { "min_confidence": 1 }, which climb every rung and record every rung's score.`,
    );
  }
  lines.push("");
  lines.push(...table(result));
  return lines;
}

function perModelLines(result: LabelledCalibration, perModel: PerModelBars): string[] {
  const bars = perModel.bars.map((bar, k) => `${result.ladder.rungs[k]} ${barText(bar)}`).join(", ");
  const search =
    perModel.search === "exhaustive"
      ? "every combination on the grid tried"
      : "coordinate descent from the shared bar; a cheaper combination may exist";
  return [
    `bars per model ${bars} (${search}): ${answered(result.ladder.rungs, perModel.replayed)}`,
    `  ${accuracyAndCompute(perModel.replayed, result.topAccuracy)}`,
  ];
}

function answered(rungs: readonly string[], point: Pick<Replayed, "share" | "belowTop">): string {
  return `${percent(point.belowTop)} answered below the top rung; per rung ${rungs.map((m, k) => `${m} ${percent(point.share[k]!)}`).join(", ")}`;
}

function accuracyAndCompute(point: Pick<Replayed, "accuracy" | "relativeCompute">, topAccuracy: number): string {
  return `accuracy ${percent(point.accuracy)} (${percent(point.accuracy / topAccuracy)} of the top rung's), compute ${percent(point.relativeCompute)} of always the top rung`;
}

function table(result: SampleCalibration): string[] {
  const at = result.points.indexOf(result.chosen);
  const rows = result.points.slice(Math.max(0, at - AROUND), at + AROUND + 1);
  const labelled = result.kind === "labelled";
  const header = ["bar", "below top", ...result.ladder.rungs, ...(labelled ? ["accuracy", "compute"] : ["unplaced"])];
  const body = rows.map((p) => [
    `${p === result.chosen ? "*" : " "}${barText(p.bar)}`,
    percent(p.belowTop),
    ...p.share.map(percent),
    ...(labelled ? [percent(p.accuracy!), percent(p.relativeCompute!)] : [String(p.unplaced)]),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)));
  const format = (cells: string[]) =>
    `  ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")}`;
  return [format(header), ...body.map(format)];
}
