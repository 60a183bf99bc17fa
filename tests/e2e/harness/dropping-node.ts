import {
  type Chunk,
  type EdgeMessage,
  edgeMessageSchema,
  type Hello,
  type Job,
  type ModelInfo,
  PROTOCOL_VERSION,
  parseFrame,
} from "@rung/shared/protocol";
import WebSocket from "ws";

/** What a dropping node sends of each answer before its socket goes: text no real model of the test produces. */
export const DROPPED_PIECE = "<dropped>";

/**
 * A node that joins the edge over a WebSocket serving a model, takes the first
 * job it is given, sends `chunks` pieces of wrong text, and then cuts its socket
 * (no close handshake, as a crashed machine or a lost network does). The edge
 * must replace its partial answer before committing to it, or end the stream
 * with an error event: its text must never reach a client as an answer.
 */
export class DroppingNode {
  readonly #socket: WebSocket;
  readonly #frames: EdgeMessage[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data: Buffer) => {
      const parsed = parseFrame(edgeMessageSchema, data.toString("utf8"));
      if (parsed.ok) this.#frames.push(parsed.value);
      this.#wake?.();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake?.();
    });
    // A cut socket reports an error; cutting it was the point.
    socket.on("error", () => {});
  }

  /** Joins `edge` as `name` with one slot for `model`; resolves once the edge welcomed it. */
  static async join(edge: string, name: string, model: ModelInfo): Promise<DroppingNode> {
    const url = new URL("/v1/nodes/connect", edge);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const node = new DroppingNode(socket);
    const hello: Hello = {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      node: { name, kind: "native", engine: "llama-cpp", slots: 1 },
      models: [{ ...model, slots: 1 }],
    };
    socket.send(JSON.stringify(hello));
    await node.#next("welcome", 10_000);
    return node;
  }

  /** Waits for a job, answers it with `chunks` wrong pieces and cuts the socket; the job, or undefined when none came in time. */
  async dropNextJob(chunks: number, timeoutMs: number): Promise<Job | undefined> {
    const job = await this.#next("job", timeoutMs).catch(() => undefined);
    for (let seq = 0; job && seq < chunks; seq++) {
      const chunk: Chunk = { type: "chunk", jobId: job.jobId, seq, text: DROPPED_PIECE, confidence: 0.99 };
      this.#socket.send(JSON.stringify(chunk));
    }
    // Let the chunks leave before the socket is cut under them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.#socket.terminate();
    return job;
  }

  async #next<T extends EdgeMessage["type"]>(type: T, timeoutMs: number): Promise<Extract<EdgeMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#frames.findIndex((frame) => frame.type === type);
      if (index >= 0) return this.#frames.splice(index, 1)[0] as Extract<EdgeMessage, { type: T }>;
      if (this.#closed) throw new Error(`socket closed while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
