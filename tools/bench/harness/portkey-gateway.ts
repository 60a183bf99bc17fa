import { type ChildProcess, spawn } from "node:child_process";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { repoRoot } from "../../../tests/e2e/harness/paths.ts";
import { mockAnswer } from "./mock-openai.ts";
import type { ChatTarget } from "./timed-request.ts";

export interface PortkeyGateway {
  /** The gateway as a target for requests relayed to the upstream it was started for. */
  target: ChatTarget;
  dispose(): Promise<void>;
}

const START = join(repoRoot, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");

/**
 * Portkey's open-source gateway (npm `@portkey-ai/gateway`), the peer: its Node build on a
 * loopback port, relaying OpenAI requests to `upstream` (a base URL before `/v1`).
 */
export async function startPortkey(upstream: string): Promise<PortkeyGateway> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [START, `--port=${port}`, "--headless"], { cwd: repoRoot, stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(url)
      .then((response) => response.ok)
      .catch(() => false))
  ) {
    if (child.exitCode !== null) throw new Error(`Portkey's gateway exited (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error("Portkey's gateway did not start within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const headers = { "x-portkey-provider": "openai", "x-portkey-custom-host": `${upstream}/v1`, authorization: "Bearer x" };
  const gateway = {
    target: { url, headers },
    dispose: async () => {
      child.kill("SIGKILL");
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
    },
  };
  await checkRelays(gateway.target).catch(async (error) => {
    await gateway.dispose();
    throw error;
  });
  return gateway;
}

/** A gateway that answers 200 with its own text (an error object, a cached body) would measure nothing. */
async function checkRelays(target: ChatTarget): Promise<void> {
  const response = await fetch(`${target.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body: JSON.stringify({ model: "mock", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
  });
  const text = await response.text();
  const content = response.ok
    ? (JSON.parse(text) as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content
    : undefined;
  if (content !== mockAnswer(8))
    throw new Error(`Portkey's gateway did not relay the mock's answer: ${response.status} ${text.slice(0, 300)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}
