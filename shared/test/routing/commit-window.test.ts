import { describe, expect, it } from "vitest";
import { type ChunkToken, chunkConfidences, chunkFrame } from "../../protocol/chunk-tokens.ts";
import type { ResponseFormat } from "../../protocol/messages.ts";
import {
  answerVerdict,
  type ClimbState,
  commitWindowVerdict,
  mayClimb,
  needsWholeAnswer,
  opensCommitWindow,
  type WindowFacts,
  windowVerdict,
} from "../../routing/commit-window.ts";
import type { EscalationSettings } from "../../routing/escalation.ts";

const escalation: EscalationSettings = {
  enabled: true,
  minMeanConfidence: 0.5,
  minTokenConfidence: 0,
  windowTokens: 4,
  commitMs: 500,
  maxClimbs: 2,
  climbOnInvalidJson: true,
};

const stream: WindowFacts = { stream: true, escalation, mayClimb: true };
const whole: WindowFacts = { ...stream, stream: false };
const jsonObject: ResponseFormat = { type: "json_object" };

/** A fake clock: the window measures time since the first token, and these tests move it by hand. */
function clock() {
  let now = 1_000;
  const firstTokenAt = now;
  return {
    advance: (ms: number) => {
      now += ms;
    },
    sinceFirstToken: () => now - firstTokenAt,
  };
}

describe("mayClimb", () => {
  const state: ClimbState = { escalation, climbs: 0, startIndex: 1, rungCount: 3 };

  it("lets an attempt from the start rung up to the one below the top climb", () => {
    expect(mayClimb(1, state)).toBe(true);
    expect(mayClimb(2, state)).toBe(false);
  });

  it("never climbs back from a fallback below the start", () => {
    expect(mayClimb(0, state)).toBe(false);
  });

  it("stops after maxClimbs, when escalation is off, or without an attempt", () => {
    expect(mayClimb(1, { ...state, climbs: 2 })).toBe(false);
    expect(mayClimb(1, { ...state, escalation: { ...escalation, enabled: false } })).toBe(false);
    expect(mayClimb(undefined, state)).toBe(false);
  });
});

describe("needsWholeAnswer and opensCommitWindow", () => {
  it("holds a JSON answer that may climb to its end, so no window opens", () => {
    const json = { ...stream, responseFormat: jsonObject };
    expect(needsWholeAnswer(json)).toBe(true);
    expect(opensCommitWindow(json)).toBe(false);
  });

  it("judges a JSON stream on its window when invalid JSON is no reason to climb, or it cannot climb", () => {
    const lenient = { ...stream, responseFormat: jsonObject, escalation: { ...escalation, climbOnInvalidJson: false } };
    expect(needsWholeAnswer(lenient)).toBe(false);
    expect(opensCommitWindow(lenient)).toBe(true);
    expect(needsWholeAnswer({ ...stream, responseFormat: jsonObject, mayClimb: false })).toBe(false);
  });

  it("opens a window only on a stream that may climb", () => {
    expect(opensCommitWindow(stream)).toBe(true);
    expect(opensCommitWindow(whole)).toBe(false);
    expect(opensCommitWindow({ ...stream, mayClimb: false })).toBe(false);
  });
});

describe("commitWindowVerdict", () => {
  it("holds a stream until its window is full, then commits sure tokens with what it judged", () => {
    const time = clock();
    expect(commitWindowVerdict([0.9, 0.9, 0.9], time.sinceFirstToken(), stream)).toEqual({ kind: "hold" });
    expect(commitWindowVerdict([0.9, 0.9, 0.9, 0.8], time.sinceFirstToken(), stream)).toMatchObject({
      kind: "commit",
      judged: { weak: false, min: 0.8 },
    });
  });

  it("climbs on a weak window, saying why", () => {
    expect(commitWindowVerdict([0.1, 0.2, 0.1, 0.2], 0, stream)).toMatchObject({
      kind: "climb",
      reason: "mean confidence 0.15 < 0.5",
      judged: { weak: true, min: 0.1 },
    });
  });

  it("judges a short window once commitMs passed since the first token", () => {
    const time = clock();
    time.advance(499);
    expect(commitWindowVerdict([0.1], time.sinceFirstToken(), stream)).toEqual({ kind: "hold" });
    time.advance(1);
    expect(commitWindowVerdict([0.1], time.sinceFirstToken(), stream)).toMatchObject({ kind: "climb" });
  });

  it("judges a batched frame that overshoots the window on the window's tokens, as one token a frame would be", () => {
    const facts = { ...stream, escalation: { ...escalation, windowTokens: 16 } };
    // Tokens 0..9 came one a frame; one frame brings tokens 10..20, the last five of them weak (past the window).
    const tokens = [...new Array<number>(16).fill(0.75), ...new Array<number>(5).fill(0.05)];
    const held: (number | null)[] = [];
    for (const c of tokens.slice(0, 10)) held.push(...chunkConfidences(chunkFrame("j", held.length, [{ text: "t", confidence: c }])));
    expect(commitWindowVerdict(held, 0, facts)).toEqual({ kind: "hold" });
    const batch = chunkFrame("j", 10, tokens.slice(10).map((confidence) => ({ text: "t", confidence })) as [ChunkToken, ...ChunkToken[]]);
    expect(batch.confidence).toBe(0.05);
    held.push(...chunkConfidences(batch));
    const verdict = commitWindowVerdict(held, 0, facts);
    expect(verdict).toEqual(commitWindowVerdict(tokens.slice(0, 16), 0, facts));
    expect(verdict).toMatchObject({ kind: "commit", judged: { weak: false, mean: 0.75, min: 0.75 } });
    // A weak token inside the window climbs however it was framed.
    held[15] = 0.05;
    expect(commitWindowVerdict(held, 0, { ...facts, escalation: { ...facts.escalation, minTokenConfidence: 0.1 } })).toMatchObject({
      kind: "climb",
      reason: "token confidence 0.05 < 0.1",
    });
  });

  it("commits at once, unjudged, when the answer cannot climb", () => {
    expect(commitWindowVerdict([0.1], 0, { ...stream, mayClimb: false })).toEqual({ kind: "commit" });
  });

  it("holds whole answers and JSON answers that may climb whatever the clock says", () => {
    expect(commitWindowVerdict([0.1, 0.1, 0.1, 0.1], 10_000, whole)).toEqual({ kind: "hold" });
    expect(commitWindowVerdict([0.1, 0.1, 0.1, 0.1], 10_000, { ...stream, responseFormat: jsonObject })).toEqual({ kind: "hold" });
  });
});

describe("windowVerdict", () => {
  it("says 'low confidence' when the judge gives no reason, and never calls an unjudgeable window weak", () => {
    expect(windowVerdict([null, null], escalation)).toEqual({ kind: "commit", judged: { weak: false, mean: null, min: null } });
    expect(windowVerdict([0.3], { ...escalation, minTokenConfidence: 0.4, minMeanConfidence: 0 })).toMatchObject({
      kind: "climb",
      reason: "token confidence 0.30 < 0.4",
    });
  });
});

describe("answerVerdict", () => {
  const weakTail = [0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];

  it("judges a whole answer on all its tokens", () => {
    expect(answerVerdict({ text: "x", confidences: weakTail, toolCalls: false }, whole)).toMatchObject({ kind: "climb" });
  });

  it("judges a stream that reached done on its window only", () => {
    expect(answerVerdict({ text: "x", confidences: weakTail, toolCalls: false }, stream)).toMatchObject({ kind: "commit" });
  });

  it("climbs on an answer that is not the JSON asked for, naming why", () => {
    const verdict = answerVerdict({ text: "[1]", confidences: [0.99], toolCalls: false }, { ...stream, responseFormat: jsonObject });
    expect(verdict).toMatchObject({ kind: "climb", reason: "expected a JSON object, got an array", judged: { weak: false } });
  });

  it("commits valid JSON, and does not check tool calls as JSON", () => {
    const json = { ...whole, responseFormat: jsonObject };
    expect(answerVerdict({ text: '{"a":1}', confidences: [0.99], toolCalls: false }, json)).toMatchObject({ kind: "commit" });
    expect(answerVerdict({ text: "", confidences: [], toolCalls: true }, json)).toMatchObject({ kind: "commit" });
  });

  it("commits a weak or invalid answer that has no rung to climb to, with what it judged", () => {
    const stuck = { ...whole, responseFormat: jsonObject, mayClimb: false };
    expect(answerVerdict({ text: "nope", confidences: [0.1], toolCalls: false }, stuck)).toEqual({
      kind: "commit",
      judged: {
        weak: true,
        mean: 0.1,
        min: 0.1,
        score: { value: 0.1, bar: 0.5, judge: "mean confidence" },
        reason: "mean confidence 0.10 < 0.5",
      },
    });
  });
});
