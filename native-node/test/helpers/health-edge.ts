import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

export interface HealthEdgeOptions {
  /** Upgrades without `Authorization: Bearer <token>` get the real edge's 401. */
  token: string;
  /** Model ids `/health` lists. */
  models: string[];
  /** Added to the clock in the `Date` header, to fake skew. Default 0. */
  clockOffsetMs?: number;
}

/**
 * A real HTTP + WebSocket server on 127.0.0.1 with the two edge endpoints
 * `doctor` touches: `GET /health` and the node upgrade at `/v1/nodes/connect`.
 * It records every frame a node sends, so a test can check that doctor sent none.
 */
export class HealthEdge {
  readonly frames: string[] = [];
  upgrades = 0;
  readonly #http: Server;
  readonly #wss = new WebSocketServer({ noServer: true });

  private constructor(http: Server) {
    this.#http = http;
  }

  static async start(options: HealthEdgeOptions): Promise<HealthEdge> {
    const http = createServer((request, response) => {
      if (request.url !== "/health") return void response.writeHead(404).end();
      const date = new Date(Date.now() + (options.clockOffsetMs ?? 0)).toUTCString();
      response.writeHead(200, { "content-type": "application/json", date }).end(JSON.stringify({ status: "ok", models: options.models }));
    });
    const edge = new HealthEdge(http);
    http.on("upgrade", (request, socket, head) => {
      // A refused client may reset the connection; that is its right, not a test failure.
      socket.on("error", () => {});
      if (request.headers.authorization !== `Bearer ${options.token}`) {
        const body = JSON.stringify({
          error: {
            message: "Invalid node token. Start the node with its join token (RUNG_TOKEN, or --token <join token>).",
            type: "invalid_request_error",
          },
        });
        socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        return;
      }
      edge.#wss.handleUpgrade(request, socket, head, (ws) => {
        edge.upgrades++;
        ws.on("message", (data) => void edge.frames.push(data.toString()));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    return edge;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}
