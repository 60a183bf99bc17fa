import { describe, expect, it } from "vitest";
import { chunkConfidences, chunkFrame } from "../../protocol/chunk-tokens.ts";
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

describe("chunkConfidences", () => {
  it("reads one confidence from a frame without a list, and the list from one with it", () => {
    expect(chunkConfidences(chunkFrame("j", 0, [{ text: "a", confidence: null }]))).toEqual([null]);
    expect(chunkConfidences({ type: "chunk", jobId: "j", seq: 0, text: "ab", confidence: 0.1, confidences: [0.1, 0.8] })).toEqual([
      0.1, 0.8,
    ]);
  });
});
