import { z } from "zod";

/**
 * The judge: how the edge scores an answer's tokens to decide whether it looks
 * weak enough to climb. Every judge reads per-token signals the node sent and
 * gives a score in [0, 1], higher meaning surer; the answer climbs when the
 * score is below the policy's bar (`escalation.minMeanConfidence`, named for
 * the first judge). All of it is arithmetic over at most `windowTokens`
 * numbers: microseconds per answer.
 */

/** Each token's signals, aligned index by index; margins and entropies only where the node sent them. */
export interface TokenSignals {
  /** The chosen token's probability. */
  confidences: readonly (number | null)[];
  /** Chosen token's probability minus the runner-up's. */
  margins?: readonly (number | null)[];
  /** Entropy of the next-token distribution, in nats. */
  entropies?: readonly (number | null)[];
}

/** What a verdict reads: the tokens' signals, or just their confidences (nodes that send nothing else). */
export type JudgedTokens = TokenSignals | readonly (number | null)[];

export function asSignals(tokens: JudgedTokens): TokenSignals {
  return isConfidenceList(tokens) ? { confidences: tokens } : tokens;
}

function isConfidenceList(tokens: JudgedTokens): tokens is readonly (number | null)[] {
  return Array.isArray(tokens);
}

/**
 * What a judge may read, each in [0, 1] with higher meaning surer:
 * - `mean`, `min`: of the chosen tokens' probabilities;
 * - `geoMean`: their geometric mean, exp(mean log p), the length-normalized log-likelihood;
 * - `q10`, `q25`: a low quantile of them (nearest rank), between the minimum and the mean;
 * - `marginMean`, `marginMin`: of chosen minus runner-up probability;
 * - `certainty`, `certaintyMin`: exp(−entropy), of the mean and of the largest entropy.
 */
export const FEATURE_NAMES = ["mean", "geoMean", "min", "q10", "q25", "marginMean", "marginMin", "certainty", "certaintyMin"] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export type Features = Record<FeatureName, number | null>;

/** Features that need more than each chosen token's probability. */
const NEEDS_MARGINS: ReadonlySet<FeatureName> = new Set(["marginMean", "marginMin"]);
const NEEDS_ENTROPIES: ReadonlySet<FeatureName> = new Set(["certainty", "certaintyMin"]);

const featureName = z.enum(FEATURE_NAMES);
const coefficient = z.number().min(-1000).max(1000);

/**
 * One feature as the score, or a logistic rule over several:
 * sigmoid(bias + Σ weight × logit(feature)), each feature's logit taken after
 * clamping it to [1e-6, 1 − 1e-6], since sure answers differ in how close to 1
 * they are and a logit spreads that out.
 */
export const judgeSchema = z.union([
  z.object({ feature: featureName }).strict(),
  z
    .object({
      logistic: z
        .object({
          bias: coefficient,
          weights: z.partialRecord(featureName, coefficient).refine((w) => Object.keys(w).length > 0, "name at least one feature"),
        })
        .strict(),
    })
    .strict(),
]);
export type Judge = z.infer<typeof judgeSchema>;

export const MEAN_JUDGE: Judge = { feature: "mean" };

/**
 * The shipped judge: what `npm run eval`'s stated rule chose on the calibration halves of the
 * five trained tasks (docs/models-and-evaluation.md, "Judges"), at its bar; a test holds both to
 * docs/eval/results.json. It reads only the chosen tokens' probabilities, which every node sends.
 */
export const SHIPPED_JUDGE: Judge = {
  logistic: { bias: -2.1375, weights: { mean: 0.4826, geoMean: 0.4983, min: 0.5541, q10: 0.3544, q25: -0.2429 } },
};
export const SHIPPED_BAR = 0.92;
/** The mean's calibrated bar, also held by any other judge a policy names without a bar (the default before the shipped judge). */
export const MEAN_BAR = 0.98;

/** The bar a judge is held to when the policy names none: the shipped judge's own, else the mean's. */
export function defaultBar(judge: Judge): number {
  return sameJudge(judge, SHIPPED_JUDGE) ? SHIPPED_BAR : MEAN_BAR;
}

/** Whether two judges score alike: the same feature, or the same rule whatever order its weights were written in. */
export function sameJudge(a: Judge, b: Judge): boolean {
  if ("feature" in a || "feature" in b) return "feature" in a && "feature" in b && a.feature === b.feature;
  const wa = Object.entries(a.logistic.weights);
  return (
    a.logistic.bias === b.logistic.bias &&
    wa.length === Object.keys(b.logistic.weights).length &&
    wa.every(([name, weight]) => b.logistic.weights[name as FeatureName] === weight)
  );
}

/** The features a judge reads. */
export function judgeFeatures(judge: Judge): FeatureName[] {
  return "feature" in judge ? [judge.feature] : (Object.keys(judge.logistic.weights) as FeatureName[]);
}

/** Whether the judge needs margins or entropies, which a node sends only when the job asks. */
export function needsTokenSignals(judge: Judge): boolean {
  return judgeFeatures(judge).some((f) => NEEDS_MARGINS.has(f) || NEEDS_ENTROPIES.has(f));
}

/** The judge in words, for a reason: `mean confidence`, `q10 confidence`, `logistic score`. */
export function judgeLabel(judge: Judge): string {
  if ("logistic" in judge) return "logistic score";
  return FEATURE_LABELS[judge.feature];
}

const FEATURE_LABELS: Record<FeatureName, string> = {
  mean: "mean confidence",
  geoMean: "geometric mean confidence",
  min: "lowest confidence",
  q10: "q10 confidence",
  q25: "q25 confidence",
  marginMean: "mean margin",
  marginMin: "lowest margin",
  certainty: "certainty",
  certaintyMin: "lowest certainty",
};

/** The one-feature judge a label names (`lowest confidence` → `{ feature: "min" }`); undefined for a logistic rule, whose label does not say which. */
export function judgeOfLabel(label: string): Judge | undefined {
  const feature = FEATURE_NAMES.find((name) => FEATURE_LABELS[name] === label);
  return feature && { feature };
}

/** Every judge's label, as `judgeLabel` writes it into a reason. */
export const JUDGE_LABELS: readonly string[] = [...Object.values(FEATURE_LABELS), "logistic score"];

/**
 * The features of the first `windowTokens` tokens that carry a confidence.
 * Tokens without one are skipped (a node that sends none cannot be judged);
 * margin and entropy features are null unless every judged token has them.
 */
export function answerFeatures(signals: TokenSignals, windowTokens: number): Features | null {
  const picked: number[] = [];
  for (let i = 0; i < signals.confidences.length && picked.length < windowTokens; i++) {
    if (signals.confidences[i] !== null && signals.confidences[i] !== undefined) picked.push(i);
  }
  if (picked.length === 0) return null;
  const p = picked.map((i) => signals.confidences[i]!);
  const margins = known(picked, signals.margins);
  const entropies = known(picked, signals.entropies);
  const sorted = [...p].sort((a, b) => a - b);
  return {
    mean: average(p),
    geoMean: Math.exp(average(p.map((x) => Math.log(Math.max(x, 1e-12))))),
    min: sorted[0]!,
    q10: quantile(sorted, 0.1),
    q25: quantile(sorted, 0.25),
    marginMean: margins && average(margins),
    marginMin: margins && Math.min(...margins),
    certainty: entropies && Math.exp(-average(entropies)),
    certaintyMin: entropies && Math.exp(-Math.max(...entropies)),
  };
}

/** The judge's score in [0, 1], or null when a feature it reads is unknown for this answer. */
export function judgeScore(judge: Judge, features: Features): number | null {
  if ("feature" in judge) return features[judge.feature];
  let z = judge.logistic.bias;
  for (const [name, weight] of Object.entries(judge.logistic.weights) as [FeatureName, number][]) {
    const value = features[name];
    if (value === null) return null;
    z += weight * logit(value);
  }
  return 1 / (1 + Math.exp(-z));
}

/** The logit a logistic judge applies to each feature (clamped so that 0 and 1 stay finite). */
export function logit(value: number): number {
  const p = Math.min(1 - 1e-6, Math.max(1e-6, value));
  return Math.log(p / (1 - p));
}

function known(picked: readonly number[], values: readonly (number | null)[] | undefined): number[] | null {
  if (!values) return null;
  const out: number[] = [];
  for (const i of picked) {
    const v = values[i];
    if (v === null || v === undefined) return null;
    out.push(v);
  }
  return out;
}

const average = (xs: readonly number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;

/** Nearest-rank quantile of sorted values: the smallest value with at least q of them at or below it. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}
