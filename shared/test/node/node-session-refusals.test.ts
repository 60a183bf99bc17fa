import { describe, expect, it, vi } from "vitest";
import { echoSession, errorsOf, framesOf, job, PIECE_MS, settle, useFakeTimersPerTest } from "./session-fixtures.ts";

// The jobs a NodeSession turns away (full, unknown model, duplicate id) and how it drains.

useFakeTimersPerTest();

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
