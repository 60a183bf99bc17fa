import { describe, expect, it } from "vitest";
import { EchoEngine } from "../../node/echo-engine.ts";
import type { GeneratedPiece, GenerationRequest, InferenceEngine } from "../../node/inference-engine.ts";
import type { Chunk, NodeMessage } from "../../protocol/messages.ts";
import { job, sessionWith, settle, tiny, useFakeTimersPerTest } from "./session-fixtures.ts";

// Since 1.7 a job may ask for each token's margin and entropy; the node sends them only then, and only to an edge that said 1.7.

useFakeTimersPerTest();

const chunksOf = (frames: NodeMessage[]) => frames.filter((f): f is Chunk => f.type === "chunk");

/** An engine that reports these pieces, signals and all, whether asked or not, and keeps each request it got. */
class SignallingEngine implements InferenceEngine {
  readonly name = "echo";
  readonly models = [tiny];
  readonly slots = 2;
  readonly requests: GenerationRequest[] = [];

  constructor(private readonly pieces: GeneratedPiece[]) {}

  async generate(request: GenerationRequest, { onPiece }: { onPiece(piece: GeneratedPiece): void }) {
    this.requests.push(request);
    for (const piece of this.pieces) onPiece(piece);
    return { finishReason: "stop" as const, usage: { promptTokens: 1, completionTokens: this.pieces.length } };
  }

  async dispose() {}
}

const PIECES: GeneratedPiece[] = [
  { text: "a", confidence: 0.9, margin: 0.8, entropy: 0.4 },
  { text: "b", confidence: 0.5, margin: null, entropy: 2.1 },
  { text: "c", confidence: null },
];

/** A session over this engine (by default one reporting PIECES), welcomed by an edge of this version. */
function welcomed<E extends InferenceEngine = SignallingEngine>(edgeProtocol: string | undefined, engine?: E) {
  const used = engine ?? new SignallingEngine(PIECES);
  const started = sessionWith(used);
  if (edgeProtocol) started.session.handle({ type: "welcome", nodeId: "n1", protocol: edgeProtocol });
  return { ...started, engine: used as E };
}

describe("NodeSession: margins and entropies (1.7)", () => {
  it("asks the engine for them when the job does, and batches them token by token beside the confidences", async () => {
    const { session, frames, engine } = welcomed("1.7");
    session.handle(job("j1", "x", { tokenSignals: true }));
    await settle();
    expect(engine.requests[0]?.tokenSignals).toBe(true);
    expect(chunksOf(frames)).toEqual([
      {
        type: "chunk",
        jobId: "j1",
        seq: 0,
        text: "abc",
        confidence: 0.5,
        confidences: [0.9, 0.5, null],
        margins: [0.8, null, null],
        entropies: [0.4, 2.1, null],
      },
    ]);
  });

  it("neither asks nor sends them when the job does not ask, even from an engine that reports them", async () => {
    const { session, frames, engine } = welcomed("1.7");
    session.handle(job("j1", "x"));
    session.handle(job("j2", "x", { tokenSignals: false }));
    await settle();
    expect(engine.requests.map((r) => "tokenSignals" in r)).toEqual([false, false]);
    for (const chunk of chunksOf(frames)) {
      expect(chunk).not.toHaveProperty("margins");
      expect(chunk).not.toHaveProperty("entropies");
    }
  });

  it.each([
    ["a 1.6 edge", "1.6"],
    ["a 1.4 edge", "1.4"],
  ])("sends %s confidences only, and does not make the engine work for signals", async (_name, edgeProtocol) => {
    const { session, frames, engine } = welcomed(edgeProtocol);
    session.handle(job("j1", "x", { tokenSignals: true }));
    await settle();
    expect(engine.requests[0]).not.toHaveProperty("tokenSignals");
    expect(chunksOf(frames)).toEqual([{ type: "chunk", jobId: "j1", seq: 0, text: "abc", confidence: 0.5, confidences: [0.9, 0.5, null] }]);
  });

  it("stops sending them when it rejoins an older edge", async () => {
    const { session, frames } = welcomed("1.7");
    session.handle({ type: "welcome", nodeId: "n2", protocol: "1.6" });
    session.handle(job("j1", "x", { tokenSignals: true }));
    await settle();
    expect(chunksOf(frames)[0]).not.toHaveProperty("margins");
  });

  it("sends one token a frame, each with its own lists, where there is no welcome (a tunnel node) and the job asks", async () => {
    const { session, frames } = welcomed(undefined);
    session.handle(job("j1", "x", { tokenSignals: true }));
    await settle();
    expect(chunksOf(frames)).toEqual([
      { type: "chunk", jobId: "j1", seq: 0, text: "a", confidence: 0.9, margins: [0.8], entropies: [0.4] },
      { type: "chunk", jobId: "j1", seq: 1, text: "b", confidence: 0.5, entropies: [2.1] },
      { type: "chunk", jobId: "j1", seq: 2, text: "c", confidence: null },
    ]);
  });

  it("leaves an honest engine's frames as they were: the echo engine reports no signals, so none are sent", async () => {
    const { session, frames } = welcomed("1.7", new EchoEngine({ models: [tiny], confidence: 0.75 }));
    session.handle(job("j1", "alpha beta", { tokenSignals: true }));
    await settle();
    expect(chunksOf(frames)).toEqual([
      { type: "chunk", jobId: "j1", seq: 0, text: "alpha beta", confidence: 0.75, confidences: [0.75, 0.75] },
    ]);
  });
});
