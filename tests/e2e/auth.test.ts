import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { AgentProcess } from "./harness/agent-process.ts";
import { type LocalEdge, startLocalEdge } from "./harness/local-edge.ts";
import { modelCache } from "./harness/paths.ts";

/** A deployed edge's secrets: client API keys and the nodes' join token. */
let edge: LocalEdge;
let model: string;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  model = await ensureTestModel("tiny", modelCache);
  edge = await startLocalEdge({ RUNG_API_KEYS: "sk-first,sk-second", RUNG_NODE_TOKEN: "join-secret" });
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await edge?.dispose();
});

function agent(token: string): AgentProcess {
  const started = new AgentProcess({ edge: edge.url, name: `agent-${agents.length}`, models: [model], extraArgs: ["--token", token] });
  agents.push(started);
  return started;
}

describe("with secrets set", () => {
  it("turns away an agent with the wrong join token, saying why", async () => {
    const intruder = agent("guess");
    expect(await intruder.exited).toBe(1);
    expect(intruder.output.join("")).toMatch(/HTTP 401.*Invalid node token/);
  });

  it("serves only clients with a valid API key", async () => {
    await agent("join-secret").joined(["rung-tiny"]);
    const keyless = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
    await expect(keyless.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "sk-second", maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }], max_tokens: 4 });
    expect(answer.model).toBe("rung-tiny");
  });
});
