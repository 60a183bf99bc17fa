/** The escalation part of the policy (see policy.ts); declared here so this file stands alone. */
export interface EscalationSettings {
  enabled: boolean;
  /** Climb when the mean confidence of the judged tokens is below this. */
  minMeanConfidence: number;
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
 * threshold beats its profile's, which beats the policy's; a request may
 * turn climbing off but not on.
 */
export function effectiveEscalation(
  policy: EscalationPolicy,
  profile: string | undefined,
  override?: EscalationOverride,
): EffectiveEscalation {
  const base = policy.escalation;
  const profileMin = profile === undefined ? undefined : policy.profiles[profile]?.minMeanConfidence;
  return {
    ...base,
    enabled: base.enabled && override?.escalate !== false,
    minMeanConfidence: override?.minConfidence ?? profileMin ?? base.minMeanConfidence,
  };
}

export interface ConfidenceVerdict {
  weak: boolean;
  /** Null when no token in the window carried a confidence. */
  mean: number | null;
  min: number | null;
  /** Why the answer is weak, in words for the trace; absent when it is not. */
  reason?: string;
}

type Thresholds = Pick<EscalationSettings, "minMeanConfidence" | "minTokenConfidence" | "windowTokens">;

/**
 * Judges the first `windowTokens` known confidences of an answer. Tokens
 * without a confidence are skipped: a node that sends none cannot be judged,
 * so its answer is never called weak.
 */
export function judgeConfidence(confidences: readonly (number | null)[], e: Thresholds): ConfidenceVerdict {
  const known = confidences.filter((c): c is number => c !== null).slice(0, e.windowTokens);
  if (known.length === 0) return { weak: false, mean: null, min: null };
  const mean = known.reduce((sum, c) => sum + c, 0) / known.length;
  const min = Math.min(...known);
  if (mean < e.minMeanConfidence) {
    return { weak: true, mean, min, reason: `mean confidence ${mean.toFixed(2)} < ${e.minMeanConfidence}` };
  }
  if (min < e.minTokenConfidence) {
    return { weak: true, mean, min, reason: `token confidence ${min.toFixed(2)} < ${e.minTokenConfidence}` };
  }
  return { weak: false, mean, min };
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
