import type { AddressInfo } from "node:net";
import { type Hello, PROTOCOL_VERSION } from "@rung/shared/protocol";
import { type WebSocket, WebSocketServer } from "ws";

// Nodes here write `type` first, so a prefix tells the frames apart without parsing every chunk.
const DONE_PREFIX = '{"type":"done"';
const HELLO_PREFIX = '{"type":"hello"';

/**
 * Plays the edge for nodes with nothing behind it: welcomes them (at this protocol, so they may
 * batch), sends jobs and notes when each `done` arrives, reading no other frame. What a node
 * sends it at full speed is the node's own rate, the ceiling of any relay in front of it.
 */
export class FrameSink {
  readonly #server: WebSocketServer;
  readonly #nodes = new Map<string, WebSocket>();
  readonly #waiting = new Map<string, () => void>();
  #jobs = 0;

  private constructor(server: WebSocketServer) {
    this.#server = server;
    server.on("connection", (socket) => socket.on("message", (data) => this.#receive(socket, String(data))));
  }

  static async start(): Promise<FrameSink> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => server.once("listening", resolve));
    return new FrameSink(server);
  }

  /** Where nodes dial, as an edge's base URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** One job of `tokens` tokens for the node serving `model`; resolves when its done arrives. */
  job(model: string, tokens: number): Promise<void> {
    const node = this.#nodes.get(model);
    if (!node) throw new Error(`no node serves ${model} at the sink`);
    const jobId = `sink-${this.#jobs++}`;
    const sampling = { maxTokens: tokens, temperature: 0, topP: 1, stop: [] };
    const done = new Promise<void>((resolve) => this.#waiting.set(jobId, resolve));
    node.send(
      JSON.stringify({ type: "job", jobId, model, input: { kind: "chat", messages: [{ role: "user", content: "tok " }] }, sampling }),
    );
    return done;
  }

  close(): Promise<void> {
    for (const client of this.#server.clients) client.terminate();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #receive(socket: WebSocket, text: string): void {
    if (text.startsWith(DONE_PREFIX)) {
      const jobId = (JSON.parse(text) as { jobId: string }).jobId;
      this.#waiting.get(jobId)?.();
      this.#waiting.delete(jobId);
    } else if (text.startsWith(HELLO_PREFIX)) {
      for (const model of (JSON.parse(text) as Hello).models) this.#nodes.set(model.id, socket);
      socket.send(JSON.stringify({ type: "welcome", nodeId: `sink-node-${this.#nodes.size}`, protocol: PROTOCOL_VERSION }));
    }
  }
}
