import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { repoRoot } from "../../../tests/e2e/harness/paths.ts";

export type IdleCommand = { type: "connect"; total: number; batch: number; deadline: number } | { type: "heartbeat" };
/** After a connect: how many joined, how many failed, and the extensions the edge agreed to. */
export type Joined = { connected: number; failed: number; extensions: string };
export type IdleReply = Joined | { sent: number } | { ready: true };

const CHILD = fileURLToPath(new URL("./idle-nodes-child.ts", import.meta.url));

/**
 * A fleet of idle nodes on one edge, held by a child process: each says hello with one slot
 * and a model no request names, then stays silent except for the heartbeats it is told to send.
 * With `deflate` its sockets offer permessage-deflate, as browsers' do (rung-agent's do not);
 * workerd accepts it and keeps compression state for every such socket.
 */
export class IdleNodes {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** Starts the fleet's process, which says when it listens: a command sent before would be lost. */
  static async start(edgeUrl: string, deflate: boolean): Promise<IdleNodes> {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, edgeUrl, deflate ? "deflate" : "plain"], {
      cwd: repoRoot,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const fleet = new IdleNodes(child);
    await fleet.#reply();
    return fleet;
  }

  /** Joins nodes in parallel batches until `total` are connected or `timeoutMs` passes. */
  connect(total: number, timeoutMs: number, batch = 100): Promise<Joined> {
    return this.#ask({ type: "connect", total, batch, deadline: Date.now() + timeoutMs }) as Promise<Joined>;
  }

  /** One heartbeat frame from every node; resolves with the count once all are sent. */
  async heartbeat(): Promise<number> {
    return ((await this.#ask({ type: "heartbeat" })) as { sent: number }).sent;
  }

  /** Drops every socket at once (the process ends) and waits for it. */
  async close(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#exited;
  }

  #ask(command: IdleCommand): Promise<IdleReply> {
    const reply = this.#reply();
    this.#child.send(command);
    return reply;
  }

  #reply(): Promise<IdleReply> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error("the idle fleet's process ended"));
      this.#child.once("exit", onExit);
      this.#child.once("message", (reply: IdleReply) => {
        this.#child.off("exit", onExit);
        resolve(reply);
      });
    });
  }
}
