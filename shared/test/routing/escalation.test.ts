import { describe, expect, it } from "vitest";
import {
  commitPoint,
  type EscalationPolicy,
  type EscalationSettings,
  effectiveEscalation,
  escalationFor,
  judgeConfidence,
} from "../../routing/escalation.ts";

const settings: EscalationSettings = {
  enabled: true,
  minMeanConfidence: 0.5,
  minTokenConfidence: 0,
  windowTokens: 4,
  commitMs: 500,
  maxClimbs: 2,
  climbOnInvalidJson: true,
};

const policy: EscalationPolicy = {
  escalation: settings,
  profiles: { quality: { minMeanConfidence: 0.8 }, balanced: {} },
};

describe("effectiveEscalation", () => {
  it("uses the policy's threshold when neither the profile nor the request sets one", () => {
    expect(effectiveEscalation(policy, "balanced")).toEqual(settings);
    expect(effectiveEscalation(policy, undefined)).toEqual(settings);
    expect(effectiveEscalation(policy, "no-such-profile")).toEqual(settings);
  });

  it("lets the profile's threshold beat the policy's, and the request's beat both", () => {
    expect(effectiveEscalation(policy, "quality").minMeanConfidence).toBe(0.8);
    expect(effectiveEscalation(policy, "quality", { minConfidence: 0.3 }).minMeanConfidence).toBe(0.3);
    expect(effectiveEscalation(policy, "balanced", { minConfidence: 0 }).minMeanConfidence).toBe(0);
  });

  it("lets a request turn climbing off but not on", () => {
    expect(effectiveEscalation(policy, "quality", { escalate: false }).enabled).toBe(false);
    expect(effectiveEscalation(policy, "quality", { escalate: true }).enabled).toBe(true);
    const off = { ...policy, escalation: { ...settings, enabled: false } };
    expect(effectiveEscalation(off, "quality", { escalate: true }).enabled).toBe(false);
  });

  it("keeps the policy's other settings", () => {
    const e = effectiveEscalation(policy, "quality", { minConfidence: 0.1, escalate: false });
    expect(e).toEqual({ ...settings, enabled: false, minMeanConfidence: 0.1 });
  });
});

describe("a bar per model", () => {
  const withBars: EscalationPolicy = { ...policy, escalation: { ...settings, bars: { "small-1b": 0.9, "mid-8b": 0.5 } } };

  it("judges a model's answers against its own bar, and the rest against the policy's", () => {
    const e = effectiveEscalation(withBars, "balanced");
    expect(escalationFor(e, "small-1b").minMeanConfidence).toBe(0.9);
    expect(escalationFor(e, "other-70b").minMeanConfidence).toBe(0.5);
    expect(judgeConfidence([0.8, 0.8], escalationFor(e, "small-1b"))).toMatchObject({ weak: true, score: { bar: 0.9 } });
    expect(judgeConfidence([0.8, 0.8], escalationFor(e, "other-70b"))).toMatchObject({ weak: false, score: { bar: 0.5 } });
  });

  it("gives way to a bar the profile or the request chose, which holds for every model", () => {
    expect(escalationFor(effectiveEscalation(withBars, "quality"), "small-1b").minMeanConfidence).toBe(0.8);
    expect(escalationFor(effectiveEscalation(withBars, "balanced", { minConfidence: 0.2 }), "small-1b").minMeanConfidence).toBe(0.2);
  });

  it("hands back the same settings when the model has no bar of its own", () => {
    const e = effectiveEscalation(withBars, "balanced");
    expect(escalationFor(e, "other-70b")).toBe(e);
  });
});

describe("judgeConfidence", () => {
  it("calls a confident answer not weak", () => {
    expect(judgeConfidence([1, 0.75, 0.5], settings)).toEqual({
      weak: false,
      mean: 0.75,
      min: 0.5,
      score: { value: 0.75, bar: settings.minMeanConfidence, judge: "mean confidence" },
    });
  });

  it("calls an answer whose mean is below the threshold weak, saying why", () => {
    const verdict = judgeConfidence([0.2, 0.3, 0.13], settings);
    expect(verdict.weak).toBe(true);
    expect(verdict.mean).toBeCloseTo(0.21);
    expect(verdict.min).toBe(0.13);
    expect(verdict.reason).toBe("mean confidence 0.21 < 0.5");
  });

  it("calls an answer weak when one token is below the per-token threshold", () => {
    const verdict = judgeConfidence([0.9, 0.05, 0.9], { ...settings, minTokenConfidence: 0.1 });
    expect(verdict).toMatchObject({ weak: true, min: 0.05, reason: "token confidence 0.05 < 0.1" });
    expect(judgeConfidence([0.9, 0.05, 0.9], settings).weak).toBe(false);
  });

  it("judges only the first windowTokens known confidences, skipping nulls", () => {
    // The window holds 0.9, 0.9, 0.8, 0.8; the weak tail comes after it.
    const verdict = judgeConfidence([0.9, null, 0.9, null, 0.8, 0.8, 0, 0, 0], settings);
    expect(verdict.weak).toBe(false);
    expect(verdict.mean).toBeCloseTo(0.85);
    expect(verdict.min).toBe(0.8);
  });

  it("does not call an answer weak when nothing can be judged", () => {
    expect(judgeConfidence([], settings)).toEqual({ weak: false, mean: null, min: null });
    expect(judgeConfidence([null, null], settings)).toEqual({ weak: false, mean: null, min: null });
  });

  it("treats a mean exactly at the threshold as good enough", () => {
    expect(judgeConfidence([0.5, 0.5], settings).weak).toBe(false);
  });
});

describe("commitPoint", () => {
  it("waits until the window is full or commitMs has passed since the first token", () => {
    expect(commitPoint(3, 499, settings)).toBe(false);
    expect(commitPoint(4, 0, settings)).toBe(true);
    expect(commitPoint(1, 500, settings)).toBe(true);
  });
});
