import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EchoEngine } from "../../node/echo-engine.ts";
import { EngineError } from "../../node/engine-error.ts";
import type { GenerationResult, InferenceEngine } from "../../node/inference-engine.ts";
import { NodeSession } from "../../node/node-session.ts";
import { type Hardware, type Job, type JobError, type ModelInfo, type NodeMessage, PROTOCOL_VERSION } from "../../protocol/messages.ts";

const tiny: ModelInfo = { id: "tiny", parameters: 1_000, quantization: "F16", contextLength: 512, tokensPerSecond: 100, slots: 1 };
/** What EchoEngine really does: no JSON, no tools, a confidence per piece. */
const echoTiny: ModelInfo = { ...tiny, capabilities: { jsonSchema: false, tools: false, logprobs: true } };

/** Echo pieces arrive this far apart, so a test can act between them with fake timers. */
const PIECE_MS = 10;

function job(jobId: string, text: string, overrides: Partial<Job> = {}): Job {
  return {
    type: "job",
    jobId,
    model: tiny.id,
    input: { kind: "chat", messages: [{ role: "user", content: text }] },
    sampling: { temperature: 0, topP: 1, stop: [] },
    ...overrides,
  };
}

function sessionWith(engine: InferenceEngine) {
  const frames: NodeMessage[] = [];
  const session = new NodeSession(engine, { name: "test-node", kind: "native" }, (frame) => frames.push(frame));
  return { session, frames };
}

function echoSession(slots = 1, pieceDelayMs = PIECE_MS) {
  return sessionWith(new EchoEngine({ models: [tiny], slots, pieceDelayMs, confidence: 0.75 }));
}

function framesOf(frames: NodeMessage[], jobId: string): NodeMessage[] {
  return frames.filter((f) => "jobId" in f && f.jobId === jobId);
}

function errorsOf(frames: NodeMessage[], jobId: string): JobError["error"][] {
  return framesOf(frames, jobId).flatMap((f) => (f.type === "job-error" ? [f.error] : []));
}

/** Lets the session's pending promise callbacks run without moving fake time. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** An engine whose generate() rejects with the given error. */
function failingEngine(error: unknown): InferenceEngine {
  return {
    name: "echo",
    models: [tiny],
    slots: 1,
    generate: (): Promise<GenerationResult> => Promise.reject(error),
    dispose: async () => {},
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("NodeSession: hello", () => {
  it("announces the protocol version, identity, engine, slots and models", () => {
    const { session } = echoSession(3);
    expect(session.hello()).toEqual({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      node: { name: "test-node", kind: "native", engine: "echo", slots: 3 },
      models: [echoTiny],
    });
  });
});

describe("NodeSession: running a job", () => {
  it("sends one numbered chunk per piece, then done with the chunk count", async () => {
    const { session, frames } = echoSession();
    session.handle(job("j1", "alpha beta gamma"));
    await vi.advanceTimersByTimeAsync(5 * PIECE_MS);
    expect(frames).toEqual([
      { type: "chunk", jobId: "j1", seq: 0, text: "alpha ", confidence: 0.75 },
      { type: "chunk", jobId: "j1", seq: 1, text: "beta ", confidence: 0.75 },
      { type: "chunk", jobId: "j1", seq: 2, text: "gamma", confidence: 0.75 },
      { type: "done", jobId: "j1", chunks: 3, finishReason: "stop", usage: { promptTokens: 3, completionTokens: 3 } },
    ]);
    expect(session.activeJobs).toBe(0);
  });

  it("sends done with zero chunks for an empty answer", async () => {
    const { session, frames } = echoSession();
    session.handle(job("empty", ""));
    await settle();
    expect(frames).toEqual([
      { type: "done", jobId: "empty", chunks: 0, finishReason: "stop", usage: { promptTokens: 0, completionTokens: 0 } },
    ]);
  });

  it("passes the sampling on: maxTokens cuts the answer and finishes with length", async () => {
    const { session, frames } = echoSession();
    session.handle(job("j1", "one two three four", { sampling: { temperature: 0, topP: 1, stop: [], maxTokens: 2 } }));
    await vi.advanceTimersByTimeAsync(10 * PIECE_MS);
    expect(frames.at(-1)).toMatchObject({ type: "done", chunks: 2, finishReason: "length" });
    expect(frames.filter((f) => f.type === "chunk")).toHaveLength(2);
  });

  it("counts the job as active until it ends", async () => {
    const { session } = echoSession();
    session.handle(job("j1", "a b c"));
    expect(session.activeJobs).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * PIECE_MS);
    expect(session.activeJobs).toBe(0);
  });

  it("numbers each job's chunks from zero when jobs run side by side", async () => {
    const { session, frames } = echoSession(2);
    session.handle(job("a", "one two"));
    session.handle(job("b", "three four"));
    await vi.advanceTimersByTimeAsync(10 * PIECE_MS);
    for (const jobId of ["a", "b"]) {
      const seqs = framesOf(frames, jobId).flatMap((f) => (f.type === "chunk" ? [f.seq] : []));
      expect(seqs).toEqual([0, 1]);
      expect(framesOf(frames, jobId).at(-1)).toMatchObject({ type: "done", chunks: 2 });
    }
  });
});

describe("NodeSession: cancel", () => {
  it("aborts the job with a non-retryable cancelled error and no done", async () => {
    const { session, frames } = echoSession();
    session.handle(job("j1", "one two three four five"));
    await vi.advanceTimersByTimeAsync(PIECE_MS + 1);
    expect(frames.filter((f) => f.type === "chunk")).toHaveLength(1);
    session.handle({ type: "cancel", jobId: "j1" });
    await vi.advanceTimersByTimeAsync(10 * PIECE_MS);
    expect(frames.filter((f) => f.type === "chunk")).toHaveLength(1);
    expect(frames.some((f) => f.type === "done")).toBe(false);
    expect(errorsOf(frames, "j1")).toEqual([{ code: "cancelled", message: expect.any(String), retryable: false }]);
    expect(session.activeJobs).toBe(0);
  });

  it("leaves other jobs running", async () => {
    const { session, frames } = echoSession(2);
    session.handle(job("keep", "a b c"));
    session.handle(job("stop", "d e f"));
    session.handle({ type: "cancel", jobId: "stop" });
    await vi.advanceTimersByTimeAsync(10 * PIECE_MS);
    expect(framesOf(frames, "keep").at(-1)).toMatchObject({ type: "done", chunks: 3 });
    expect(errorsOf(frames, "stop").map((e) => e.code)).toEqual(["cancelled"]);
  });

  it("ignores a cancel for a job it is not running", async () => {
    const { session, frames } = echoSession();
    session.handle({ type: "cancel", jobId: "nobody" });
    await vi.advanceTimersByTimeAsync(PIECE_MS);
    expect(frames).toEqual([]);
  });

  it("abortAll cancels every running job", async () => {
    const { session, frames } = echoSession(2);
    session.handle(job("a", "one two three"));
    session.handle(job("b", "four five six"));
    session.abortAll();
    await vi.advanceTimersByTimeAsync(10 * PIECE_MS);
    expect(errorsOf(frames, "a").map((e) => e.code)).toEqual(["cancelled"]);
    expect(errorsOf(frames, "b").map((e) => e.code)).toEqual(["cancelled"]);
  });
});

describe("NodeSession: refusals", () => {
  it("refuses a job when every slot is taken, retryable, and keeps running the first", async () => {
    const { session, frames } = echoSession(1);
    session.handle(job("first", "a b"));
    session.handle(job("second", "c d"));
    expect(errorsOf(frames, "second")).toEqual([{ code: "busy", message: expect.any(String), retryable: true }]);
    await vi.advanceTimersByTimeAsync(10 * PIECE_MS);
    expect(framesOf(frames, "first").at(-1)).toMatchObject({ type: "done", chunks: 2 });
    expect(framesOf(frames, "second")).toHaveLength(1);
  });

  it("takes a job again once a slot frees up", async () => {
    const { session, frames } = echoSession(1);
    session.handle(job("first", "a"));
    await vi.advanceTimersByTimeAsync(5 * PIECE_MS);
    session.handle(job("second", "b"));
    await vi.advanceTimersByTimeAsync(5 * PIECE_MS);
    expect(framesOf(frames, "second").at(-1)).toMatchObject({ type: "done", chunks: 1 });
  });

  it("refuses a model it does not serve, retryable so another node may", async () => {
    const { session, frames } = echoSession();
    session.handle(job("j1", "hi", { model: "huge" }));
    expect(errorsOf(frames, "j1")).toEqual([{ code: "unknown_model", message: expect.stringContaining("huge"), retryable: true }]);
    expect(session.activeJobs).toBe(0);
  });

  it("refuses a second job with the id of a running one as a bad frame", async () => {
    const { session, frames } = echoSession(2);
    session.handle(job("same", "a b"));
    session.handle(job("same", "c d"));
    expect(errorsOf(frames, "same")).toEqual([{ code: "bad_frame", message: expect.any(String), retryable: false }]);
    await vi.advanceTimersByTimeAsync(10 * PIECE_MS);
    expect(frames.filter((f) => f.type === "chunk").map((f) => f.text)).toEqual(["a ", "b"]);
  });
});

describe("NodeSession: drain", () => {
  it("sends draining and resolves at once with no jobs", async () => {
    const { session, frames } = echoSession();
    let drained = false;
    void session.drain(1_000).then(() => (drained = true));
    await settle();
    expect(frames).toEqual([{ type: "draining" }]);
    expect(drained).toBe(true);
    expect(session.draining).toBe(true);
  });

  it("refuses new jobs with a retryable draining error", async () => {
    const { session, frames } = echoSession(4);
    void session.drain(1_000);
    session.handle(job("late", "hello"));
    expect(errorsOf(frames, "late")).toEqual([{ code: "draining", message: expect.any(String), retryable: true }]);
  });

  it("waits for jobs in flight to finish before resolving", async () => {
    const { session, frames } = echoSession();
    session.handle(job("j1", "one two three four"));
    let drained = false;
    void session.drain(1_000).then(() => (drained = true));
    expect(frames[0]).toEqual({ type: "draining" });
    await vi.advanceTimersByTimeAsync(2 * PIECE_MS + 1);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(2 * PIECE_MS);
    expect(drained).toBe(true);
    expect(frames.at(-1)).toMatchObject({ type: "done", jobId: "j1", chunks: 4, finishReason: "stop" });
    expect(errorsOf(frames, "j1")).toEqual([]);
  });

  it("aborts jobs still running at the deadline with retryable draining errors, then resolves", async () => {
    const { session, frames } = echoSession(2);
    session.handle(job("a", "1 2 3 4 5 6 7 8 9 10"));
    session.handle(job("b", "1 2 3 4 5 6 7 8 9 10"));
    let drained = false;
    void session.drain(3 * PIECE_MS + 5).then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(3 * PIECE_MS);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(10);
    expect(drained).toBe(true);
    for (const jobId of ["a", "b"]) {
      expect(errorsOf(frames, jobId)).toEqual([{ code: "draining", message: expect.any(String), retryable: true }]);
      expect(framesOf(frames, jobId).filter((f) => f.type === "chunk")).toHaveLength(3);
    }
    expect(frames.some((f) => f.type === "done")).toBe(false);
    expect(session.activeJobs).toBe(0);
  });

  it("leaves no timer behind once drained early", async () => {
    const { session } = echoSession();
    session.handle(job("j1", "a"));
    const drained = session.drain(60_000);
    await vi.advanceTimersByTimeAsync(3 * PIECE_MS);
    await drained;
    // The 60 s deadline timer must not keep a process alive after the node has drained.
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("NodeSession: engine failures", () => {
  it("turns a plain Error into a retryable engine_failure keeping its message", async () => {
    const { session, frames } = sessionWith(failingEngine(new Error("CUDA out of memory")));
    session.handle(job("j1", "hi"));
    await settle();
    expect(errorsOf(frames, "j1")).toEqual([{ code: "engine_failure", message: "CUDA out of memory", retryable: true }]);
    expect(session.activeJobs).toBe(0);
  });

  it("turns a thrown non-Error into a retryable engine_failure", async () => {
    const { session, frames } = sessionWith(failingEngine("segfault"));
    session.handle(job("j1", "hi"));
    await settle();
    expect(errorsOf(frames, "j1")).toEqual([{ code: "engine_failure", message: "segfault", retryable: true }]);
  });

  it("keeps an EngineError's code and retryable flag", async () => {
    const tooLong = new EngineError("context_length_exceeded", "prompt is 900 tokens, context is 512", true);
    const { session, frames } = sessionWith(failingEngine(tooLong));
    session.handle(job("j1", "hi"));
    await settle();
    expect(errorsOf(frames, "j1")).toEqual([
      { code: "context_length_exceeded", message: "prompt is 900 tokens, context is 512", retryable: true },
    ]);
  });

  it("keeps a non-retryable EngineError non-retryable", async () => {
    const { session, frames } = sessionWith(failingEngine(new EngineError("bad_grammar", "grammar does not parse", false)));
    session.handle(job("j1", "hi"));
    await settle();
    expect(errorsOf(frames, "j1")).toEqual([{ code: "bad_grammar", message: "grammar does not parse", retryable: false }]);
  });

  it("frees the slot after a failure", async () => {
    const { session, frames } = sessionWith(failingEngine(new Error("boom")));
    session.handle(job("j1", "hi"));
    await settle();
    session.handle(job("j2", "hi"));
    await settle();
    expect(errorsOf(frames, "j2").map((e) => e.code)).toEqual(["engine_failure"]);
  });
});

describe("NodeSession: heartbeat and measured speed", () => {
  it("reports running jobs, and no speed before a job finished", async () => {
    const { session } = echoSession(2);
    session.handle(job("j1", "one two three four"));
    await settle();
    expect(await session.heartbeat()).toEqual({ type: "heartbeat", activeJobs: 1, models: [] });
    await vi.advanceTimersByTimeAsync(PIECE_MS * 5);
    expect((await session.heartbeat()).activeJobs).toBe(0);
  });

  it("measures tokens/s from finished jobs and announces it on the next hello", async () => {
    const { session, frames } = echoSession(1);
    session.handle(job("j1", "one two three four five"));
    await vi.advanceTimersByTimeAsync(PIECE_MS * 6);
    expect(frames.at(-1)?.type).toBe("done");
    const { models } = await session.heartbeat();
    expect(models).toEqual([{ id: tiny.id, tokensPerSecond: expect.any(Number) }]);
    const measured = models[0]!.tokensPerSecond;
    expect(measured).toBeGreaterThan(0);
    expect(session.hello().models).toEqual([{ ...echoTiny, tokensPerSecond: measured }]);
  });

  it("adds the engine's hardware to hello and its free VRAM to heartbeats", async () => {
    const hardware: Hardware = {
      backend: "cuda",
      devices: ["GPU 0"],
      vramTotalBytes: 8e9,
      vramFreeBytes: 6e9,
      ramTotalBytes: 32e9,
      cpuCores: 8,
    };
    const engine = Object.assign(new EchoEngine({ models: [tiny] }), { hardware, freeVramBytes: async () => 5e9 });
    const { session } = sessionWith(engine);
    expect(session.hello().hardware).toEqual(hardware);
    expect((await session.heartbeat()).vramFreeBytes).toBe(5e9);
  });

  it("still sends a heartbeat when the engine cannot read its free VRAM", async () => {
    const engine = Object.assign(new EchoEngine({ models: [tiny] }), { freeVramBytes: () => Promise.reject(new Error("driver gone")) });
    const { session } = sessionWith(engine);
    expect(await session.heartbeat()).toEqual({ type: "heartbeat", activeJobs: 0, models: [] });
  });
});

describe("NodeSession: capabilities", () => {
  const weather = { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } };

  /** An engine whose model calls functions: it hands back one call and sees what the job asked for. */
  function toolEngine() {
    const seen: Parameters<InferenceEngine["generate"]>[0][] = [];
    const engine: InferenceEngine = {
      name: "llama-cpp",
      models: [{ ...tiny, capabilities: { jsonSchema: true, tools: true, logprobs: true } }],
      slots: 1,
      generate: async (request, { onPiece }) => {
        seen.push(request);
        onPiece({ text: "", confidence: 0.5 });
        return {
          finishReason: "tool_calls",
          usage: { promptTokens: 3, completionTokens: 9 },
          toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' }],
        };
      },
      dispose: async () => {},
    };
    return { engine, seen };
  }

  it("hands the engine the job's tools and response format and sends its tool calls in done", async () => {
    const { engine, seen } = toolEngine();
    const { session, frames } = sessionWith(engine);
    session.handle(job("j1", "weather?", { tools: [weather], toolChoice: "required", responseFormat: { type: "json_object" } }));
    await settle();
    expect(seen[0]).toMatchObject({ tools: [weather], toolChoice: "required", responseFormat: { type: "json_object" } });
    expect(framesOf(frames, "j1")).toEqual([
      { type: "chunk", jobId: "j1", seq: 0, text: "", confidence: 0.5 },
      {
        type: "done",
        jobId: "j1",
        chunks: 1,
        finishReason: "tool_calls",
        usage: { promptTokens: 3, completionTokens: 9 },
        toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' }],
      },
    ]);
  });

  it("refuses, retryably, a job that needs a capability its model did not announce", async () => {
    const { session, frames } = echoSession();
    session.handle(job("j1", "json please", { responseFormat: { type: "json_object" } }));
    session.handle(job("j2", "call something", { tools: [weather], toolChoice: "auto" }));
    await settle();
    for (const id of ["j1", "j2"]) {
      expect(framesOf(frames, id)).toEqual([
        { type: "job-error", jobId: id, error: { code: "unsupported_capability", message: expect.any(String), retryable: true } },
      ]);
    }
  });
});
