import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentProcess } from "./harness/agent-process.ts";
import { type LocalFabric, startFabric, testModel } from "./harness/fabric.ts";

/**
 * The agent's fault-injection flags (a testing aid) through the real CLI and
 * edge: the first job fails with a retryable `fault_injected` error, and every
 * job's first token comes late. How the edge reacts (retry, fallback) is the
 * ladder's business; this checks that the agent misbehaves as documented.
 */
const MODEL = "rung-tiny";
const DELAY_MS = 700;
let fabric: LocalFabric;
let agent: AgentProcess;
let client: OpenAI;

beforeAll(async () => {
  const extraArgs = ["--fault-fail-jobs", "1", "--fault-first-token-delay-ms", String(DELAY_MS)];
  fabric = await startFabric({ agents: [{ name: "agent-faulty", models: [await testModel("tiny")], extraArgs }] });
  [agent] = fabric.agents as [AgentProcess];
  client = fabric.client;
});

afterAll(() => fabric?.stop());

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
