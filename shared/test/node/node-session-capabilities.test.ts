import { describe, expect, it } from "vitest";
import type { InferenceEngine } from "../../node/inference-engine.ts";
import { echoSession, framesOf, job, sessionWith, settle, tiny, useFakeTimersPerTest } from "./session-fixtures.ts";

// Jobs that need JSON output or tools: handed to an engine that can, refused by one that cannot.

useFakeTimersPerTest();

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
