// `npm start`: the local fabric on one machine. The edge runs in workerd via
// `wrangler dev` (no Cloudflare account needed) and one rung-agent serves a
// generated default model, or RUNG_MODEL=<path|hf:uri>. The edge's donate page
// offers the same GGUF to browser tabs, from a loopback model host. Ctrl-C
// stops everything, letting the agent finish what it is answering first.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTestModel } from "../tools/gguf/make-test-model.ts";
import { startModelFileServer } from "../tools/gguf/model-file-server.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = Number(process.env.RUNG_PORT ?? 8787);
const edge = `http://127.0.0.1:${port}`;
// The dashboard and the admin API need an admin key: a fresh one each start (or RUNG_ADMIN_KEY), printed below.
const adminKey = process.env.RUNG_ADMIN_KEY ?? randomBytes(18).toString("base64url");

const model = process.env.RUNG_MODEL ?? (await ensureTestModel("small", join(root, ".cache", "models")));
const children: ChildProcess[] = [];

const donatedModel = await donatePolicy(model);

const wrangler = start(
  "edge",
  "npx",
  // Open: a local fabric serves without keys and takes nodes without a join token. A deployed edge is closed.
  [
    "wrangler",
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--show-interactive-dev-session=false",
    "--var",
    "RUNG_OPEN_EDGE:true",
    "--var",
    `RUNG_ADMIN_KEY:${adminKey}`,
    ...donatedModel.args,
  ],
  {
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME ?? join(root, ".cache", "xdg"),
  },
);
await waitFor(async () => (await fetch(`${edge}/health`)).ok, "the edge to listen", 60_000);

const agentArgs = [join(root, "native-node", "bin", "rung-agent.js"), "--edge", edge, "--model", model, "--name", "local-agent"];
const agent = start("agent", process.execPath, agentArgs, {});
let agentOutput = "";
agent.stderr?.on("data", (data: Buffer) => (agentOutput += data.toString()));
// Loading (or first downloading) a model can take minutes: wait for the agent's own word.
await waitFor(async () => agentOutput.includes("joined as"), "the agent to join", 60 * 60_000);
const list = (await (await fetch(`${edge}/v1/models`)).json()) as { data: { id: string }[] };
const modelIds = list.data.map((m) => m.id).filter((id) => id !== "auto");

console.log(`
Rung is running, open to everyone on this machine (RUNG_OPEN_EDGE=true: no API key or join token
needed). A deployed edge is closed: see docs/operating.md for keys, tiers and pools.

  API base URL   ${edge}/v1
  models         auto (smallest capable first), ${modelIds.join(", ")}
  health         ${edge}/health
  status         ${edge}/v1/status   (the ladder: models, nodes, breakers, queue)
  donate page    ${edge}/donate      (a browser tab joins as a node${donatedModel.id ? ` serving ${donatedModel.id} with wllama` : ""})
  dashboard      ${edge}/dashboard#key=${adminKey}   (nodes, requests, traffic, keys, playground)
  admin key      ${adminKey}   (for /admin/*: keys, join tokens, policy, usage)

Try it:

  curl ${edge}/v1/chat/completions \\
    -H 'content-type: application/json' \\
    -d '{"model":"auto","messages":[{"role":"user","content":"Hello!"}],"max_tokens":32}'

Or with the OpenAI SDK (npm install openai):

  import OpenAI from "openai";
  const client = new OpenAI({ baseURL: "${edge}/v1", apiKey: "local" });
  const answer = await client.chat.completions.create({
    model: "auto",
    messages: [{ role: "user", content: "Hello!" }],
  });
  console.log(answer.model, answer.choices[0].message.content);

Ctrl-C stops the agent (after its jobs) and the edge.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    stop(agent, "SIGTERM");
    agent.once("exit", () => {
      stop(wrangler, "SIGTERM");
      process.exit(0);
    });
  });
}
for (const child of children) {
  child.once("exit", (code) => {
    if (stopping) return;
    console.error(`a part of the local fabric stopped unexpectedly (exit ${code}); stopping the rest.`);
    for (const other of children) stop(other, "SIGTERM");
    process.exit(1);
  });
}

/**
 * RUNG_POLICY as given, or a policy that offers the local GGUF to donated tabs
 * from a loopback model host (the edge's assets are for the page, not for models).
 */
async function donatePolicy(modelPath: string): Promise<{ args: string[]; id?: string }> {
  if (process.env.RUNG_POLICY) return { args: ["--var", `RUNG_POLICY:${process.env.RUNG_POLICY}`] };
  if (!modelPath.endsWith(".gguf")) return { args: [] };
  const files = await startModelFileServer(dirname(modelPath));
  const id = basename(modelPath, ".gguf");
  const policy = { donate: { ggufModels: [{ id, url: `${files.url}/${basename(modelPath)}` }] } };
  return { args: ["--var", `RUNG_POLICY:${JSON.stringify(policy)}`], id };
}

function start(label: string, command: string, args: string[], env: Record<string, string>): ChildProcess {
  // Each child leads its own process group, so stopping it also stops what it started (npx → wrangler → workerd).
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = (data: Buffer) =>
    data
      .toString()
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => `[${label}] ${line}\n`)
      .join("");
  child.stdout?.on("data", (data: Buffer) => process.stdout.write(prefix(data)));
  child.stderr?.on("data", (data: Buffer) => process.stderr.write(prefix(data)));
  children.push(child);
  return child;
}

function stop(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const child of children) {
      if (child.exitCode !== null) throw new Error(`gave up waiting for ${what}: a process exited with ${child.exitCode}`);
    }
    const value = await probe().catch(() => undefined);
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000}s`);
}
