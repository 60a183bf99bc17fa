import { type ChildProcess, spawn } from "node:child_process";
import { agentBin, repoRoot } from "./paths.ts";

export interface AgentOptions {
  edge: string;
  models: string[];
  name: string;
  extraArgs?: string[];
  /** A key of the agent's pool: on a closed edge `/health` names nodes only to a key. */
  apiKey?: string;
}

/**
 * A real `rung-agent` process, as an owner would start it, with one thread
 * (these machines have 2 cores). Its output is kept for failure messages.
 */
export class AgentProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;

  constructor(readonly options: AgentOptions) {
    const args = ["--edge", options.edge, "--name", options.name, "--threads", "1", ...(options.extraArgs ?? [])];
    for (const model of options.models) args.push("--model", model);
    this.#child = spawn(process.execPath, [agentBin, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    this.#child.stdout?.on("data", (data: Buffer) => this.output.push(data.toString()));
    this.#child.stderr?.on("data", (data: Buffer) => this.output.push(data.toString()));
    this.exited = new Promise((resolve) => this.#child.on("exit", (code) => resolve(code)));
  }

  get pid(): number {
    if (this.#child.pid === undefined) throw new Error("agent did not start");
    return this.#child.pid;
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Wait until this agent takes jobs at the edge and the edge offers every one of these model ids. */
  async joined(modelIds: string[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`agent ${this.options.name} exited (${exitCode}):\n${this.output.join("")}`);
      const headers = this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : undefined;
      const response = await fetch(`${this.options.edge}/health`, { headers }).catch(() => undefined);
      const health = response?.ok ? ((await response.json()) as { models: string[]; nodes: string[] }) : { models: [], nodes: [] };
      if (health.nodes.includes(this.options.name) && modelIds.every((id) => health.models.includes(id))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`agent ${this.options.name} did not join within ${timeoutMs} ms:\n${this.output.join("")}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill("SIGKILL");
    await this.exited;
  }
}
