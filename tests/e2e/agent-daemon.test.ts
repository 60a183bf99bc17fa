import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { AgentProcess } from "./harness/agent-process.ts";
import { type LocalEdge, startLocalEdge } from "./harness/local-edge.ts";
import { modelCache } from "./harness/paths.ts";

/** rung-agent as its owner runs it: several models, a memory budget, a drained shutdown. */
let edge: LocalEdge;
let tiny: string;
let small: string;
let client: OpenAI;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  [tiny, small] = await Promise.all([ensureTestModel("tiny", modelCache), ensureTestModel("small", modelCache)]);
  edge = await startLocalEdge();
  client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "local", maxRetries: 0 });
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await edge?.dispose();
});

function agent(name: string, models: string[], extraArgs: string[] = []): AgentProcess {
  const started = new AgentProcess({ edge: edge.url, name, models, extraArgs });
  agents.push(started);
  return started;
}

const hello = [{ role: "user" as const, content: "Hello" }];

describe("rung-agent as a daemon", () => {
  it("refuses a model too large for its memory limit, saying what it needs and what to try", async () => {
    const cramped = agent("cramped", [small], ["--memory-limit", "1M"]);
    expect(await cramped.exited).toBe(1);
    const output = cramped.output.join("");
    expect(output).toMatch(/cannot serve rung-small/);
    expect(output).toMatch(/1(\.0)? MB memory limit/);
    expect(output).toMatch(/smaller quantization|fewer slots|--context-size/);
  });

  it("serves two models from one agent at once", async () => {
    const both = agent("both", [tiny, small]);
    await both.joined(["rung-tiny", "rung-small"]);
    const [a, b] = await Promise.all(
      ["rung-tiny", "rung-small"].map((model) =>
        client.chat.completions.create({ model, messages: hello, max_tokens: 64, temperature: 0 }).withResponse(),
      ),
    );
    expect([a!.data.model, b!.data.model]).toEqual(["rung-tiny", "rung-small"]);
    expect([a!.response.headers.get("x-rung-node"), b!.response.headers.get("x-rung-node")]).toEqual(["both", "both"]);
  });

  it("on SIGTERM finishes its stream while the edge sends the next request elsewhere", async () => {
    const other = agent("other", [small]);
    await other.joined(["rung-small"]);
    const drained = agents.find((a) => a.options.name === "both")!;
    // rung-tiny is served by `both` alone, so this long stream runs there when the signal lands.
    const { data: stream, response } = await client.chat.completions
      .create({ model: "rung-tiny", messages: hello, max_tokens: 300, temperature: 0, stream: true })
      .withResponse();
    expect(response.headers.get("x-rung-node")).toBe("both");
    let text = "";
    let finish: string | null | undefined;
    let next: Promise<{ data: OpenAI.ChatCompletion; response: Response }> | undefined;
    for await (const chunk of stream) {
      if (!next) {
        drained.signal("SIGTERM");
        // Give the agent a moment to tell the edge it is draining, then ask for more.
        await new Promise((resolve) => setTimeout(resolve, 200));
        next = client.chat.completions.create({ model: "rung-small", messages: hello, max_tokens: 8 }).withResponse();
        // Awaited after the stream ends; until then a rejection must not count as unhandled.
        next.catch(() => {});
      }
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toMatch(/^(stop|length)$/);
    const answered = await next!;
    expect(answered.response.headers.get("x-rung-node")).toBe("other");
    expect(await drained.exited).toBe(0);
  });
});
