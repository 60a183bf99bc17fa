/** The figures of `auto` (the ladder through the real edge) at one threshold, checked against the pinned runs. */
import type { Attempt } from "@rung/shared/openai";
import { median } from "../../tests/e2e/harness/edge-admin.ts";
import { confidenceOf, largestCompute, type Observation, type Pinned, type PointSummary, type Scorer } from "./pinned.ts";
import { simulatedRung } from "./simulate.ts";

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
export function autoSummary(label: string, threshold: number, auto: Observation[], p: Pinned, score: Scorer = confidenceOf): AutoSummary {
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
    if (answeredRung !== simulatedRung(p, i, threshold, score)) {
      const near = p.runs.slice(0, -1).some((runs) => Math.abs(score(runs[i]!) - threshold) <= 0.0005 + 1e-9);
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
