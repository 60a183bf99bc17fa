import { describe, expect, it } from "vitest";
import { higherKnown, lowerKnown, marginOfTopLogprobs, tokenEntropy, tokenMargin } from "../../node/token-signals.ts";
import { MAX_TOKEN_ENTROPY } from "../../protocol/messages.ts";

describe("tokenMargin", () => {
  it("is the chosen probability minus the runner-up's, never below 0", () => {
    expect(tokenMargin(0.7, 0.2)).toBeCloseTo(0.5, 12);
    expect(tokenMargin(1, 0)).toBe(1);
    expect(tokenMargin(0.3, 0.3)).toBe(0);
    // A sampled token the model did not prefer.
    expect(tokenMargin(0.1, 0.6)).toBe(0);
  });
});

describe("tokenEntropy", () => {
  it("is −Σ p ln p in nats, 0 for a certain token, ln n for n equally likely ones", () => {
    expect(tokenEntropy([1, 0, 0])).toBe(0);
    expect(tokenEntropy(new Array(4).fill(0.25))).toBeCloseTo(Math.log(4), 12);
    expect(tokenEntropy([0.5, 0.25, 0.25])).toBeCloseTo(1.5 * Math.log(2), 12);
    expect(
      tokenEntropy(
        new Map([
          [7, 0.5],
          [9, 0.5],
        ]).values(),
      ),
    ).toBeCloseTo(Math.log(2), 12);
  });

  it("stays inside the protocol's range when rounding would leave it", () => {
    expect(tokenEntropy([1.0000001])).toBe(0);
    expect(tokenEntropy([])).toBe(0);
    // Only numbers that are not a distribution get there (a sum far above 1), but a frame must stay valid anyway.
    expect(tokenEntropy(new Array(1000).fill(0.1))).toBe(MAX_TOKEN_ENTROPY);
  });
});

describe("marginOfTopLogprobs", () => {
  const top = (...ps: number[]) => ps.map((p) => ({ logprob: Math.log(p) }));

  it("takes the second entry as runner-up when the chosen token is the most likely", () => {
    expect(marginOfTopLogprobs(Math.log(0.6), top(0.6, 0.3))).toBeCloseTo(0.3, 12);
  });

  it("is 0 when another token was more likely (a sampled token)", () => {
    expect(marginOfTopLogprobs(Math.log(0.2), top(0.6, 0.2))).toBe(0);
    expect(marginOfTopLogprobs(Math.log(0.05), top(0.6, 0.2))).toBe(0);
  });

  it("reads entries in any order, and a chosen log-probability rounded a hair below its own entry's", () => {
    expect(marginOfTopLogprobs(Math.log(0.6), top(0.3, 0.6))).toBeCloseTo(0.3, 12);
    expect(marginOfTopLogprobs(Math.log(0.6) - 1e-9, top(0.6, 0.3))).toBeCloseTo(0.3, 8);
  });

  it("is 0 on a tie and null without two entries", () => {
    expect(marginOfTopLogprobs(Math.log(0.4), top(0.4, 0.4))).toBe(0);
    expect(marginOfTopLogprobs(Math.log(0.9), top(0.9))).toBeNull();
    expect(marginOfTopLogprobs(Math.log(0.9), [])).toBeNull();
    expect(marginOfTopLogprobs(Math.log(0.9), undefined)).toBeNull();
  });
});

describe("lowerKnown and higherKnown", () => {
  it("combine the known values of a piece's tokens, null when none is known", () => {
    expect(lowerKnown(0.4, 0.2)).toBe(0.2);
    expect(lowerKnown(null, 0.2)).toBe(0.2);
    expect(lowerKnown(0.4, undefined)).toBe(0.4);
    expect(lowerKnown(null, null)).toBeNull();
    expect(higherKnown(0.4, 2)).toBe(2);
    expect(higherKnown(undefined, 2)).toBe(2);
    expect(higherKnown(null, undefined)).toBeNull();
  });
});
