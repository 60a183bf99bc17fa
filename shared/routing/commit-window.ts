import type { ResponseFormat } from "../protocol/messages.ts";
import { type ConfidenceVerdict, commitPoint, type EscalationSettings, judgeConfidence } from "./escalation.ts";
import { checkJsonAnswer } from "./json-answer.ts";
import { asSignals, type JudgedTokens } from "./judge.ts";

/** Where a request stands on its ladder, as far as climbing goes. */
export interface ClimbState {
  escalation: Pick<EscalationSettings, "enabled" | "maxClimbs">;
  /** Times the request climbed already. */
  climbs: number;
  /** Where the profile (and pre-routing) started it. */
  startIndex: number;
  rungCount: number;
}

/** Whether an answer from this rung may still be traded for one from a larger rung. */
export function mayClimb(rungIndex: number | undefined, { escalation, climbs, startIndex, rungCount }: ClimbState): boolean {
  if (rungIndex === undefined || !escalation.enabled || climbs >= escalation.maxClimbs) return false;
  // Fallback rungs below the start were reached through errors above: climbing back would repeat them.
  return rungIndex >= startIndex && rungIndex < rungCount - 1;
}

/** What the commit window knows of the request and of the attempt that leads it. */
export interface WindowFacts {
  stream: boolean;
  responseFormat?: ResponseFormat | undefined;
  escalation: EscalationSettings;
  /** Whether the leading attempt may still climb (see `mayClimb`). */
  mayClimb: boolean;
}

/** A JSON answer can only be judged whole, so a stream that may climb on it is held to the end. */
export function needsWholeAnswer({ responseFormat, escalation, mayClimb }: WindowFacts): boolean {
  return responseFormat !== undefined && escalation.climbOnInvalidJson && mayClimb;
}

/** Whether a leader's first token opens a timed commit window: a stream judged on its first tokens that may climb. */
export function opensCommitWindow(facts: WindowFacts): boolean {
  return facts.stream && !needsWholeAnswer(facts) && facts.mayClimb;
}

/**
 * What the commit window makes of an answer so far: keep holding it, commit
 * it to the client (with what was judged, when something was), or cancel it
 * and climb one rung, saying why.
 */
export type AnswerVerdict =
  | { kind: "hold" }
  | { kind: "commit"; judged?: ConfidenceVerdict }
  | { kind: "climb"; reason: string; judged: ConfidenceVerdict };

const HOLD: AnswerVerdict = { kind: "hold" };

/**
 * A held chunk arrived on the leading attempt of an answer not yet committed.
 * Whole answers and JSON answers that may climb wait for `done`; an answer
 * that cannot climb commits at once; a stream is judged once its window is
 * full or `commitMs` passed since its first token.
 */
export function commitWindowVerdict(tokens: JudgedTokens, msSinceFirstToken: number, facts: WindowFacts): AnswerVerdict {
  if (!facts.stream || needsWholeAnswer(facts)) return HOLD;
  if (!facts.mayClimb) return { kind: "commit" };
  if (!commitPoint(asSignals(tokens).confidences.length, msSinceFirstToken, facts.escalation)) return HOLD;
  return windowVerdict(tokens, facts.escalation);
}

/** The commit window closed on a stream: weak tokens climb, strong ones go to the client. */
export function windowVerdict(tokens: JudgedTokens, escalation: EscalationSettings): Exclude<AnswerVerdict, { kind: "hold" }> {
  const judged = judgeConfidence(tokens, escalation);
  return judged.weak ? { kind: "climb", reason: judged.reason ?? "low confidence", judged } : { kind: "commit", judged };
}

/** An answer that reached `done` before it committed: all of its text and its tokens' signals. */
export interface WholeAnswer {
  text: string;
  confidences: JudgedTokens;
  /** The answer is tool calls, which the JSON check does not apply to. */
  toolCalls: boolean;
}

/**
 * Judges an answer at `done`: a whole answer on all its tokens, a stream on
 * the window it would have been held for; a `response_format` answer that
 * does not parse or fails its schema climbs too. Climbing needs a rung to
 * climb to: otherwise the answer commits, weak or not.
 */
export function answerVerdict(answer: WholeAnswer, facts: WindowFacts): Exclude<AnswerVerdict, { kind: "hold" }> {
  const e = facts.escalation;
  const judged = judgeConfidence(answer.confidences, facts.stream ? e : { ...e, windowTokens: Number.MAX_SAFE_INTEGER });
  const json =
    facts.responseFormat && e.climbOnInvalidJson && !answer.toolCalls
      ? checkJsonAnswer(answer.text, facts.responseFormat)
      : { ok: true as const };
  const reason = !json.ok ? json.reason : judged.weak ? (judged.reason ?? "low confidence") : undefined;
  if (reason !== undefined && facts.mayClimb) return { kind: "climb", reason, judged };
  return { kind: "commit", judged };
}
