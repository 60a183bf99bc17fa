import { describe, expect, it, vi } from "vitest";
import { MAX_TOKENS_PER_FRAME } from "../../node/chunk-batcher.ts";
import { EchoEngine } from "../../node/echo-engine.ts";
import { EngineError } from "../../node/engine-error.ts";
import type { InferenceEngine } from "../../node/inference-engine.ts";
import type { Chunk, NodeMessage } from "../../protocol/messages.ts";
import { job, PIECE_MS, sessionWith, settle, tiny, useFakeTimersPerTest } from "./session-fixtures.ts";

// Since 1.4 a node puts the tokens an engine produced in one turn into one chunk frame, only for an edge that said 1.4.

useFakeTimersPerTest();

const chunksOf = (frames: NodeMessage[]) => frames.filter((f): f is Chunk => f.type === "chunk");

/** A session over an engine whose pieces all come at once (no delay), welcomed by an edge of this version. */
function welcomedSession(edgeProtocol: string | undefined, engine: InferenceEngine = new EchoEngine({ models: [tiny], confidence: 0.75 })) {
  const started = sessionWith(engine);
  if (edgeProtocol) started.session.handle({ type: "welcome", nodeId: "n1", protocol: edgeProtocol });
  return started;
}

describe("NodeSession: several tokens a chunk frame (1.4)", () => {
  it("puts the pieces an engine produced in one turn into one frame, each with its confidence", async () => {
    const { session, frames } = welcomedSession("1.4");
    session.handle(job("j1", "alpha beta gamma"));
    await settle();
    expect(frames).toEqual([
      { type: "chunk", jobId: "j1", seq: 0, text: "alpha beta gamma", confidence: 0.75, confidences: [0.75, 0.75, 0.75] },
      { type: "done", jobId: "j1", chunks: 1, finishReason: "stop", usage: { promptTokens: 3, completionTokens: 3 } },
    ]);
  });

  it(`sends at most ${MAX_TOKENS_PER_FRAME} tokens a frame, numbering frames and counting them in done`, async () => {
    const engine = new EchoEngine({ models: [tiny], fill: true });
    const { session, frames } = welcomedSession("1.4", engine);
    session.handle(job("j1", "a b c", { sampling: { temperature: 0, topP: 1, stop: [], maxTokens: 150 } }));
    await settle();
    const chunks = chunksOf(frames);
    expect(chunks.map((c) => [c.seq, c.confidences?.length])).toEqual([
      [0, 64],
      [1, 64],
      [2, 22],
    ]);
    expect(chunks.map((c) => c.text).join("")).toBe("a b c".repeat(50));
    expect(frames.at(-1)).toMatchObject({ type: "done", chunks: 3, usage: { completionTokens: 150 } });
  });

  it("still sends a token a frame, each as soon as it comes, from an engine that decodes one per async step", async () => {
    const { session, frames } = welcomedSession("1.4", new EchoEngine({ models: [tiny], pieceDelayMs: PIECE_MS, confidence: 0.75 }));
    session.handle(job("j1", "alpha beta gamma"));
    await vi.advanceTimersByTimeAsync(PIECE_MS);
    expect(chunksOf(frames)).toEqual([{ type: "chunk", jobId: "j1", seq: 0, text: "alpha ", confidence: 0.75 }]);
    await vi.advanceTimersByTimeAsync(5 * PIECE_MS);
    expect(chunksOf(frames).map((c) => c.text)).toEqual(["alpha ", "beta ", "gamma"]);
    expect(frames.at(-1)).toMatchObject({ type: "done", chunks: 3 });
  });

  it.each([
    ["an edge older than 1.4", "1.3"],
    ["an edge that has not welcomed the node", undefined],
  ])("sends %s one token a frame, without confidences", async (_name, edgeProtocol) => {
    const { session, frames } = welcomedSession(edgeProtocol);
    session.handle(job("j1", "alpha beta gamma"));
    await settle();
    expect(chunksOf(frames)).toEqual([
      { type: "chunk", jobId: "j1", seq: 0, text: "alpha ", confidence: 0.75 },
      { type: "chunk", jobId: "j1", seq: 1, text: "beta ", confidence: 0.75 },
      { type: "chunk", jobId: "j1", seq: 2, text: "gamma", confidence: 0.75 },
    ]);
  });

  it("stops batching when it rejoins an older edge", async () => {
    const { session, frames } = welcomedSession("1.4");
    session.handle({ type: "welcome", nodeId: "n2", protocol: "1.3" });
    session.handle(job("j1", "alpha beta"));
    await settle();
    expect(chunksOf(frames)).toHaveLength(2);
  });

  it("sends the tokens in hand before a job-error", async () => {
    const failing: InferenceEngine = {
      name: "echo",
      models: [tiny],
      slots: 1,
      async generate(_request, { onPiece }) {
        onPiece({ text: "half ", confidence: 0.5 });
        onPiece({ text: "an answer", confidence: null });
        throw new EngineError("engine_failed", "the model crashed", true);
      },
      dispose: async () => {},
    };
    const { session, frames } = welcomedSession("1.4", failing);
    session.handle(job("j1", "anything"));
    await settle();
    expect(frames).toEqual([
      { type: "chunk", jobId: "j1", seq: 0, text: "half an answer", confidence: 0.5, confidences: [0.5, null] },
      { type: "job-error", jobId: "j1", error: { code: "engine_failed", message: "the model crashed", retryable: true } },
    ]);
  });
});
