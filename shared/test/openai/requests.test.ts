import { describe, expect, it } from "vitest";
import {
  chatCompletionRequestSchema,
  completionRequestSchema,
  contentText,
  jobCapabilitiesOf,
  toWireMessages,
} from "../../openai/requests.ts";

const chat = { model: "auto", messages: [{ role: "user", content: "Hi" }] };
const completion = { model: "auto", prompt: "Once upon a time" };

/** The first issue's path and message, or undefined when the body is accepted. */
function refusal(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  const issue = result.error?.issues[0];
  return issue && { path: issue.path.join("."), message: issue.message };
}

describe("chatCompletionRequestSchema", () => {
  it("accepts a minimal request", () => {
    expect(chatCompletionRequestSchema.parse(chat)).toEqual(chat);
  });

  it("keeps fields it does not know, on the request and on messages", () => {
    const body = {
      ...chat,
      messages: [{ role: "tool", content: "42", tool_call_id: "call_1" }],
      metadata: { team: "search" },
      store: false,
      logit_bias: { "50256": -100 },
    };
    expect(chatCompletionRequestSchema.parse(body)).toEqual(body);
  });

  it("accepts null for the optional fields OpenAI SDKs send as null", () => {
    const body = { ...chat, temperature: null, top_p: null, n: null, stop: null, seed: null, max_tokens: null, stream: null };
    expect(chatCompletionRequestSchema.safeParse(body).success).toBe(true);
  });

  it("accepts n: 1 and refuses n: 2 with a message saying why", () => {
    expect(chatCompletionRequestSchema.safeParse({ ...chat, n: 1 }).success).toBe(true);
    expect(refusal(chatCompletionRequestSchema.safeParse({ ...chat, n: 2 }))).toEqual({
      path: "n",
      message: "only n = 1 is supported",
    });
  });

  it("refuses an empty message list", () => {
    expect(refusal(chatCompletionRequestSchema.safeParse({ ...chat, messages: [] }))).toEqual({
      path: "messages",
      message: "messages must not be empty",
    });
  });

  it("refuses a request without a model", () => {
    expect(refusal(chatCompletionRequestSchema.safeParse({ messages: chat.messages }))?.path).toBe("model");
    expect(refusal(chatCompletionRequestSchema.safeParse({ ...chat, model: "" }))).toEqual({
      path: "model",
      message: "model is required",
    });
  });

  it("accepts content as text parts and as null", () => {
    const parts = {
      ...chat,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        },
      ],
    };
    expect(chatCompletionRequestSchema.safeParse(parts).success).toBe(true);
    const empty = { ...chat, messages: [{ role: "assistant", content: null }] };
    expect(chatCompletionRequestSchema.safeParse(empty).success).toBe(true);
  });

  it("refuses content parts that are not text", () => {
    const image = { ...chat, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] };
    expect(refusal(chatCompletionRequestSchema.safeParse(image))?.path).toMatch(/^messages\.0\.content/);
  });

  it("refuses an unknown role", () => {
    expect(refusal(chatCompletionRequestSchema.safeParse({ ...chat, messages: [{ role: "bot", content: "x" }] }))?.path).toBe(
      "messages.0.role",
    );
  });

  it.each([
    ["temperature above 2", { temperature: 2.1 }, "temperature"],
    ["top_p of 0", { top_p: 0 }, "top_p"],
    ["five stop sequences", { stop: ["a", "b", "c", "d", "e"] }, "stop"],
    ["an empty stop string", { stop: "" }, "stop"],
    ["max_tokens of 0", { max_tokens: 0 }, "max_tokens"],
    ["fractional max_completion_tokens", { max_completion_tokens: 1.5 }, "max_completion_tokens"],
    ["a non-integer seed", { seed: 0.5 }, "seed"],
  ])("refuses %s", (_name, fields, path) => {
    expect(refusal(chatCompletionRequestSchema.safeParse({ ...chat, ...fields }))?.path).toBe(path);
  });
});

describe("completionRequestSchema", () => {
  it("accepts a string prompt", () => {
    expect(completionRequestSchema.parse(completion)).toEqual(completion);
  });

  it("accepts a prompt array of one and refuses two, naming the field", () => {
    expect(completionRequestSchema.parse({ ...completion, prompt: ["only"] }).prompt).toEqual(["only"]);
    expect(refusal(completionRequestSchema.safeParse({ ...completion, prompt: ["one", "two"] }))?.path).toBe("prompt");
  });

  it("says why two prompts are refused", () => {
    expect(refusal(completionRequestSchema.safeParse({ ...completion, prompt: ["one", "two"] }))?.message).toBe(
      "only one prompt per request is supported",
    );
  });

  it("refuses an empty prompt array", () => {
    expect(completionRequestSchema.safeParse({ ...completion, prompt: [] }).success).toBe(false);
  });

  it("keeps fields it does not know", () => {
    const body = { ...completion, best_of: 1, logprobs: null, user: "u-1" };
    expect(completionRequestSchema.parse(body)).toEqual(body);
  });

  it("refuses echo: true and accepts echo: false", () => {
    expect(completionRequestSchema.safeParse({ ...completion, echo: false }).success).toBe(true);
    expect(refusal(completionRequestSchema.safeParse({ ...completion, echo: true }))).toEqual({
      path: "echo",
      message: "echo is not supported",
    });
  });

  it("refuses a suffix and accepts a null one", () => {
    expect(completionRequestSchema.safeParse({ ...completion, suffix: null }).success).toBe(true);
    expect(refusal(completionRequestSchema.safeParse({ ...completion, suffix: "The end." }))).toEqual({
      path: "suffix",
      message: "suffix is not supported",
    });
  });

  it("refuses n: 2 like chat does", () => {
    expect(refusal(completionRequestSchema.safeParse({ ...completion, n: 2 }))?.path).toBe("n");
  });
});

describe("contentText", () => {
  it("returns a string unchanged", () => {
    expect(contentText("hello")).toBe("hello");
  });

  it("joins text parts in order without separators", () => {
    expect(
      contentText([
        { type: "text", text: "Hel" },
        { type: "text", text: "lo" },
        { type: "text", text: "!" },
      ]),
    ).toBe("Hello!");
  });

  it("gives empty text for null, undefined and no parts", () => {
    expect(contentText(null)).toBe("");
    expect(contentText(undefined)).toBe("");
    expect(contentText([])).toBe("");
  });

  it("flattens the parts the schema parsed", () => {
    const body = chatCompletionRequestSchema.parse({
      ...chat,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "a", cache_control: { type: "ephemeral" } },
            { type: "text", text: "b" },
          ],
        },
      ],
    });
    expect(contentText(body.messages[0]?.content)).toBe("ab");
  });
});

describe("chat requests with JSON answers and tools", () => {
  const weather = {
    type: "function",
    function: { name: "get_weather", description: "Weather now", parameters: { type: "object", properties: { city: { type: "string" } } } },
  };
  const parse = (extra: object) => chatCompletionRequestSchema.parse({ ...chat, ...extra });

  it("maps response_format to the job's form; text asks for nothing", () => {
    const schema = { type: "object", properties: { a: { type: "integer" } } };
    expect(
      jobCapabilitiesOf(parse({ response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } } })),
    ).toEqual({
      responseFormat: { type: "json_schema", name: "answer", schema },
    });
    expect(jobCapabilitiesOf(parse({ response_format: { type: "json_object" } }))).toEqual({ responseFormat: { type: "json_object" } });
    expect(jobCapabilitiesOf(parse({ response_format: { type: "text" } }))).toEqual({});
  });

  it("maps tools and tool_choice; none or no tools sends no tools", () => {
    expect(jobCapabilitiesOf(parse({ tools: [weather] }))).toEqual({
      tools: [{ name: "get_weather", description: "Weather now", parameters: weather.function.parameters }],
      toolChoice: "auto",
    });
    expect(
      jobCapabilitiesOf(parse({ tools: [weather], tool_choice: { type: "function", function: { name: "get_weather" } } })).toolChoice,
    ).toEqual({ name: "get_weather" });
    expect(jobCapabilitiesOf(parse({ tools: [weather], tool_choice: "required", parallel_tool_calls: true })).toolChoice).toBe("required");
    expect(jobCapabilitiesOf(parse({ tools: [weather], tool_choice: "none" }))).toEqual({});
    expect(jobCapabilitiesOf(parse({ tools: [], tool_choice: "none" }))).toEqual({});
  });

  it("carries assistant tool calls (content null) and tool results into wire messages", () => {
    const body = parse({
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
        },
        { role: "tool", content: "12 degrees", tool_call_id: "call_1" },
      ],
    });
    expect(toWireMessages(body.messages)).toEqual([
      { role: "user", content: "Weather in Oslo?" },
      { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' }] },
      { role: "tool", content: "12 degrees", toolCallId: "call_1" },
    ]);
  });

  it("refuses what cannot be honoured, naming the field", () => {
    const cases: [object, string, RegExp][] = [
      [{ response_format: { type: "grammar" } }, "response_format.type", /must be text, json_object or json_schema/],
      [
        { response_format: { type: "json_schema", json_schema: { name: "a" } } },
        "response_format.json_schema.schema",
        /JSON schema object/,
      ],
      [{ tools: [{ type: "custom", function: weather.function }] }, "tools.0.type", /only tools of type "function"/],
      [{ tools: [{ ...weather, function: { name: "has space" } }] }, "tools.0.function.name", /letters, digits/],
      [{ tool_choice: "required" }, "tool_choice", /requires tools/],
      [{ tools: [weather], tool_choice: { type: "function", function: { name: "other" } } }, "tool_choice", /not among the tools/],
      [{ tools: [weather, weather] }, "tools", /same function twice/],
      [{ tool_choice: "sometimes" }, "tool_choice", /must be "none", "auto", "required"/],
      [{ messages: [{ role: "tool", content: "42" }] }, "messages.0.tool_call_id", /needs tool_call_id/],
      [{ logprobs: true }, "logprobs", /not supported yet/],
      [{ top_logprobs: 2 }, "top_logprobs", /not supported yet/],
    ];
    for (const [extra, path, message] of cases) {
      const issue = refusal(chatCompletionRequestSchema.safeParse({ ...chat, ...extra }));
      expect(issue?.path).toBe(path);
      expect(issue?.message).toMatch(message);
    }
  });
});
