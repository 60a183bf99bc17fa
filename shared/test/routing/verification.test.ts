import { describe, expect, it } from "vitest";
import {
  afterCheck,
  answersAgree,
  canaryFor,
  isGreedy,
  NEW_STANDING,
  probationAllows,
  shouldCheck,
  verificationSchema,
} from "../../routing/index.ts";

const settings = verificationSchema.parse({});
const never = () => 0.999;
const always = () => 0;

describe("verification decisions", () => {
  it("checks a public node's first three greedy answers, counting those under way, then one in twenty", () => {
    expect(settings).toMatchObject({ firstJobs: 3, sampleRate: 0.05, forgive: 0, probationSlots: 1, canaries: [] });
    expect(shouldCheck(NEW_STANDING, settings, never)).toBe(true);
    expect(shouldCheck({ ...NEW_STANDING, agreed: 2 }, settings, never)).toBe(true);
    expect(shouldCheck({ ...NEW_STANDING, agreed: 2, pending: 1 }, settings, never)).toBe(false);
    expect(shouldCheck({ ...NEW_STANDING, agreed: 3 }, settings, () => 0.049)).toBe(true);
    expect(shouldCheck({ ...NEW_STANDING, agreed: 3 }, settings, () => 0.05)).toBe(false);
    expect(shouldCheck({ ...NEW_STANDING, quarantined: true }, settings, always)).toBe(false);
  });

  it("quarantines at the first differing answer, or past what the policy forgives", () => {
    const begun = { ...NEW_STANDING, pending: 1 };
    expect(afterCheck(begun, true, settings)).toEqual({ pending: 0, agreed: 1, differed: 0, quarantined: false });
    expect(afterCheck(begun, false, settings)).toEqual({ pending: 0, agreed: 0, differed: 1, quarantined: true });
    const forgiving = { forgive: 1 };
    const once = afterCheck(begun, false, forgiving);
    expect(once.quarantined).toBe(false);
    expect(afterCheck({ ...once, pending: 1 }, false, forgiving).quarantined).toBe(true);
    // A quarantine is never lifted by a later agreement.
    expect(afterCheck({ ...NEW_STANDING, quarantined: true, differed: 1, pending: 1 }, true, settings).quarantined).toBe(true);
  });

  it("compares text and function calls, not the calls' ids", () => {
    const call = { name: "f", arguments: '{"a":1}' };
    expect(answersAgree({ text: "x" }, { text: "x" })).toBe(true);
    expect(answersAgree({ text: "x" }, { text: "x " })).toBe(false);
    expect(answersAgree({ text: "", toolCalls: [{ ...call }] }, { text: "", toolCalls: [call] })).toBe(true);
    expect(answersAgree({ text: "", toolCalls: [call] }, { text: "", toolCalls: [{ ...call, arguments: '{"a":2}' }] })).toBe(false);
    expect(answersAgree({ text: "", toolCalls: [call] }, { text: "" })).toBe(false);
  });

  it("lets a node on probation run one job at a time, a verified one all its slots, a quarantined one none", () => {
    expect(probationAllows(undefined, 0, settings)).toBe(true);
    expect(probationAllows(undefined, 1, settings)).toBe(false);
    // Its answer is being checked: no new job until the check ends, so a liar's lies stop at one.
    expect(probationAllows({ ...NEW_STANDING, pending: 1 }, 0, settings)).toBe(false);
    expect(probationAllows({ ...NEW_STANDING, agreed: 1, pending: 1 }, 0, settings)).toBe(true);
    expect(probationAllows({ ...NEW_STANDING, agreed: 1 }, 7, settings)).toBe(true);
    expect(probationAllows({ ...NEW_STANDING, agreed: 1, quarantined: true }, 0, settings)).toBe(false);
  });

  it("picks a canary of the model, and knows greedy sampling", () => {
    const canaries = verificationSchema.parse({
      canaries: [
        { model: "a", prompt: "p1", answer: "1" },
        { model: "b", prompt: "p2", answer: "2" },
        { model: "a", prompt: "p3", answer: "3" },
      ],
    });
    expect(canaryFor("a", canaries, () => 0)?.prompt).toBe("p1");
    expect(canaryFor("a", canaries, () => 0.99)?.prompt).toBe("p3");
    expect(canaryFor("c", canaries, always)).toBeUndefined();
    expect(canaries.canaries[0]!.maxTokens).toBe(32);
    expect(isGreedy({ temperature: 0 })).toBe(true);
    expect(isGreedy({ temperature: 0.1 })).toBe(false);
  });
});
