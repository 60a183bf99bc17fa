import { describe, expect, it } from "vitest";
import { chunkConfidences, chunkFrame, chunkSignals } from "../../protocol/chunk-tokens.ts";
import { chunkSchema } from "../../protocol/messages.ts";

describe("chunkFrame", () => {
  it("frames one token as every protocol version does, without a confidences list", () => {
    expect(chunkFrame("j", 0, [{ text: "Hi", confidence: 0.4 }])).toEqual({
      type: "chunk",
      jobId: "j",
      seq: 0,
      text: "Hi",
      confidence: 0.4,
    });
  });

  it("frames several tokens with each one's confidence and the lowest known one as confidence", () => {
    const frame = chunkFrame("j", 2, [
      { text: "a ", confidence: 0.9 },
      { text: "b ", confidence: null },
      { text: "c", confidence: 0.3 },
    ]);
    expect(frame).toEqual({ type: "chunk", jobId: "j", seq: 2, text: "a b c", confidence: 0.3, confidences: [0.9, null, 0.3] });
    expect(chunkSchema.parse(frame)).toEqual(frame);
  });

  it("says null when no token of the frame has a confidence", () => {
    const frame = chunkFrame("j", 0, [
      { text: "a", confidence: null },
      { text: "b", confidence: null },
    ]);
    expect(frame.confidence).toBeNull();
  });
});

describe("chunkFrame with margins and entropies (1.7)", () => {
  it("writes one token's margin and entropy as one-entry lists beside its confidence", () => {
    const frame = chunkFrame("j", 0, [{ text: "Hi", confidence: 0.4, margin: 0.1, entropy: 2.5 }]);
    expect(frame).toEqual({ type: "chunk", jobId: "j", seq: 0, text: "Hi", confidence: 0.4, margins: [0.1], entropies: [2.5] });
    expect(chunkSchema.parse(frame)).toEqual(frame);
  });

  it("aligns each list with the tokens, null where a token has none", () => {
    const frame = chunkFrame("j", 1, [
      { text: "a", confidence: 0.9, margin: 0.8, entropy: 0.3 },
      { text: "b", confidence: null },
      { text: "c", confidence: 0.3, margin: 0, entropy: null },
    ]);
    expect(frame).toEqual({
      type: "chunk",
      jobId: "j",
      seq: 1,
      text: "abc",
      confidence: 0.3,
      confidences: [0.9, null, 0.3],
      margins: [0.8, null, 0],
      entropies: [0.3, null, null],
    });
    expect(chunkSchema.parse(frame)).toEqual(frame);
  });

  it("writes a list only when some token has a value for it", () => {
    const onlyMargins = chunkFrame("j", 0, [
      { text: "a", confidence: 0.9, margin: 0.5, entropy: null },
      { text: "b", confidence: 0.8, margin: null },
    ]);
    expect(onlyMargins.margins).toEqual([0.5, null]);
    expect(onlyMargins).not.toHaveProperty("entropies");
    const neither = chunkFrame("j", 0, [{ text: "a", confidence: 0.9, margin: null, entropy: null }]);
    expect(neither).toEqual({ type: "chunk", jobId: "j", seq: 0, text: "a", confidence: 0.9 });
  });
});

describe("chunkSignals", () => {
  it("gives each token its confidence, margin and entropy, in order", () => {
    const frame = chunkFrame("j", 0, [
      { text: "a", confidence: 0.9, margin: 0.8, entropy: 0.3 },
      { text: "b", confidence: null, entropy: 4 },
    ]);
    expect(chunkSignals(frame)).toEqual([
      { confidence: 0.9, margin: 0.8, entropy: 0.3 },
      { confidence: null, margin: null, entropy: 4 },
    ]);
  });

  it("reads a one-token frame, with or without lists", () => {
    expect(chunkSignals(chunkFrame("j", 0, [{ text: "a", confidence: 0.7, margin: 0.2, entropy: 1 }]))).toEqual([
      { confidence: 0.7, margin: 0.2, entropy: 1 },
    ]);
    expect(chunkSignals({ type: "chunk", jobId: "j", seq: 0, text: "a", confidence: 0.7 })).toEqual([
      { confidence: 0.7, margin: null, entropy: null },
    ]);
  });

  it("says null for margins and entropies of a frame from a node before 1.7", () => {
    expect(chunkSignals({ type: "chunk", jobId: "j", seq: 0, text: "ab", confidence: 0.1, confidences: [0.1, 0.8] })).toEqual([
      { confidence: 0.1, margin: null, entropy: null },
      { confidence: 0.8, margin: null, entropy: null },
    ]);
  });
});

describe("chunkConfidences", () => {
  it("reads one confidence from a frame without a list, and the list from one with it", () => {
    expect(chunkConfidences(chunkFrame("j", 0, [{ text: "a", confidence: null }]))).toEqual([null]);
    expect(chunkConfidences({ type: "chunk", jobId: "j", seq: 0, text: "ab", confidence: 0.1, confidences: [0.1, 0.8] })).toEqual([
      0.1, 0.8,
    ]);
  });
});
