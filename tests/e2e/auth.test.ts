import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalFabric, startFabric, testModel } from "./harness/fabric.ts";

/** A deployed edge's secrets: client API keys and the nodes' join token. */
let fabric: LocalFabric;
let model: string;

beforeAll(async () => {
  model = await testModel("tiny");
  fabric = await startFabric({
    vars: { RUNG_OPEN_EDGE: "false", RUNG_API_KEYS: "sk-first,sk-second", RUNG_NODE_TOKEN: "join-secret" },
    apiKey: "sk-second",
  });
});

afterAll(() => fabric?.stop());

const agent = (token: string) => ({ name: `agent-${fabric.agents.length}`, models: [model], extraArgs: ["--token", token] });

describe("with secrets set", () => {
  it("turns away an agent with the wrong join token, saying why", async () => {
    const intruder = fabric.start(agent("guess"));
    expect(await intruder.exited).toBe(1);
    expect(intruder.output.join("")).toMatch(/HTTP 401.*Invalid node token/);
  });

  it("serves only clients with a valid API key", async () => {
    await fabric.join(agent("join-secret"));
    const keyless = new OpenAI({ baseURL: `${fabric.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
    await expect(keyless.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const answer = await fabric.client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
    });
    expect(answer.model).toBe("rung-tiny");
  });
});
