import { afterEach, describe, expect, it, vi } from "vitest";
import { EchoEngine } from "../../node/echo-engine.ts";
import { EngineError } from "../../node/engine-error.ts";
import type { GeneratedPiece, GenerationRequest } from "../../node/inference-engine.ts";
import type { Job, ModelInfo } from "../../protocol/messages.ts";

const tiny: ModelInfo = { id: "tiny", parameters: 1_000, quantization: "F16", contextLength: 512, tokensPerSecond: 100, slots: 1 };
const sampling: Job["sampling"] = { temperature: 0, topP: 1, stop: [] };

function chat(...contents: string[]): GenerationRequest {
  return { model: tiny.id, input: { kind: "chat", messages: contents.map((content) => ({ role: "user", content })) }, sampling };
}

async function generate(engine: EchoEngine, request: GenerationRequest, signal = new AbortController().signal) {
  const pieces: GeneratedPiece[] = [];
  const result = await engine.generate(request, { signal, onPiece: (piece) => pieces.push(piece) });
  return { pieces, result };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("EchoEngine", () => {
  it("echoes the last chat message one word a piece, keeping the spaces", async () => {
    const { pieces, result } = await generate(new EchoEngine({ models: [tiny] }), chat("ignored", "Hello  brave\nworld"));
    expect(pieces.map((p) => p.text)).toEqual(["Hello ", " ", "brave\n", "world"]);
    expect(pieces.map((p) => p.text).join("")).toBe("Hello  brave\nworld");
    expect(result).toEqual({ finishReason: "stop", usage: { promptTokens: 4, completionTokens: 4 } });
  });

  it("echoes a completion prompt", async () => {
    const request: GenerationRequest = { model: tiny.id, input: { kind: "completion", prompt: "Once upon" }, sampling };
    const { pieces } = await generate(new EchoEngine({ models: [tiny] }), request);
    expect(pieces.map((p) => p.text).join("")).toBe("Once upon");
  });

  it("stops at maxTokens and reports length", async () => {
    const request = { ...chat("one two three four"), sampling: { ...sampling, maxTokens: 3 } };
    const { pieces, result } = await generate(new EchoEngine({ models: [tiny] }), request);
    expect(pieces.map((p) => p.text)).toEqual(["one ", "two ", "three "]);
    expect(result).toEqual({ finishReason: "length", usage: { promptTokens: 4, completionTokens: 3 } });
  });

  it("with fill, repeats the words until exactly maxTokens pieces and reports length", async () => {
    const engine = new EchoEngine({ models: [tiny], fill: true });
    const request = { ...chat("one two three"), sampling: { ...sampling, maxTokens: 7 } };
    const { pieces, result } = await generate(engine, request);
    expect(pieces.map((p) => p.text)).toEqual(["one ", "two ", "three", "one ", "two ", "three", "one "]);
    expect(result).toEqual({ finishReason: "length", usage: { promptTokens: 3, completionTokens: 7 } });
    const fewer = await generate(engine, { ...request, sampling: { ...sampling, maxTokens: 2 } });
    expect(fewer.pieces.map((p) => p.text)).toEqual(["one ", "two "]);
    expect(fewer.result.finishReason).toBe("length");
  });

  it("with fill but no maxTokens, answers the words once; an empty message answers nothing", async () => {
    const engine = new EchoEngine({ models: [tiny], fill: true });
    const once = await generate(engine, chat("one two"));
    expect(once.pieces.map((p) => p.text)).toEqual(["one ", "two"]);
    expect(once.result).toEqual({ finishReason: "stop", usage: { promptTokens: 2, completionTokens: 2 } });
    const empty = await generate(engine, { ...chat(""), sampling: { ...sampling, maxTokens: 5 } });
    expect(empty.pieces).toEqual([]);
    expect(empty.result.finishReason).toBe("stop");
  });

  it("reports the configured confidence, 0.9 by default", async () => {
    expect((await generate(new EchoEngine({ models: [tiny] }), chat("a"))).pieces[0]?.confidence).toBe(0.9);
    expect((await generate(new EchoEngine({ models: [tiny], confidence: 0.3 }), chat("a"))).pieces[0]?.confidence).toBe(0.3);
  });

  it("defaults to one slot", () => {
    expect(new EchoEngine({ models: [tiny] }).slots).toBe(1);
    expect(new EchoEngine({ models: [tiny], slots: 4 }).slots).toBe(4);
  });

  it("stops with a non-retryable cancelled EngineError when aborted between pieces", async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const pieces: GeneratedPiece[] = [];
    const running = new EchoEngine({ models: [tiny], pieceDelayMs: 10 }).generate(chat("a b c d"), {
      signal: controller.signal,
      onPiece: (piece) => pieces.push(piece),
    });
    const settled = running.then(
      () => undefined,
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(15);
    controller.abort();
    const error = await settled;
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: "cancelled", retryable: false });
    expect(pieces).toHaveLength(1);
  });

  it("removes each abort listener it adds once the piece has been sent", async () => {
    const signal = new AbortController().signal;
    const added = vi.spyOn(signal, "addEventListener");
    const removed = vi.spyOn(signal, "removeEventListener");
    await generate(new EchoEngine({ models: [tiny], pieceDelayMs: 1 }), chat("a b c"), signal);
    expect(added.mock.calls.length).toBeGreaterThan(0);
    expect(removed.mock.calls.length).toBe(added.mock.calls.length);
  });
});
