/**
 * The bodies Rung's builders produce, validated against OpenAI's own schemas
 * (tests/fixtures/openai-schemas.json, cut from OpenAI's OpenAPI description by
 * extract-openai-schemas.ts). An SDK that parses OpenAI's answers must parse ours.
 */

import {
  chatCompletion,
  chatCompletionChunk,
  chatUsageChunk,
  type ErrorStatus,
  errorBody,
  type Meta,
  modelList,
  type RungTrace,
  textCompletion,
  toolCallDeltas,
  usageOf,
} from "@rung/shared/openai";
import { describe, expect, it } from "vitest";
import { ROOT_SCHEMAS } from "./extract-openai-schemas.ts";
import { fixture, problemsWith, type SchemaName } from "./problems-with.ts";

type Path = readonly (string | number)[];

/** A deep copy of `body` with the value at `path` replaced, or removed when `value` is omitted. */
function changed(body: object, path: Path, ...value: [unknown?]): unknown {
  const copy: unknown = structuredClone(body);
  const parentPath = path.slice(0, -1);
  const key = path.at(-1);
  const parent = parentPath.reduce<unknown>((node, step) => (node as Record<string | number, unknown>)[step], copy);
  if (key === undefined || typeof parent !== "object" || parent === null) throw new Error(`no value at ${path.join(".")}`);
  const record = parent as Record<string | number, unknown>;
  if (!(key in record)) throw new Error(`no value at ${path.join(".")}`);
  if (value.length === 0) delete record[key];
  else record[key] = value[0];
  return copy;
}

const chatMeta: Meta = { id: "chatcmpl-7f3a", created: 1_751_400_000, model: "qwen2.5-0.5b-instruct-q4_k_m" };
const textMeta: Meta = { id: "cmpl-7f3a", created: 1_751_400_000, model: "qwen2.5-0.5b-instruct-q4_k_m" };
const usage = usageOf(12, 5);
const rung: RungTrace = {
  model: "qwen2.5-0.5b-instruct-q4_k_m",
  node: "laptop",
  escalations: 1,
  profile: "balanced",
  attempts: [
    {
      model: "smollm2-135m",
      node: "tab-1",
      outcome: "escalated",
      reason: "mean confidence 0.21 < 0.5",
      ms: 31,
      firstTokenMs: 12,
      confidence: { mean: 0.21, min: 0.02 },
    },
    { model: "qwen2.5-0.5b-instruct-q4_k_m", node: "laptop", outcome: "answered", ms: 812, firstTokenMs: 95 },
  ],
};

const chatAnswer = chatCompletion(chatMeta, "Paris.", "stop", usage, rung);
const calls = [
  { id: "call_k3Jd9x", name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' },
  { id: "call_p0Qw2e", name: "get_time", arguments: "{}" },
];
const toolAnswer = chatCompletion(chatMeta, "", "tool_calls", usage, rung, calls);
const chatOpening = chatCompletionChunk(chatMeta, { role: "assistant", content: "" }, null);
const chatPiece = chatCompletionChunk(chatMeta, { content: "Par" }, null);
const chatUsage = chatUsageChunk(chatMeta, usage, rung);
const textAnswer = textCompletion(textMeta, " there was a king.", "length", usage, rung);
const models = modelList([
  { id: "smollm2-135m", created: 1_751_400_000, ownedBy: "rung" },
  { id: "qwen2.5-0.5b-instruct-q4_k_m", created: 1_751_400_000, ownedBy: "rung" },
]);
const notFound = errorBody({ status: 404, message: "The model 'gpt-4o' does not exist.", code: "model_not_found", param: "model" });

const ERROR_STATUSES: ErrorStatus[] = [400, 401, 404, 408, 413, 429, 500, 502, 503, 504];

describe("the fixture", () => {
  it("holds every root schema, and every $ref in it resolves inside it", () => {
    const names = Object.keys(fixture.components.schemas);
    expect(names).toEqual(expect.arrayContaining([...ROOT_SCHEMAS]));
    const refs = JSON.stringify(fixture.components).match(/"\$ref":"[^"]*"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(names).toContain(ref.replace(/^"\$ref":"#\/components\/schemas\/|"$/g, ""));
  });
});

describe("bodies Rung sends conform to OpenAI's schemas", () => {
  it.each([
    ["stopped", chatAnswer],
    ["cut at max_tokens", chatCompletion(chatMeta, "The capital of France is", "length", usage, rung)],
    ["empty", chatCompletion(chatMeta, "", "stop", usageOf(3, 0), rung)],
    ["tool calls, content null", toolAnswer],
    ["text and a tool call", chatCompletion(chatMeta, "Let me look.", "tool_calls", usage, rung, calls.slice(0, 1))],
  ])("chat completion, %s: CreateChatCompletionResponse", (_name, body) => {
    expect(problemsWith("CreateChatCompletionResponse", body)).toEqual([]);
  });

  it.each([
    ["opening with the role", chatOpening],
    ["piece of text", chatPiece],
    ["closing, stopped", chatCompletionChunk(chatMeta, {}, "stop")],
    ["closing, cut at max_tokens", chatCompletionChunk(chatMeta, {}, "length")],
    ["tool calls with their index", chatCompletionChunk(chatMeta, { tool_calls: toolCallDeltas(calls) }, null)],
    ["closing after tool calls", chatCompletionChunk(chatMeta, {}, "tool_calls")],
    ["usage after the last choice", chatUsage],
  ])("chat stream chunk, %s: CreateChatCompletionStreamResponse", (_name, body) => {
    expect(problemsWith("CreateChatCompletionStreamResponse", body)).toEqual([]);
  });

  it.each([
    ["whole answer", textAnswer],
    ["whole answer without usage or trace", textCompletion(textMeta, "Once", "stop")],
    ["stream closing", textCompletion(textMeta, "", "stop")],
  ])("text completion, %s: CreateCompletionResponse", (_name, body) => {
    expect(problemsWith("CreateCompletionResponse", body)).toEqual([]);
  });

  it("tool calls: content null, each call typed function with its arguments as JSON text", () => {
    expect(toolAnswer.choices[0]!.message).toEqual({
      role: "assistant",
      content: null,
      refusal: null,
      tool_calls: [
        { id: "call_k3Jd9x", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' } },
        { id: "call_p0Qw2e", type: "function", function: { name: "get_time", arguments: "{}" } },
      ],
    });
    expect(toolCallDeltas(calls).map((d) => d.index)).toEqual([0, 1]);
    // A broken builder must fail the check: a call without its type is not OpenAI's shape.
    expect(
      problemsWith("CreateChatCompletionResponse", changed(toolAnswer, ["choices", 0, "message", "tool_calls", 0, "type"])),
    ).not.toEqual([]);
  });

  it("model list: ListModelsResponse, each entry a Model", () => {
    expect(problemsWith("ListModelsResponse", models)).toEqual([]);
    for (const model of models.data) expect(problemsWith("Model", model)).toEqual([]);
  });

  it("empty model list: ListModelsResponse", () => {
    expect(problemsWith("ListModelsResponse", modelList([]))).toEqual([]);
  });

  it.each(ERROR_STATUSES)("error body for %i: ErrorResponse", (status) => {
    expect(problemsWith("ErrorResponse", errorBody({ status, message: "Something went wrong." }))).toEqual([]);
  });

  it("error body naming code and param: ErrorResponse", () => {
    expect(problemsWith("ErrorResponse", notFound)).toEqual([]);
  });

  it("carries the `rung` extension where OpenAI's schemas allow extra fields", () => {
    for (const [name, body] of [
      ["CreateChatCompletionResponse", chatAnswer],
      ["CreateChatCompletionStreamResponse", chatUsage],
      ["CreateCompletionResponse", textAnswer],
    ] as const) {
      expect(body.rung).toEqual(rung);
      expect(problemsWith(name, body)).toEqual([]);
    }
  });
});

describe("streamed text completion pieces", () => {
  // OpenAI's schema says streamed and whole completions share one shape, with a required,
  // non-null finish_reason; the API itself, like Rung, sends null until the last chunk.
  // This pins the one known difference so that any other drift still fails.
  it("differ from CreateCompletionResponse only in their null finish_reason", () => {
    const piece = textCompletion(textMeta, " there", null);
    const problems = problemsWith("CreateCompletionResponse", piece);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.at === "/choices/0/finish_reason")).toBe(true);
  });
});

describe("the check fails when a body breaks OpenAI's schema", () => {
  it.each<[SchemaName, string, Path, object]>([
    ["CreateChatCompletionResponse", "chat", ["id"], chatAnswer],
    ["CreateChatCompletionResponse", "chat", ["choices", 0, "finish_reason"], chatAnswer],
    ["CreateChatCompletionResponse", "chat", ["choices", 0, "logprobs"], chatAnswer],
    ["CreateChatCompletionResponse", "chat", ["choices", 0, "message", "refusal"], chatAnswer],
    ["CreateChatCompletionResponse", "chat", ["usage", "total_tokens"], chatAnswer],
    ["CreateChatCompletionStreamResponse", "chat chunk", ["choices", 0, "delta"], chatPiece],
    ["CreateChatCompletionStreamResponse", "chat chunk", ["choices", 0, "finish_reason"], chatPiece],
    ["CreateChatCompletionStreamResponse", "usage chunk", ["usage", "prompt_tokens"], chatUsage],
    ["CreateCompletionResponse", "text completion", ["choices", 0, "text"], textAnswer],
    ["CreateCompletionResponse", "text completion", ["created"], textAnswer],
    ["ListModelsResponse", "model list", ["data", 1, "owned_by"], models],
    ["ListModelsResponse", "model list", ["object"], models],
    ["ErrorResponse", "error", ["error", "code"], notFound],
    ["ErrorResponse", "error", ["error", "param"], notFound],
  ])("%s: a %s without %j is refused", (name, _label, path, body) => {
    const problems = problemsWith(name, changed(body, path));
    const parent = path
      .slice(0, -1)
      .map((step) => `/${step}`)
      .join("");
    expect(problems).toContainEqual({ at: parent, message: `must have required property '${String(path.at(-1))}'` });
  });

  it.each<[SchemaName, string, object, Path, unknown]>([
    ["CreateChatCompletionResponse", "a chunk's object type", chatAnswer, ["object"], "chat.completion.chunk"],
    ["CreateChatCompletionResponse", "created as a string", chatAnswer, ["created"], "1751400000"],
    ["CreateChatCompletionResponse", "a null finish_reason", chatAnswer, ["choices", 0, "finish_reason"], null],
    ["CreateChatCompletionStreamResponse", "an unknown finish_reason", chatPiece, ["choices", 0, "finish_reason"], "done"],
    ["CreateChatCompletionStreamResponse", "an unknown delta role", chatOpening, ["choices", 0, "delta", "role"], "bot"],
    ["CreateCompletionResponse", "a chat-only finish_reason", textAnswer, ["choices", 0, "finish_reason"], "tool_calls"],
    ["CreateCompletionResponse", "usage counts as strings", textAnswer, ["usage", "prompt_tokens"], "12"],
    ["ErrorResponse", "a numeric code", notFound, ["error", "code"], 404],
  ])("%s with %s is refused", (name, _label, body, path, value) => {
    expect(problemsWith(name, changed(body, path, value)).length).toBeGreaterThan(0);
  });
});
