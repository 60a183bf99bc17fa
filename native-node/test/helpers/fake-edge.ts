import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type EdgeMessage, type NodeMessage, nodeMessageSchema, PING_FRAME, PONG_FRAME, parseFrame } from "@rung/shared/protocol";
import { type WebSocket, WebSocketServer } from "ws";

/** One node socket as the fake edge sees it. */
export interface EdgeConnection {
  socket: WebSocket;
  request: IncomingMessage;
  /** Every frame the node sent, parsed with the shared schema (pings excluded). */
  frames: NodeMessage[];
  /** Frames that failed the shared schema; a correct node sends none. */
  badFrames: string[];
  send(frame: EdgeMessage): void;
  /** Resolves with the first frame (already received or not) that matches. */
  waitFor<T extends NodeMessage>(predicate: (frame: NodeMessage) => frame is T, timeoutMs?: number): Promise<T>;
  closed: Promise<void>;
}

export interface FakeEdgeOptions {
  /** When set, upgrades without `Authorization: Bearer <token>` get HTTP 401 like the real edge. */
  token?: string;
  /** When set, every upgrade gets this HTTP status instead, like a proxy that strips `Upgrade`. */
  refuseUpgradesWith?: number;
}

/**
 * A real `ws` server on 127.0.0.1 playing the edge's side of the protocol with
 * the shared schemas, so link tests exercise real sockets, not mocks.
 */
export class FakeEdge {
  readonly connections: EdgeConnection[] = [];
  readonly #http: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #waiters = new Set<() => void>();

  private constructor(http: Server) {
    this.#http = http;
  }

  static async start(options: FakeEdgeOptions = {}): Promise<FakeEdge> {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const edge = new FakeEdge(http);
    http.on("upgrade", (request, socket, head) => {
      // A refused client may reset the connection; that is its right, not a test failure.
      socket.on("error", () => {});
      const url = new URL(request.url ?? "/", "http://localhost");
      if (url.pathname !== "/v1/nodes/connect") {
        socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (options.refuseUpgradesWith) {
        socket.end(`HTTP/1.1 ${options.refuseUpgradesWith} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
        const body = JSON.stringify({ error: { message: "Invalid node token.", type: "invalid_request_error" } });
        socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        return;
      }
      edge.#wss.handleUpgrade(request, socket, head, (ws) => edge.#accept(ws, request));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    return edge;
  }

  get url(): string {
    const { port } = this.#http.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Resolves with connection number `index` (0-based) once the node has opened it. */
  async connection(index: number, timeoutMs = 5_000): Promise<EdgeConnection> {
    await until(() => this.connections.length > index, timeoutMs, this.#waiters, `connection ${index}`);
    return this.connections[index]!;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    this.#wss.close();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #accept(socket: WebSocket, request: IncomingMessage): void {
    const waiters = new Set<() => void>();
    const frames: NodeMessage[] = [];
    const badFrames: string[] = [];
    const connection: EdgeConnection = {
      socket,
      request,
      frames,
      badFrames,
      send: (frame) => socket.send(JSON.stringify(frame)),
      async waitFor(predicate, timeoutMs = 5_000) {
        await until(() => frames.some(predicate), timeoutMs, waiters, "frame");
        return frames.find(predicate) as never;
      },
      closed: new Promise((resolve) => socket.once("close", () => resolve())),
    };
    socket.on("message", (data) => {
      const text = data.toString();
      // The real edge answers pings without waking its Durable Object; so does this one.
      if (text === PING_FRAME) return socket.send(PONG_FRAME);
      const parsed = parseFrame(nodeMessageSchema, text);
      if (!parsed.ok) badFrames.push(`${parsed.error.message}: ${text}`);
      else frames.push(parsed.value);
      for (const wake of waiters) wake();
    });
    this.connections.push(connection);
    for (const wake of this.#waiters) wake();
  }
}

/** Wait until `ready()` holds, re-checking whenever a waiter is woken; fail after `timeoutMs`. */
function until(ready: () => boolean, timeoutMs: number, waiters: Set<() => void>, what: string): Promise<void> {
  if (ready()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const check = () => {
      if (!ready()) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve();
    };
    waiters.add(check);
  });
}
