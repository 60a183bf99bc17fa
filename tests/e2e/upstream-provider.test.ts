import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalFabric, startFabric, testModel } from "./harness/fabric.ts";

/**
 * An OpenAI-compatible upstream as a rung: edge A has no nodes and one
 * upstream in its policy, which is edge B, a second local edge with a real
 * agent serving rung-tiny and an API key that A holds as a secret. The
 * official client asks A and gets B's agent's answer, explained as the
 * upstream's rung.
 */
const UPSTREAM_KEY = "sk-edge-b";
const hello = [{ role: "user" as const, content: "Hello there" }];

describe("an upstream provider as a rung", () => {
  /** Edge B, with the agent. */
  let upstream: LocalFabric;
  /** Edge A, with only the upstream. */
  let fabric: LocalFabric;
  let client: OpenAI;
  let direct: OpenAI;

  beforeAll(async () => {
    upstream = await startFabric({
      vars: { RUNG_API_KEYS: UPSTREAM_KEY },
      apiKey: UPSTREAM_KEY,
      agents: [{ name: "agent-behind-b", models: [await testModel("tiny")] }],
    });
    const policy = {
      upstreams: [
        {
          name: "edge-b",
          baseUrl: `${upstream.url}/v1`,
          keySecret: "EDGE_B_KEY",
          slots: 4,
          models: [
            { id: "rung-cloud", upstreamModel: "rung-tiny", parameters: 1_000_000_000, contextLength: 512, pricePerMillionTokens: 0.5 },
          ],
        },
      ],
    };
    fabric = await startFabric({ vars: { RUNG_POLICY: JSON.stringify(policy), EDGE_B_KEY: UPSTREAM_KEY } });
    client = fabric.client;
    direct = upstream.client;
  });

  afterAll(() => Promise.all([fabric?.stop(), upstream?.stop()]));

  it("lists the upstream's model among the edge's models", async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain("rung-cloud");
  });

  it("answers through the upstream, with the answer edge B's agent gives, and says which rung and upstream served it", async () => {
    const request = { model: "auto", messages: hello, max_tokens: 12, temperature: 0 } as const;
    const { data, response } = await client.chat.completions.create(request).withResponse();
    expect(response.headers.get("x-rung-model")).toBe("rung-cloud");
    expect(response.headers.get("x-rung-node")).toBe("edge-b");
    expect(data.model).toBe("rung-cloud");
    const fromB = await direct.chat.completions.create({ ...request, model: "rung-tiny" });
    expect(fromB.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.choices[0]?.message.content).toBe(fromB.choices[0]?.message.content);
    expect(data.usage?.completion_tokens).toBe(fromB.usage?.completion_tokens);
  });

  it("streams through the upstream the same text it answers whole", async () => {
    const request = { model: "rung-cloud", messages: hello, max_tokens: 12, temperature: 0 } as const;
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions
      .create({ ...request, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(stream.response.headers.get("x-rung-node")).toBe("edge-b");
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream.data) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage ??= chunk.usage;
    }
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it("serves legacy completions through the upstream's /completions", async () => {
    const answer = await client.completions.create({ model: "rung-cloud", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
    const fromB = await direct.completions.create({ model: "rung-tiny", prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
    expect(answer.model).toBe("rung-cloud");
    expect(answer.choices[0]?.text).toBe(fromB.choices[0]?.text);
  });
});
