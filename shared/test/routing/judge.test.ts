import { describe, expect, it } from "vitest";
import { judgeConfidence } from "../../routing/escalation.ts";
import {
  answerFeatures,
  judgeLabel,
  judgeScore,
  logit,
  MEAN_BAR,
  needsTokenSignals,
  SHIPPED_BAR,
  SHIPPED_JUDGE,
} from "../../routing/judge.ts";
import { parsePolicy } from "../../routing/policy.ts";

describe("answerFeatures", () => {
  it("reads the chosen tokens' probabilities: mean, geometric mean, minimum, low quantiles", () => {
    const f = answerFeatures({ confidences: [0.9, 0.5, 1, 0.8, 0.6, 0.7, 0.95, 0.85, 0.75, 0.65] }, 16)!;
    expect(f.mean).toBeCloseTo(0.77);
    expect(f.geoMean).toBeCloseTo(Math.exp([0.9, 0.5, 1, 0.8, 0.6, 0.7, 0.95, 0.85, 0.75, 0.65].reduce((s, p) => s + Math.log(p), 0) / 10));
    expect(f.min).toBe(0.5);
    // Nearest rank over 10 sorted values: q10 is the 1st, q25 the 3rd.
    expect(f.q10).toBe(0.5);
    expect(f.q25).toBe(0.65);
    expect(f.marginMean).toBeNull();
    expect(f.certainty).toBeNull();
  });

  it("judges the first windowTokens tokens that carry a confidence, their margins and entropies beside them", () => {
    const f = answerFeatures({ confidences: [0.9, null, 0.8, 0.1], margins: [0.8, 0.9, 0.6, 0], entropies: [0.1, 5, 0.3, 3] }, 2)!;
    expect(f.mean).toBeCloseTo(0.85);
    expect(f.marginMean).toBeCloseTo(0.7);
    expect(f.marginMin).toBe(0.6);
    expect(f.certainty).toBeCloseTo(Math.exp(-0.2));
    expect(f.certaintyMin).toBeCloseTo(Math.exp(-0.3));
  });

  it("knows no margin feature unless every judged token has a margin", () => {
    const f = answerFeatures({ confidences: [0.9, 0.8], margins: [0.5, null] }, 16)!;
    expect(f.marginMean).toBeNull();
    expect(f.marginMin).toBeNull();
  });

  it("has nothing to judge without a known confidence", () => {
    expect(answerFeatures({ confidences: [null, null] }, 16)).toBeNull();
  });
});

describe("judgeScore", () => {
  const features = answerFeatures({ confidences: [0.99, 0.6], margins: [0.98, 0.3] }, 16)!;

  it("is the feature itself for a one-feature judge", () => {
    expect(judgeScore({ feature: "min" }, features)).toBe(0.6);
    expect(judgeScore({ feature: "certainty" }, features)).toBeNull();
  });

  it("is sigmoid(bias + Σ weight × logit(feature)) for a logistic rule", () => {
    const judge = { logistic: { bias: -1, weights: { min: 0.5, marginMin: 2 } } };
    const z = -1 + 0.5 * Math.log(0.6 / 0.4) + 2 * Math.log(0.3 / 0.7);
    expect(judgeScore(judge, features)).toBeCloseTo(1 / (1 + Math.exp(-z)), 12);
    expect(judgeScore({ logistic: { bias: 0, weights: { certainty: 1 } } }, features)).toBeNull();
  });

  it("keeps probabilities of 0 and 1 finite under the logit", () => {
    expect(Number.isFinite(logit(0))).toBe(true);
    expect(Number.isFinite(logit(1))).toBe(true);
    expect(logit(1)).toBeGreaterThan(13);
  });

  it("says which judges need margins or entropies from the node", () => {
    expect(needsTokenSignals({ feature: "q10" })).toBe(false);
    expect(needsTokenSignals({ feature: "marginMin" })).toBe(true);
    expect(needsTokenSignals({ logistic: { bias: 0, weights: { mean: 1, certainty: 1 } } })).toBe(true);
    expect(judgeLabel({ feature: "q10" })).toBe("q10 confidence");
    expect(judgeLabel({ logistic: { bias: 0, weights: { mean: 1 } } })).toBe("logistic score");
  });
});

describe("judgeConfidence with a judge", () => {
  const settings = { minMeanConfidence: 0.7, minTokenConfidence: 0, windowTokens: 16 };

  it("climbs on the judge's score against the bar, naming the judge", () => {
    const verdict = judgeConfidence({ confidences: [0.99, 0.99, 0.5] }, { ...settings, judge: { feature: "min" } });
    expect(verdict).toMatchObject({ weak: true, reason: "lowest confidence 0.50 < 0.7", score: { value: 0.5, bar: 0.7 } });
    // The same answer by its mean (0.83) passes.
    expect(judgeConfidence({ confidences: [0.99, 0.99, 0.5] }, settings).weak).toBe(false);
  });

  it("judges an answer without the signals its judge reads by its mean confidence", () => {
    const verdict = judgeConfidence([0.6, 0.6], { ...settings, judge: { feature: "marginMin" } });
    expect(verdict).toMatchObject({ weak: true, reason: "mean confidence 0.60 < 0.7", score: { judge: "mean confidence" } });
  });
});

describe("the policy's judge", () => {
  const escalationOf = (input: unknown) => {
    const parsed = parsePolicy(input);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.policy.escalation;
  };

  it("defaults to the shipped logistic rule at its own bar, and takes a feature or another rule", () => {
    expect(escalationOf({})).toMatchObject({ judge: SHIPPED_JUDGE, minMeanConfidence: SHIPPED_BAR });
    expect(escalationOf({ escalation: { minMeanConfidence: 0.5 } })).toMatchObject({ judge: SHIPPED_JUDGE, minMeanConfidence: 0.5 });
    const logistic = { logistic: { bias: 1.5, weights: { q10: 0.4, marginMin: 0.2 } } };
    expect(escalationOf({ escalation: { judge: logistic, minMeanConfidence: 0.6 } })).toMatchObject({
      judge: logistic,
      minMeanConfidence: 0.6,
    });
  });

  it("holds a judge named without a bar to its own default bar: the shipped rule's, written in any order, else the mean's", () => {
    expect(escalationOf({ escalation: { judge: { feature: "mean" } } })).toMatchObject({ minMeanConfidence: MEAN_BAR });
    expect(escalationOf({ escalation: { judge: { feature: "q10" } } })).toMatchObject({ minMeanConfidence: MEAN_BAR });
    const { bias, weights } = (SHIPPED_JUDGE as { logistic: { bias: number; weights: Record<string, number> } }).logistic;
    const reordered = { logistic: { weights: Object.fromEntries(Object.entries(weights).reverse()), bias } };
    expect(escalationOf({ escalation: { judge: reordered } })).toMatchObject({ minMeanConfidence: SHIPPED_BAR });
    const nudged = { logistic: { bias: bias + 0.1, weights } };
    expect(escalationOf({ escalation: { judge: nudged } })).toMatchObject({ minMeanConfidence: MEAN_BAR });
  });

  it("parses a parsed policy to itself", () => {
    for (const input of [{}, { escalation: { minMeanConfidence: 0.9 } }, { escalation: { judge: { feature: "min" } } }]) {
      const once = escalationOf(input);
      expect(escalationOf({ escalation: once })).toEqual(once);
    }
  });

  it("refuses an unknown feature and a rule with no weights, naming the field", () => {
    const unknown = parsePolicy({ escalation: { judge: { feature: "median" } } });
    expect(unknown.ok).toBe(false);
    expect(!unknown.ok && unknown.message).toMatch(/escalation\.judge/);
    const empty = parsePolicy({ escalation: { judge: { logistic: { bias: 0, weights: {} } } } });
    expect(!empty.ok && empty.message).toMatch(/escalation\.judge/);
  });
});
