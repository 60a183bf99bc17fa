import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerationRequest } from "@rung/shared/node";
import type { ResponseFormat, Sampling, Tool } from "@rung/shared/protocol";
import { checkJsonAnswer } from "@rung/shared/routing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { TEST_MODELS } from "../../tools/gguf/test-model-presets.ts";
import { LlamaCppEngine } from "../src/engines/llama-cpp-engine.ts";
import { engineErrorOf, generateWith } from "./helpers/generate-with.ts";

/**
 * JSON answers and function calls from a real node-llama-cpp on a generated
 * model with random weights: whatever it "wants" to say, the grammar must make
 * it valid. Tool prompts are long for a byte-level vocabulary, hence the context.
 */
const MODEL = "tiny";
const SAMPLING: Sampling = { temperature: 1, topP: 1, stop: [], maxTokens: 200, seed: 1 };

const verdict: Tool = {
  name: "give_verdict",
  description: "Say whether it will rain.",
  parameters: {
    type: "object",
    properties: { answer: { enum: ["yes", "no"] }, sure: { type: "boolean" } },
    required: ["answer", "sure"],
  },
};
const weather: Tool = {
  name: "get_weather",
  parameters: { type: "object", properties: { unit: { enum: ["c", "f"] }, metric: { type: "boolean" } }, required: ["unit", "metric"] },
};

let engine: LlamaCppEngine;

beforeAll(async () => {
  const path = await ensureTestModel(TEST_MODELS.tiny, join(tmpdir(), "rung-native-node-models"));
  engine = await LlamaCppEngine.load({
    models: [{ id: MODEL, path }],
    gpu: false,
    threads: 1,
    slots: 1,
    contextSize: 1024,
  });
});

afterAll(async () => {
  await engine?.dispose();
});

function chat(extra: Partial<GenerationRequest>, sampling: Partial<Sampling> = {}): GenerationRequest {
  return {
    model: MODEL,
    input: { kind: "chat", messages: [{ role: "user", content: "Will it rain in Oslo?" }] },
    sampling: { ...SAMPLING, ...sampling },
    ...extra,
  };
}

const generate = (request: GenerationRequest) => generateWith(engine, request);

describe("LlamaCppEngine: JSON answers", () => {
  it("announces JSON, tools and confidence for GGUF models", () => {
    expect(engine.models[0]!.capabilities).toEqual({ jsonSchema: true, tools: true, logprobs: true });
  });

  it("answers a json_schema request with JSON that validates, each piece with its confidence", async () => {
    const format: ResponseFormat = { type: "json_schema", name: "verdict", schema: verdict.parameters! };
    for (const seed of [1, 2, 3]) {
      const result = await generate(chat({ responseFormat: format }, { seed }));
      expect(result.finishReason).toBe("stop");
      expect(checkJsonAnswer(result.text, format)).toMatchObject({ ok: true });
      // The grammar's closing run of newlines is its stop trigger, not part of the answer.
      expect(result.text).toMatch(/}$/);
      for (const { confidence } of result.pieces) expect(confidence).toBeGreaterThan(0);
    }
  });

  it("answers a json_object request with a JSON object", async () => {
    // Random weights may write a string until maxTokens; every answer that ends must be an object, and some do.
    const ended = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const result = await generate(chat({ responseFormat: { type: "json_object" } }, { seed }));
      expect(result.text.trimStart().startsWith("{")).toBe(true);
      if (result.finishReason === "stop") ended.push(result.text);
    }
    expect(ended.length).toBeGreaterThan(0);
    for (const text of ended) expect(checkJsonAnswer(text, { type: "json_object" })).toMatchObject({ ok: true });
  });

  it("refuses, non-retryably, a schema the grammar cannot express", async () => {
    for (const schema of [
      { type: "nonsense" },
      { $ref: "#/definitions/x" },
      { allOf: [{ type: "string" }] },
      { type: "object", properties: 5 },
    ]) {
      const error = await engineErrorOf(generate(chat({ responseFormat: { type: "json_schema", name: "bad", schema } })));
      expect(error).toMatchObject({ code: "invalid_schema", retryable: false });
      expect(error.message).toMatch(/^the response_format schema cannot be used: schema/);
    }
  });

  it("reads anyOf as oneOf (pydantic's optional fields)", async () => {
    const format: ResponseFormat = {
      type: "json_schema",
      name: "opt",
      schema: { type: "object", properties: { note: { anyOf: [{ type: "null" }, { type: "boolean" }] } }, required: ["note"] },
    };
    const result = await generate(chat({ responseFormat: format }));
    expect(checkJsonAnswer(result.text, format)).toMatchObject({ ok: true });
  });
});

describe("LlamaCppEngine: function calling", () => {
  const argumentsValid = (tool: Tool, args: string) =>
    checkJsonAnswer(args, { type: "json_schema", name: tool.name, schema: tool.parameters! });

  it("makes a required call with arguments valid for the function's parameters, streaming no text", async () => {
    const result = await generate(chat({ tools: [verdict, weather], toolChoice: "required" }));
    expect(result.finishReason).toBe("tool_calls");
    expect(result.text).toBe("");
    expect(result.pieces.length).toBeGreaterThan(0);
    for (const { confidence } of result.pieces) expect(confidence).toBeGreaterThan(0);
    const [call, ...more] = result.toolCalls!;
    expect(more).toEqual([]);
    expect(call!.id).toMatch(/^call_[A-Za-z0-9_-]{16}$/);
    const tool = [verdict, weather].find((t) => t.name === call!.name)!;
    expect(argumentsValid(tool, call!.arguments)).toMatchObject({ ok: true });
  });

  it("calls the function tool_choice names", async () => {
    for (const seed of [1, 2]) {
      const result = await generate(chat({ tools: [verdict, weather], toolChoice: { name: "get_weather" } }, { seed }));
      expect(result.toolCalls).toEqual([{ id: expect.any(String), name: "get_weather", arguments: expect.any(String) }]);
      expect(argumentsValid(weather, result.toolCalls![0]!.arguments)).toMatchObject({ ok: true });
    }
  });

  it("lets the model choose under auto: a valid call or text that is not one", async () => {
    for (const seed of [1, 2, 3, 4]) {
      const result = await generate(chat({ tools: [verdict], toolChoice: "auto" }, { seed, maxTokens: 60 }));
      if (result.finishReason === "tool_calls") {
        expect(result.text).toBe("");
        expect(argumentsValid(verdict, result.toolCalls![0]!.arguments)).toMatchObject({ ok: true });
      } else {
        expect(result.toolCalls).toBeUndefined();
        expect(result.text.startsWith("{")).toBe(false);
      }
    }
  });

  it("reads earlier calls and their results from the history", async () => {
    const call = { id: "call_1", name: "get_weather", arguments: '{"unit":"c","metric":true}' };
    const history = {
      kind: "chat" as const,
      messages: [
        { role: "user" as const, content: "Weather?" },
        { role: "assistant" as const, content: "", toolCalls: [call] },
        { role: "tool" as const, content: "12 degrees", toolCallId: "call_1" },
      ],
    };
    const before = await generate({
      ...chat({ tools: [weather] }, { maxTokens: 1 }),
      input: { kind: "chat", messages: [history.messages[0]!] },
    });
    const after = await generate({ ...chat({ tools: [weather] }, { maxTokens: 1 }), input: history });
    // ChatML, one token per byte: the call as the model writes it, then the result as a user turn.
    const callText = '{"name":"get_weather","arguments":{"unit":"c","metric":true}}';
    const resultText = "Result of get_weather (call call_1):\n12 degrees";
    expect(after.usage.promptTokens - before.usage.promptTokens).toBe(
      "assistant\n".length + callText.length + 2 + "\n".length + "user\n".length + resultText.length + 2 + "\n".length,
    );
  });

  it("refuses a tool_choice that names no given function", async () => {
    const error = await engineErrorOf(generate(chat({ tools: [weather], toolChoice: { name: "nope" } })));
    expect(error).toMatchObject({ code: "invalid_schema", retryable: false });
  });
});
