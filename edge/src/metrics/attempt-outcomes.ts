import { JUDGE_LABELS } from "@rung/shared/routing";

/**
 * What a request's attempts say for the metrics: why it climbed, how its
 * hedges ended, how often a failed attempt was followed by another. Attempts
 * are the trace's entries (`@rung/shared/openai` `Attempt`), in the order they
 * ended, the answered one included.
 */

/** Why an attempt escalated, reduced to a fixed set: the trace's reason is free text, a label may not be. */
export const ESCALATION_REASONS = ["low_confidence", "invalid_json", "schema_mismatch", "other"] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

/**
 * How a hedge ended, seen from the hedge: `won` (its first token came first),
 * `lost` (the first attempt's did), `undecided` (no first token decided it: an
 * attempt failed, or the client left), `unknown` (a race was lost but the
 * attempts do not say which was the hedge).
 */
export const HEDGE_OUTCOMES = ["won", "lost", "undecided", "unknown"] as const;
export type HedgeOutcome = (typeof HEDGE_OUTCOMES)[number];

export interface AttemptEnd {
  /** `answered`, `escalated`, `hedge_lost`, `client_closed`, or the error code that ended it. */
  outcome: string;
  reason?: string;
  /** Whether the attempt was the hedge of another (the Fabric's `Attempt.hedge`); needed to tell a won hedge from a lost one. */
  hedge?: boolean;
}

export interface AttemptOutcomes {
  escalations: EscalationReason[];
  hedges: Record<HedgeOutcome, number>;
  retries: number;
}

/** Outcomes that are no error: everything else is an error code. */
const NOT_AN_ERROR: ReadonlySet<string> = new Set(["answered", "escalated", "hedge_lost", "client_closed"]);

/** `RunTrace.keep` turns the kept weak answer's `escalated` entry into the answer and puts the first reason in brackets. */
const KEPT = /^kept after every larger rung failed \((.*)\)$/s;

/** A judge's reason (`mean confidence 0.21 < 0.5`, `q10 confidence …`, `logistic score …`) or the lowest token's. */
const JUDGED = new RegExp(`^(${[...JUDGE_LABELS, "token confidence"].join("|")}) \\S+ < `);

/**
 * The reason words come from `@rung/shared/routing`: `judgeConfidence` and
 * `commitWindowVerdict` (confidence), `checkJsonAnswer` (JSON and schema).
 * Matching words is fine for a label, never for a decision; the tests run the
 * real functions so a reworded reason shows up there, not as `other` in production.
 */
export function escalationReason(reason: string | undefined): EscalationReason {
  if (reason === undefined) return "other";
  if (reason.startsWith("not JSON: ") || reason.startsWith("expected a JSON object, got ")) return "invalid_json";
  if (reason.startsWith("schema '")) return "other"; // The schema could not be applied: not the answer's fault.
  if (/^#.* fails '[^']+': /s.test(reason)) return "schema_mismatch";
  if (JUDGED.test(reason) || reason === "low confidence") return "low_confidence";
  return "other";
}

/**
 * Escalations: `escalated` attempts, and a kept weak answer (which climbed
 * too). Hedges: per hedge, whether it won its race; when the caller passes
 * `hedge` for any attempt, an attempt without it counts as no hedge. Retries:
 * attempts that ended with an error and were followed by another attempt
 * (one that then carried the request on, or a hedge that was already running).
 */
export function attemptOutcomes(attempts: readonly AttemptEnd[]): AttemptOutcomes {
  const escalations: EscalationReason[] = [];
  const hedges: Record<HedgeOutcome, number> = { won: 0, lost: 0, undecided: 0, unknown: 0 };
  const flagged = attempts.some((a) => a.hedge !== undefined);
  let launched = 0;
  let retries = 0;
  attempts.forEach((attempt, i) => {
    if (attempt.outcome === "escalated") escalations.push(escalationReason(attempt.reason));
    const kept = attempt.outcome === "answered" && attempt.reason !== undefined ? KEPT.exec(attempt.reason) : null;
    if (kept) escalations.push(escalationReason(kept[1]));
    if (attempt.hedge) launched++;
    if (attempt.outcome === "hedge_lost") {
      if (!flagged) hedges.unknown++;
      else if (attempt.hedge) hedges.lost++;
      else hedges.won++;
    }
    if (!NOT_AN_ERROR.has(attempt.outcome) && i < attempts.length - 1) retries++;
  });
  hedges.undecided = Math.max(0, launched - hedges.won - hedges.lost);
  return { escalations, hedges, retries };
}
