import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalFabric, startFabric } from "./harness/fabric.ts";

/**
 * `rung-agent --model echo:<id>` (a benchmark aid) through the real CLI and
 * edge: it joins without loading anything and answers exactly max_tokens.
 */
let fabric: LocalFabric;

beforeAll(async () => {
  fabric = await startFabric({ agents: [{ name: "agent-echo", models: ["echo:bench"], serves: ["bench"] }] });
});

afterAll(() => fabric?.stop());

/** 200 words cycled from three: 66 rounds, then two more. */
const ANSWER = `${"alpha beta gamma".repeat(66)}alpha beta `;
const request = { model: "bench", messages: [{ role: "user" as const, content: "alpha beta gamma" }], max_tokens: 200 };

describe("an echo agent, end to end", () => {
  it("warns at start that it serves echo models", () => {
    expect(fabric.agent("agent-echo").output.join("")).toMatch(/echo models \(a benchmark aid\)/);
  });

  it("fills max_tokens from a short prompt", async () => {
    const answer = await fabric.client.chat.completions.create(request);
    expect(answer.choices[0]!.message.content).toBe(ANSWER);
    expect(answer.choices[0]!.finish_reason).toBe("length");
    expect(answer.usage?.completion_tokens).toBe(200);
  });

  it("streams the same text", async () => {
    const stream = await fabric.client.chat.completions.create({ ...request, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(ANSWER);
  });
});
