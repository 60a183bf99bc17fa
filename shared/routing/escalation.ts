import { answerFeatures, asSignals, type Judge, type JudgedTokens, judgeLabel, judgeScore, MEAN_JUDGE } from "./judge.ts";

/** The escalation part of the policy (see policy.ts); declared here so this file stands alone. */
export interface EscalationSettings {
  enabled: boolean;
  /** How the judged tokens are scored (see judge.ts); absent: their mean confidence. */
  judge?: Judge | undefined;
  /** Climb when the judge's score of the judged tokens is below this (named for the first judge, the mean). */
  minMeanConfidence: number;
  /** A bar per model id, in place of `minMeanConfidence` for that model's answers (see escalationFor). */
  bars?: Readonly<Record<string, number>> | undefined;
  /** Climb when any judged token's confidence is below this (0 turns the check off). */
  minTokenConfidence: number;
  /** Tokens held back and judged before the answer is committed to the client. */
  windowTokens: number;
  /** Commit after this long since the first token even if the window is not full. */
  commitMs: number;
  /** Rungs one request may climb at most. */
  maxClimbs: number;
  /** Climb when a JSON answer does not parse or does not match its schema. */
  climbOnInvalidJson: boolean;
}

/** What escalation needs from the policy; the Policy type is assignable to it. */
export interface EscalationPolicy {
  escalation: EscalationSettings;
  profiles: Readonly<Record<string, { minMeanConfidence?: number | undefined }>>;
}

/** Per-request knobs a client may send (see plan-ladder's override). */
export interface EscalationOverride {
  minConfidence?: number | undefined;
  escalate?: boolean | undefined;
}

export type EffectiveEscalation = EscalationSettings;

/**
 * The escalation settings one request runs under: the request's own
 * threshold beats its profile's, which beats the policy's bars per model and
 * then its bar for the rest; a request may turn climbing off but not on.
 */
export function effectiveEscalation(
  policy: EscalationPolicy,
  profile: string | undefined,
  override?: EscalationOverride,
): EffectiveEscalation {
  const base = policy.escalation;
  const profileMin = profile === undefined ? undefined : policy.profiles[profile]?.minMeanConfidence;
  const chosen = override?.minConfidence ?? profileMin;
  return {
    ...base,
    enabled: base.enabled && override?.escalate !== false,
    minMeanConfidence: chosen ?? base.minMeanConfidence,
    // A bar the request or its profile chose holds for every model.
    bars: chosen === undefined ? base.bars : undefined,
  };
}

/** The settings an answer of this model is judged under: its own bar, when the policy has one, as the bar. */
export function escalationFor(e: EffectiveEscalation, modelId: string): EffectiveEscalation {
  const bar = e.bars?.[modelId];
  return bar === undefined || bar === e.minMeanConfidence ? e : { ...e, minMeanConfidence: bar };
}

export interface ConfidenceVerdict {
  weak: boolean;
  /** Null when no token in the window carried a confidence. */
  mean: number | null;
  min: number | null;
  /** The judge's score and the bar it was held to; absent when nothing could be judged. */
  score?: { value: number; bar: number; judge: string };
  /** Why the answer is weak, in words for the trace; absent when it is not. */
  reason?: string;
}

type Thresholds = Pick<EscalationSettings, "judge" | "minMeanConfidence" | "minTokenConfidence" | "windowTokens">;

/**
 * Judges the first `windowTokens` tokens of an answer that carry a confidence.
 * Tokens without one are skipped: a node that sends none cannot be judged, so
 * its answer is never called weak. A judge that reads margins or entropies
 * judges an answer without them by its mean confidence, against the same bar.
 */
export function judgeConfidence(tokens: JudgedTokens, e: Thresholds): ConfidenceVerdict {
  const features = answerFeatures(asSignals(tokens), e.windowTokens);
  if (features === null) return { weak: false, mean: null, min: null };
  const { mean, min } = features as { mean: number; min: number };
  const wanted = e.judge ?? MEAN_JUDGE;
  const own = judgeScore(wanted, features);
  const judge = own === null ? MEAN_JUDGE : wanted;
  const value = own ?? mean;
  const score = { value, bar: e.minMeanConfidence, judge: judgeLabel(judge) };
  if (value < e.minMeanConfidence) {
    return { weak: true, mean, min, score, reason: `${score.judge} ${value.toFixed(2)} < ${e.minMeanConfidence}` };
  }
  if (min < e.minTokenConfidence) {
    return { weak: true, mean, min, score, reason: `token confidence ${min.toFixed(2)} < ${e.minTokenConfidence}` };
  }
  return { weak: false, mean, min, score };
}

/**
 * Whether a streaming commit window has seen enough to be judged: a full
 * window of tokens, or `commitMs` since the first token (a slow node should
 * not hold the client back for long).
 */
export function commitPoint(
  heldTokens: number,
  msSinceFirstToken: number,
  e: Pick<EscalationSettings, "windowTokens" | "commitMs">,
): boolean {
  return heldTokens >= e.windowTokens || msSinceFirstToken >= e.commitMs;
}
