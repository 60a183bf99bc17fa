import type { ResponseFormat } from "@rung/shared/protocol";
import { answerVerdict, checkJsonAnswer, DEFAULT_POLICY, judgeConfidence, windowVerdict } from "@rung/shared/routing";
import { describe, expect, it } from "vitest";
import { type AttemptEnd, attemptOutcomes, escalationReason } from "../../src/metrics/index.ts";

/** The reason words of a failed check, from the real function that writes them. */
function jsonReason(text: string, format: ResponseFormat): string {
  const check = checkJsonAnswer(text, format);
  if (check.ok) throw new Error("expected the check to fail");
  return check.reason;
}

describe("escalationReason", () => {
  const thresholds = { minMeanConfidence: 0.5, minTokenConfidence: 0.2, windowTokens: 8 };
  const schema = (body: Record<string, unknown>): ResponseFormat => ({ type: "json_schema", name: "person", schema: body });

  it("reads the reasons @rung/shared/routing writes", () => {
    expect(escalationReason(judgeConfidence([0.1, 0.2], thresholds).reason)).toBe("low_confidence");
    expect(escalationReason(judgeConfidence([0.9, 0.9, 0.1], thresholds).reason)).toBe("low_confidence");
    expect(escalationReason(jsonReason("{not json", { type: "json_object" }))).toBe("invalid_json");
    expect(escalationReason(jsonReason("[1]", { type: "json_object" }))).toBe("invalid_json");
    // A schema failure names the property, which may be called "confidence": still a schema mismatch.
    expect(escalationReason(jsonReason("{}", schema({ type: "object", required: ["a"] })))).toBe("schema_mismatch");
    expect(escalationReason(jsonReason('{"confidence": 1}', schema({ properties: { confidence: { type: "string" } } })))).toBe(
      "schema_mismatch",
    );
  });

  it("reads the reasons of the commit window and of a whole answer", () => {
    const escalation = DEFAULT_POLICY.escalation;
    const climbed = (verdict: { kind: string; reason?: string }) => (verdict.kind === "climb" ? verdict.reason : "no climb");
    expect(escalationReason(climbed(windowVerdict([0.01, 0.01, 0.01], escalation)))).toBe("low_confidence");
    const facts = { stream: false, responseFormat: { type: "json_object" } as ResponseFormat, escalation, mayClimb: true };
    expect(escalationReason(climbed(answerVerdict({ text: "nope", confidences: [0.9], toolCalls: false }, facts)))).toBe("invalid_json");
    expect(escalationReason("low confidence")).toBe("low_confidence");
  });

  it("puts anything else, and a schema that cannot be applied, under other", () => {
    expect(escalationReason(undefined)).toBe("other");
    expect(escalationReason(jsonReason("{}", schema({ $ref: "#/$defs/missing" })))).toBe("other");
    expect(escalationReason("the moon is full")).toBe("other");
  });
});

describe("attemptOutcomes", () => {
  it("counts escalations, a kept weak answer among them", () => {
    const attempts: AttemptEnd[] = [
      { outcome: "escalated", reason: "mean confidence 0.21 < 0.5" },
      { outcome: "escalated", reason: "not JSON: Unexpected token" },
      { outcome: "engine_failure", reason: "crashed" },
      { outcome: "answered", reason: "kept after every larger rung failed (token confidence 0.10 < 0.2)" },
    ];
    expect(attemptOutcomes(attempts).escalations).toEqual(["low_confidence", "invalid_json", "low_confidence"]);
  });

  it("tells a won hedge from a lost one by the hedge flag", () => {
    const primaryWon = attemptOutcomes([
      { outcome: "hedge_lost", hedge: true },
      { outcome: "answered", hedge: false },
    ]);
    expect(primaryWon.hedges).toEqual({ won: 0, lost: 1, undecided: 0, unknown: 0 });
    const hedgeWon = attemptOutcomes([
      { outcome: "hedge_lost", hedge: false },
      { outcome: "answered", hedge: true },
    ]);
    expect(hedgeWon.hedges).toEqual({ won: 1, lost: 0, undecided: 0, unknown: 0 });
    // Only the hedge flagged: the attempt without a flag is the first one.
    expect(attemptOutcomes([{ outcome: "hedge_lost" }, { outcome: "answered", hedge: true }]).hedges.won).toBe(1);
  });

  it("counts a hedge no first token decided as undecided, and a race without flags as unknown", () => {
    const bothFailed = attemptOutcomes([
      { outcome: "node_disconnected", hedge: false },
      { outcome: "timeout", hedge: true },
    ]);
    expect(bothFailed.hedges).toEqual({ won: 0, lost: 0, undecided: 1, unknown: 0 });
    expect(attemptOutcomes([{ outcome: "hedge_lost" }, { outcome: "answered" }]).hedges).toEqual({
      won: 0,
      lost: 0,
      undecided: 0,
      unknown: 1,
    });
  });

  it("counts an error followed by another attempt as a retry, not the last one nor other endings", () => {
    expect(attemptOutcomes([{ outcome: "timeout" }, { outcome: "node_disconnected" }, { outcome: "answered" }]).retries).toBe(2);
    expect(attemptOutcomes([{ outcome: "escalated" }, { outcome: "hedge_lost" }, { outcome: "engine_failure" }]).retries).toBe(0);
    expect(attemptOutcomes([{ outcome: "client_closed" }, { outcome: "client_closed" }]).retries).toBe(0);
    expect(attemptOutcomes([]).retries).toBe(0);
  });
});
