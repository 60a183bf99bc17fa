import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { AgentProcess } from "./harness/agent-process.ts";
import { type LocalEdge, startLocalEdge } from "./harness/local-edge.ts";
import { modelCache } from "./harness/paths.ts";

/**
 * The agent's fault-injection flags (a testing aid) through the real CLI and
 * edge: the first job fails with a retryable `fault_injected` error, and every
 * job's first token comes late. How the edge reacts (retry, fallback) is the
 * ladder's business; this checks that the agent misbehaves as documented.
 */
const MODEL = "rung-tiny";
const DELAY_MS = 700;
let edge: LocalEdge;
let agent: AgentProcess;
let client: OpenAI;

beforeAll(async () => {
  const tiny = await ensureTestModel("tiny", modelCache);
  edge = await startLocalEdge();
  const extraArgs = ["--fault-fail-jobs", "1", "--fault-first-token-delay-ms", String(DELAY_MS)];
  agent = new AgentProcess({ edge: edge.url, name: "agent-faulty", models: [tiny], extraArgs });
  await agent.joined([MODEL]);
  client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "not-needed-locally", maxRetries: 0 });
});

afterAll(async () => {
  await agent?.stop();
  await edge?.dispose();
});

const request = { model: MODEL, messages: [{ role: "user" as const, content: "Hi" }], max_tokens: 4, temperature: 0 };

describe("fault injection, end to end", () => {
  it("warns at start that faults are on", () => {
    expect(agent.output.join("")).toMatch(/fault injection on/);
  });

  it("fails the first job with fault_injected, then answers every job after the delay", async () => {
    // The edge may retry the failed job (it is retryable) or report it: either way the fault shows.
    const first = await client.chat.completions.create(request).then(
      (answer) => (answer as unknown as { rung: { attempts: { outcome: string }[] } }).rung.attempts.map((a) => a.outcome),
      (error: unknown) => [(error as InstanceType<typeof OpenAI.APIError>).code ?? String(error)],
    );
    expect(first.join(" ")).toMatch(/fault_injected/);

    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const answer = await client.chat.completions.create(request);
      expect(performance.now() - started).toBeGreaterThanOrEqual(DELAY_MS);
      expect(answer.choices[0]!.finish_reason).toMatch(/^(stop|length)$/);
    }
  });
});
