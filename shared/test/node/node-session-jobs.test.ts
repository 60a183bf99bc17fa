import { describe, expect, it, vi } from "vitest";
import { PROTOCOL_VERSION } from "../../protocol/messages.ts";
import { echoSession, echoTiny, errorsOf, framesOf, job, PIECE_MS, settle, useFakeTimersPerTest } from "./session-fixtures.ts";

// A NodeSession's announcement, the jobs it runs and the ones it is told to cancel.

useFakeTimersPerTest();

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
