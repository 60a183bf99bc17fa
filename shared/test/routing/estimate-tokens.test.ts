import { describe, expect, it } from "vitest";
import { estimateTokens } from "../../routing/estimate-tokens.ts";

/** Tokens the estimate adds for each message's chat-template framing. */
const FRAMING = 4;

describe("estimateTokens", () => {
  it("is zero for no texts", () => {
    expect(estimateTokens([])).toBe(0);
  });

  it("counts framing even for an empty message", () => {
    expect(estimateTokens([""])).toBe(FRAMING);
  });

  it("counts about four bytes a token, rounding a partial token up", () => {
    expect(estimateTokens(["abcd"])).toBe(1 + FRAMING);
    expect(estimateTokens(["abcde"])).toBe(2 + FRAMING);
    expect(estimateTokens(["a".repeat(400)])).toBe(100 + FRAMING);
  });

  it("counts UTF-8 bytes, not characters", () => {
    // Four characters, eight bytes: two tokens, where counting characters would give one.
    expect(estimateTokens(["éééé"])).toBe(2 + FRAMING);
    // Two characters, six bytes.
    expect(estimateTokens(["日本"])).toBe(2 + FRAMING);
    // One emoji: two UTF-16 code units, four bytes.
    expect(estimateTokens(["🙂"])).toBe(1 + FRAMING);
  });

  it("adds up each message separately, framing included", () => {
    expect(estimateTokens(["abcd", "abcde", ""])).toBe(1 + 2 + 0 + 3 * FRAMING);
  });

  it("rounds each message up on its own rather than the total", () => {
    // Two 1-byte messages: one token each, not one token for two bytes.
    expect(estimateTokens(["a", "b"])).toBe(2 + 2 * FRAMING);
  });
});
