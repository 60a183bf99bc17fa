import { AgentProcess } from "../../../tests/e2e/harness/agent-process.ts";

export interface JoinedAgent {
  /** The process, for its CPU time in /proc. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * A `rung-agent` process serving `source` (a GGUF path or `echo:<id>`) as `model` to an
 * edge, returned once the edge answers a one-token request for the model: the one check
 * that works on the floor, which has no /health, and on Rung alike.
 */
export async function startJoinedAgent(edgeUrl: string, source: string, model: string, extraArgs: string[] = []): Promise<JoinedAgent> {
  const agent = new AgentProcess({ edge: edgeUrl, name: `bench-${model}`, models: [source], extraArgs });
  let exited = false;
  void agent.exited.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!(await answers(edgeUrl, model))) {
    if (exited || Date.now() > deadline) {
      await agent.stop();
      throw new Error(`rung-agent serving ${model} did not join ${edgeUrl}:\n${agent.output.join("")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { pid: agent.pid, stop: () => agent.stop() };
}

async function answers(edgeUrl: string, model: string): Promise<boolean> {
  const response = await fetch(`${edgeUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, max_tokens: 1, messages: [{ role: "user", content: "hi" }] }),
  }).catch(() => undefined);
  await response?.arrayBuffer();
  return response?.ok === true;
}
