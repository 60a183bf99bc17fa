import { SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { afterEach, describe, expect, it } from "vitest";
import app from "../src/index.ts";
import { chat, model, TestNode } from "./test-node.ts";

afterEach(() => TestNode.closeAll());

async function expectError(response: Response, status: number, code?: string) {
  expect(response.status).toBe(status);
  const body = errorBodySchema.parse(await response.json());
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

describe("OpenAI surface", () => {
  it("reports health and lists auto plus the models nodes serve", async () => {
    expect(await (await SELF.fetch("http://edge/health")).json()).toEqual({ status: "ok", pool: "main", models: [], nodes: [] });
    const node = await TestNode.join("a", [model("rung-small", 1_000_000)]);
    const list = (await (await SELF.fetch("http://edge/v1/models")).json()) as { object: string; pool: string; data: { id: string }[] };
    const profiles = ["quality", "balanced", "speed", "budget", "long_context"].map((p) => `auto:${p}`);
    expect(list.data.map((m) => m.id)).toEqual(["auto", ...profiles, "rung-small"]);
    // An open edge's caller is in the default pool, and the list says so.
    expect(list).toMatchObject({ object: "list", pool: "main" });
    expect(await (await SELF.fetch("http://edge/v1/models/auto:speed")).json()).toMatchObject({ id: "auto:speed" });
    const one = await SELF.fetch("http://edge/v1/models/rung-small");
    expect(await one.json()).toMatchObject({ id: "rung-small", object: "model" });
    await expectError(await SELF.fetch("http://edge/v1/models/nope"), 404, "model_not_found");
    node.close();
  });

  it("refuses bad input with 400 in OpenAI's error shape, naming the field", async () => {
    const notJson = await SELF.fetch("http://edge/v1/chat/completions", { method: "POST", body: "{nope" });
    await expectError(notJson, 400, "invalid_json");
    const error = await expectError(await chat({ model: "auto", messages: [] }), 400);
    expect(error.param).toBe("messages");
    expect((await expectError(await chat({ model: "auto", temperature: 7 }), 400)).param).toBe("temperature");
    expect((await expectError(await chat({ model: "auto", n: 3 }), 400)).param).toBe("n");
    await expectError(await chat({}), 400);
  });

  it("refuses what no node honours, rather than answer wrongly", async () => {
    const tools = [{ type: "function", function: { name: "f", parameters: {} } }];
    expect(
      (await expectError(await chat({ model: "auto", tools, tool_choice: { type: "function", function: { name: "g" } } }), 400)).param,
    ).toBe("tool_choice");
    expect((await expectError(await chat({ model: "auto", response_format: { type: "grammar" } }), 400)).param).toBe(
      "response_format.type",
    );
    expect((await expectError(await chat({ model: "auto", logprobs: true }), 400)).param).toBe("logprobs");
    const image = [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:," } }] }];
    const error = await expectError(await chat({ model: "auto", messages: image }), 400);
    expect(error.param).toMatch(/^messages\.0\.content\.0\./);
    expect(error.message).not.toMatch(/Invalid input$/);
  });

  it("answers 503 when no node is connected, and 404 for unknown routes and models", async () => {
    await expectError(await chat({ model: "auto" }), 503, "no_capable_node");
    await expectError(await SELF.fetch("http://edge/v2/nothing"), 404, "unknown_url");
    const node = await TestNode.join("a", [model("rung-small", 1_000_000)]);
    await expectError(await chat({ model: "gpt-4o" }), 404, "model_not_found");
    node.close();
  });

  it("requires an API key when keys are configured", async () => {
    const env = { RUNG_API_KEYS: "sk-one, sk-two" };
    const denied = await app.request("/v1/models", {}, env);
    expect((await expectError(denied, 401, "invalid_api_key")).message).toMatch(/Bearer/);
    const wrong = await app.request("/v1/models", { headers: { authorization: "Bearer sk-three" } }, env);
    await expectError(wrong, 401);
  });

  it("requires the join token from nodes when one is configured", async () => {
    const env = { RUNG_NODE_TOKEN: "join-me" };
    const refused = await app.request("/v1/nodes/connect", { headers: { upgrade: "websocket" } }, env);
    await expectError(refused, 401, "invalid_node_token");
    const plain = await SELF.fetch("http://edge/v1/nodes/connect");
    await expectError(plain, 400, "websocket_expected");
  });

  it("accepts fields it does not use, as OpenAI clients send them", async () => {
    const node = await TestNode.join("a", [model("rung-small", 1_000_000)]);
    const neutral = { tools: [], tool_choice: "none", response_format: { type: "text" }, logprobs: false };
    const pending = chat({
      model: "auto",
      user: "u1",
      metadata: { a: "b" },
      store: false,
      frequency_penalty: 0,
      logit_bias: {},
      ...neutral,
    });
    node.answer(await node.next("job"), ["fine"]);
    expect((await pending).status).toBe(200);
    node.close();
  });
});
