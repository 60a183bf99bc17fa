import { checkJsonAnswer } from "@rung/shared/routing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalFabric, startFabric, testModel } from "./harness/fabric.ts";

/**
 * JSON answers and function calling through the whole fabric: the official
 * openai client, the edge in workerd, a rung-agent on node-llama-cpp serving a
 * generated model with random weights. Whatever such a model "wants" to write,
 * the agent's grammar must make the answer valid. The model is pinned: this
 * tests the capability, not the router's choice.
 */
const MODEL = "rung-small";
let fabric: LocalFabric;
let client: OpenAI;

beforeAll(async () => {
  fabric = await startFabric({ agents: [{ name: "agent-json", models: [await testModel("small")] }] });
  client = fabric.client;
});

afterAll(() => fabric?.stop());

const verdictSchema = {
  type: "object",
  properties: { answer: { enum: ["yes", "no"] }, sure: { type: "boolean" } },
  required: ["answer", "sure"],
  additionalProperties: false,
};
/** The edge's own check of JSON answers (the one escalation uses). */
const valid = (schema: Record<string, unknown>, text: string) => checkJsonAnswer(text, { type: "json_schema", name: "check", schema }).ok;
const question = [{ role: "user" as const, content: "Will it rain in Oslo tomorrow?" }];
const tools: OpenAI.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_forecast", description: "Forecast for a city", parameters: verdictSchema } },
  {
    type: "function",
    function: { name: "get_time", parameters: { type: "object", properties: { utc: { type: "boolean" } }, required: ["utc"] } },
  },
];
const base = { model: MODEL, messages: question, max_tokens: 120, temperature: 0 } as const;

describe("response_format, end to end", () => {
  const response_format = { type: "json_schema", json_schema: { name: "verdict", schema: verdictSchema, strict: true } } as const;

  it("answers whole with JSON that validates against the schema", async () => {
    const answer = await client.chat.completions.create({ ...base, response_format });
    const text = answer.choices[0]!.message.content!;
    expect(answer.choices[0]!.finish_reason).toBe("stop");
    expect(valid(verdictSchema, text)).toBe(true);
  });

  it("streams JSON that validates, the same as the whole answer", async () => {
    const whole = await client.chat.completions.create({ ...base, response_format });
    let text = "";
    for await (const chunk of await client.chat.completions.create({ ...base, response_format, stream: true }))
      text += chunk.choices[0]?.delta.content ?? "";
    expect(valid(verdictSchema, text)).toBe(true);
    expect(text).toBe(whole.choices[0]!.message.content);
  });

  it("refuses a schema the agent's grammar cannot express, naming the problem", async () => {
    const bad = { type: "json_schema", json_schema: { name: "bad", schema: { type: "tuple" } } } as const;
    const error = await client.chat.completions.create({ ...base, response_format: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("invalid_schema");
  });
});

describe("tools, end to end", () => {
  it("returns a required call as tool_calls with arguments valid for the function", async () => {
    const answer = await client.chat.completions.create({ ...base, tools, tool_choice: "required" });
    const choice = answer.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.id).toMatch(/^call_/);
    expect(call.type).toBe("function");
    const tool = tools.find((t) => t.type === "function" && t.function.name === call.function.name) as OpenAI.ChatCompletionFunctionTool;
    expect(valid(tool.function.parameters!, call.function.arguments)).toBe(true);
  });

  it("streams the named call as a tool_calls delta with its index, then finish_reason tool_calls", async () => {
    const stream = await client.chat.completions.create({
      ...base,
      tools,
      tool_choice: { type: "function", function: { name: "get_time" } },
      stream: true,
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let content = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      content += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(content).toBe("");
    expect(finish).toBe("tool_calls");
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_time" } });
    expect(valid((tools[1] as OpenAI.ChatCompletionFunctionTool).function.parameters!, deltas[0]!.function!.arguments!)).toBe(true);
  });

  it("answers a call max_tokens cut short with 200 and finish_reason length, as OpenAI does, whole and streamed", async () => {
    // Long enough for the function's name, too short for its arguments (the whole call takes 50 tokens here).
    const cut = { ...base, tools, tool_choice: { type: "function", function: { name: "get_time" } }, max_tokens: 40 } as const;
    const whole = await client.chat.completions.create(cut);
    expect(whole.choices[0]!.finish_reason).toBe("length");
    const call = whole.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe("get_time");
    expect(() => JSON.parse(call.function.arguments)).toThrow();

    const stream = await client.chat.completions.create({ ...cut, stream: true });
    let finish: string | null | undefined;
    const names: string[] = [];
    for await (const chunk of stream) {
      finish ??= chunk.choices[0]?.finish_reason;
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) if (delta.function?.name) names.push(delta.function.name);
    }
    expect(finish).toBe("length");
    expect(names).toEqual(["get_time"]);
  });

  it("round-trips a tool result: the call and its result go back and the model answers", async () => {
    const first = await client.chat.completions.create({
      ...base,
      tools,
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...question,
      { role: "assistant", content: null, tool_calls: [call] },
      { role: "tool", tool_call_id: call.id, content: "09:00 UTC" },
    ];
    const followUp = { ...base, tools, tool_choice: "none", max_tokens: 8 } as const;
    const { data, response } = await client.chat.completions.create({ ...followUp, messages }).withResponse();
    expect(response.headers.get("x-rung-model")).toBe(MODEL);
    expect(data.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(data.choices[0]!.finish_reason).toMatch(/^(stop|length)$/);
    // The call and its result reached the model's prompt (one token per byte in this vocabulary).
    const without = await client.chat.completions.create({ ...followUp, messages: question });
    expect(data.usage!.prompt_tokens - without.usage!.prompt_tokens).toBeGreaterThanOrEqual(
      call.function.arguments.length + "09:00 UTC".length,
    );
  });
});
