import type { ChatCompletionChunk } from "@wllama/wllama/esm/index.js";
import { describe, expect, it } from "vitest";
import { wllamaPiece } from "../../src/engines/wllama-piece.ts";

/** A token as llama-server streams it with logprobs: its own log-probability and the likeliest tokens', most likely first. */
const token = (text: string, p: number, top: number[] = []) => ({
  token: text,
  logprob: Math.log(p),
  bytes: null,
  top_logprobs: top.map((q, i) => ({ token: `t${i}`, logprob: Math.log(q), bytes: null })),
});

/** One streamed chunk of wllama's chat completion (llama-server's `chat.completion.chunk`). */
function chunk(content: string | undefined, tokens: ReturnType<typeof token>[] | null): ChatCompletionChunk {
  return {
    id: "c",
    object: "chat.completion.chunk",
    created: 0,
    model: "m",
    choices: [{ index: 0, delta: { content }, finish_reason: null, logprobs: tokens && { content: tokens, refusal: null } }],
  } as unknown as ChatCompletionChunk;
}

describe("wllamaPiece", () => {
  it("gives a chunk's text, its least confident token and how many tokens it holds", () => {
    expect(wllamaPiece(chunk("é", [token("\\xc3", 0.9), token("\\xa9", 0.4)]))).toEqual({
      text: "é",
      confidence: expect.closeTo(0.4, 9),
      tokens: 2,
    });
    expect(wllamaPiece(chunk("hi", null))).toEqual({ text: "hi", confidence: null, tokens: 1 });
    expect(wllamaPiece(chunk("", []))).toBeUndefined();
  });

  it("with token signals, adds the smallest margin from each token's top two, and says it cannot tell the entropy", () => {
    const piece = wllamaPiece(chunk("é", [token("\\xc3", 0.9, [0.9, 0.05]), token("\\xa9", 0.4, [0.4, 0.3])]), true);
    expect(piece).toEqual({ text: "é", confidence: expect.closeTo(0.4, 9), margin: expect.closeTo(0.1, 9), entropy: null, tokens: 2 });
  });

  it("gives a sampled token that was not the likeliest a margin of 0", () => {
    expect(wllamaPiece(chunk("x", [token("x", 0.2, [0.7, 0.2])]), true)?.margin).toBe(0);
  });

  it("says null for the margin where the server sent fewer than two alternatives", () => {
    expect(wllamaPiece(chunk("x", [token("x", 0.6, [0.6])]), true)).toMatchObject({ margin: null, entropy: null });
    expect(wllamaPiece(chunk("x", null), true)).toMatchObject({ confidence: null, margin: null, entropy: null });
  });
});
