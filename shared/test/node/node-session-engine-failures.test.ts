import { describe, expect, it } from "vitest";
import { EngineError } from "../../node/engine-error.ts";
import { errorsOf, failingEngine, job, sessionWith, settle, useFakeTimersPerTest } from "./session-fixtures.ts";

// What a NodeSession sends when its engine throws.

useFakeTimersPerTest();

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
