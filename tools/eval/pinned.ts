/**
 * What the evaluation observed, and the figures of each rung pinned: the baseline every other
 * summary is measured against. Like all of tools/eval's arithmetic, pure and deterministic, so
 * the full run and the CI test compute every figure the same way.
 */
import type { RungTrace } from "@rung/shared/openai";
import { answerFeatures, type TokenSignals } from "@rung/shared/routing";
import { median } from "../../tests/e2e/harness/edge-admin.ts";

/** One request's outcome through the edge. */
export interface Observation {
  text: string;
  correct: boolean;
  promptTokens: number;
  completionTokens: number;
  /** Request sent to whole answer received, ms. */
  ms: number;
  /** Request sent to the first text received, ms: streamed requests only. */
  firstTextMs?: number;
  /** The answering attempt's tokens' signals (the request asked for them: `rung.trace_tokens`). */
  tokens?: TokenSignals;
  trace: RungTrace;
}

/** A score of an observation: higher means surer; the ladder climbs while it is below the bar. */
export type Scorer = (o: Observation) => number;

/** The three rungs' pinned observations on the same problems, index by index. */
export interface Pinned {
  ids: string[];
  parameters: number[];
  /** pinned[r][i]: rung r on problem i. */
  runs: Observation[][];
}

/**
 * An answer's mean token confidence as the edge judges a whole answer. From the tokens' own
 * signals where the request asked for them: the trace's mean is rounded to 0.001, and a mean of
 * 0.9795 read as 0.98 passes a bar of 0.98 the edge did not pass, so calibrating on the rounded
 * mean picked 0.99 where the exact one picks 0.98.
 */
export const confidenceOf = (o: Observation): number => {
  const exact = o.tokens && answerFeatures(o.tokens, Number.MAX_SAFE_INTEGER)?.mean;
  if (typeof exact === "number") return exact;
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

/** AUROC of a rung's score (by default its mean confidence) for its own correctness (ties count half). */
export function auroc(runs: readonly Observation[], score: Scorer = confidenceOf): number | null {
  const right = runs.filter((o) => o.correct).map(score);
  const wrong = runs.filter((o) => !o.correct).map(score);
  if (right.length === 0 || wrong.length === 0) return null;
  let wins = 0;
  for (const a of right) for (const b of wrong) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (right.length * wrong.length);
}
