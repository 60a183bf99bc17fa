/**
 * A bar for a share answered below the top rung, from recorded traces alone: each request's
 * judged attempts say what every rung it tried scored, so the trace replays the ladder at any
 * bar as far as those rungs go.
 */
import { CalibrationRefusal } from "./calibration-refusal.ts";
import { BARS, type BarPoint, highestBarForShare, percent } from "./grid.ts";
import { givenLadder, inferLadder, type LadderOrder } from "./ladder-order.ts";
import { judgedScore, type Trace, type TraceAttempt } from "./records.ts";

/** One rung a request tried, and the score that decides whether it stops there: it stops when score ≥ bar. */
interface Step {
  rung: number;
  /** +Infinity: answered without a judged score (stops at any bar); −Infinity: climbed for a reason the bar does not move. */
  score: number;
}

export interface TraceCalibration {
  ladder: LadderOrder;
  /** Requests the sample placed. */
  requests: number;
  /** Pinned requests (no profile in the trace: the bar never moves them) and traces with no answered or judged attempt. */
  leftOut: { pinned: number; unjudged: number };
  /** The bars the traces were recorded at, lowest first. */
  recordedBars: number[];
  points: BarPoint[];
  target: number;
  chosen: BarPoint;
}

/**
 * The highest bar whose predicted share below the top rung reaches `belowTop`. At a bar, a
 * request stops on the first rung it tried (in ladder order) whose score reaches the bar, or on
 * the top rung; a request whose every tried rung scored below the bar, the top never tried,
 * cannot be placed by its trace and counts at the top (`unplaced`), which can only lower the
 * predicted share: traces predict bars up to the one they were recorded at.
 */
export function calibrateFromTraces(traces: readonly Trace[], options: { belowTop: number; rungs?: readonly string[] }): TraceCalibration {
  const leftOut = { pinned: 0, unjudged: 0 };
  const climbs: { model: string; score: number }[][] = [];
  const recorded = new Set<number>();
  for (const trace of traces) {
    if (trace.profile === undefined) {
      leftOut.pinned++;
      continue;
    }
    const climb: { model: string; score: number }[] = [];
    for (const attempt of trace.attempts) {
      const score = stepScore(attempt);
      if (score === undefined || climb.some((s) => s.model === attempt.model)) continue;
      climb.push({ model: attempt.model, score });
      const bar = judgedScore(attempt)?.bar;
      if (bar !== undefined) recorded.add(bar);
    }
    if (climb.length === 0) leftOut.unjudged++;
    else climbs.push(climb);
  }
  if (climbs.length === 0) {
    throw new CalibrationRefusal(
      `no trace to calibrate on: ${leftOut.pinned} pinned request(s) (a pinned model never climbs) and ${leftOut.unjudged} with no answered attempt; record answers to auto`,
    );
  }
  const named = climbs.flatMap((c) => c.map((s) => s.model));
  const ladder = options.rungs ? givenLadder(options.rungs, named) : inferLadder(climbs.map((c) => c.map((s) => s.model)));
  const steps: Step[][] = climbs.map((climb) =>
    climb.map((s) => ({ rung: ladder.rungs.indexOf(s.model), score: s.score })).sort((a, b) => a.rung - b.rung),
  );
  const points = BARS.map((bar) => pointAt(steps, ladder.rungs.length, bar));
  const chosen = highestBarForShare(points, options.belowTop);
  if (!chosen) {
    const floor = points[0]!;
    throw new CalibrationRefusal(
      `no bar answers ${percent(options.belowTop)} below the top rung: even at bar ${floor.bar} (never climb) only ${percent(floor.belowTop)} is, since the rest started on the top rung (pre-routed, or the only rung that could serve them)`,
    );
  }
  return {
    ladder,
    requests: steps.length,
    leftOut,
    recordedBars: [...recorded].sort((a, b) => a - b),
    points,
    target: options.belowTop,
    chosen,
  };
}

/** The score that decides an attempt's step, or undefined when the attempt was not a step of the climb (an error, a lost hedge). */
function stepScore(attempt: TraceAttempt): number | undefined {
  const judged = judgedScore(attempt);
  if (attempt.outcome === "answered") return judged?.score ?? Number.POSITIVE_INFINITY;
  if (attempt.outcome !== "escalated") return undefined;
  // Climbed though its score met the bar it was held to: a token below minTokenConfidence, or JSON that did not parse.
  if (!judged || (judged.bar !== undefined && judged.score >= judged.bar)) return Number.NEGATIVE_INFINITY;
  return judged.score;
}

function pointAt(requests: readonly Step[][], rungCount: number, bar: number): BarPoint {
  const top = rungCount - 1;
  const counts = new Array<number>(rungCount).fill(0);
  let unplaced = 0;
  for (const steps of requests) {
    const stop = steps.find((s) => s.rung === top || s.score >= bar);
    if (!stop) unplaced++;
    counts[stop?.rung ?? top]! += 1;
  }
  const n = requests.length;
  return { bar, share: counts.map((c) => c / n), belowTop: (n - counts[top]!) / n, unplaced };
}
