import type OpenAI from "openai";
import { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemsWith } from "../contract/problems-with.ts";
import { type LocalFabric, startFabric, testModel } from "./harness/fabric.ts";

/**
 * The bodies a running edge actually sends, validated against OpenAI's own schemas.
 * contract/openai-shapes.test.ts checks the builders; this checks what reaches the
 * wire after the fabric, the relay and the error handler have had their say. Raw
 * bodies come from the official client's `.asResponse()`; error bodies from the
 * `error` the client parsed out of them (APIError keeps nothing else of the body).
 */
let fabric: LocalFabric;
/** An edge no node has joined. */
let empty: LocalFabric;
let client: OpenAI;
let emptyClient: OpenAI;

beforeAll(async () => {
  const tiny = await testModel("tiny");
  [fabric, empty] = await Promise.all([startFabric({ agents: [{ name: "agent-tiny", models: [tiny] }] }), startFabric()]);
  client = fabric.client;
  emptyClient = empty.client;
});

afterAll(() => Promise.all([fabric?.stop(), empty?.stop()]));

const hello = [{ role: "user" as const, content: "Hello there" }];

/**
 * The `data:` payloads of a server-sent event stream, in order. OpenAI's streams are
 * nothing but `data: …` lines between blank ones, so any other line is a finding too.
 */
function dataLines(sse: string): string[] {
  const lines = sse.split("\n").filter((line) => line !== "");
  for (const line of lines) expect(line).toMatch(/^data: /);
  return lines.map((line) => line.slice("data: ".length));
}

/** Parses every payload but the closing `[DONE]`, which must be the last. */
function chunksOf(sse: string): unknown[] {
  const data = dataLines(sse);
  expect(data.at(-1)).toBe("[DONE]");
  return data.slice(0, -1).map((payload) => JSON.parse(payload) as unknown);
}

/** The error the client raised for a request the edge refused. */
async function refusal(request: Promise<unknown>): Promise<APIError> {
  const error: unknown = await request.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  return error;
}

describe("bodies the running edge sends conform to OpenAI's schemas", () => {
  it("a whole chat completion: CreateChatCompletionResponse", async () => {
    const response = await client.chat.completions
      .create({ model: "rung-tiny", messages: hello, max_tokens: 8, temperature: 0 })
      .asResponse();
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(problemsWith("CreateChatCompletionResponse", await response.json())).toEqual([]);
  });

  it("every chunk of a chat stream with usage: CreateChatCompletionStreamResponse, then [DONE]", async () => {
    const response = await client.chat.completions
      .create({ model: "rung-tiny", messages: hello, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true } })
      .asResponse();
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const chunks = chunksOf(await response.text());
    // An opening with the role, at least one piece of text, a closing, and the usage.
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    for (const chunk of chunks) expect(problemsWith("CreateChatCompletionStreamResponse", chunk)).toEqual([]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) as number } });
  });

  it("a whole legacy completion: CreateCompletionResponse", async () => {
    const response = await client.completions
      .create({ model: "rung-tiny", prompt: "Once upon a time", max_tokens: 8, temperature: 0 })
      .asResponse();
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(problemsWith("CreateCompletionResponse", await response.json())).toEqual([]);
  });

  // OpenAI's schema says streamed and whole completions share one shape, with a required,
  // non-null finish_reason; the API itself, like Rung, sends null until the last chunk.
  // Only that known difference is accepted, so any other drift still fails.
  it("every chunk of a legacy completion stream: CreateCompletionResponse, but for a null finish_reason", async () => {
    const response = await client.completions
      .create({
        model: "rung-tiny",
        prompt: "Once upon a time",
        max_tokens: 8,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      })
      .asResponse();
    const chunks = chunksOf(await response.text()) as { choices: { finish_reason: unknown }[] }[];
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    for (const chunk of chunks) {
      const problems = problemsWith("CreateCompletionResponse", chunk);
      const pending = chunk.choices[0]?.finish_reason === null;
      if (pending) expect(problems.filter((p) => p.at !== "/choices/0/finish_reason")).toEqual([]);
      else expect(problems).toEqual([]);
    }
    // The leniency ends where OpenAI's own stream does: the last choice says why it stopped.
    const closing = chunks.filter((chunk) => chunk.choices.length > 0).at(-1);
    expect(["stop", "length"]).toContain(closing?.choices[0]?.finish_reason);
  });

  it("the model list: ListModelsResponse, and one model: Model", async () => {
    const list = await client.models.list().asResponse();
    const body = (await list.json()) as { data: unknown[] };
    expect(problemsWith("ListModelsResponse", body)).toEqual([]);
    expect(body.data).toContainEqual(expect.objectContaining({ id: "rung-tiny" }));
    const model = await client.models.retrieve("rung-tiny").asResponse();
    expect(problemsWith("Model", await model.json())).toEqual([]);
  });

  it.each([
    ["400 for a temperature out of range", 400, () => client.chat.completions.create({ model: "auto", messages: hello, temperature: 9 })],
    ["404 for an unknown model", 404, () => client.chat.completions.create({ model: "no-such-model", messages: hello })],
    ["404 for an unknown model retrieved", 404, () => client.models.retrieve("no-such-model")],
    ["503 when no node is connected", 503, () => emptyClient.chat.completions.create({ model: "auto", messages: hello })],
  ] as const)("the error body of a %s: ErrorResponse", async (_name, status, request) => {
    const error = await refusal(request());
    expect(error.status).toBe(status);
    expect(error.headers?.get("content-type")).toMatch(/^application\/json/);
    expect(problemsWith("ErrorResponse", { error: error.error })).toEqual([]);
  });
});
