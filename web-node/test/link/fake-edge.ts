import { type EdgeMessage, type NodeMessage, nodeMessageSchema, PING_FRAME, PONG_FRAME, parseFrame } from "@rung/shared/protocol";
import { type WebSocket as NodeWebSocket, WebSocketServer } from "ws";
import { WAIT_MS, type Wakeups } from "./wakeups.ts";

/** One tab socket as the edge sees it. */
export interface Connection {
  socket: NodeWebSocket;
  /** Every frame the tab sent, parsed with the shared schema; pings are answered, not kept. */
  frames: NodeMessage[];
  /** Frames that failed the shared schema; a correct tab sends none. */
  badFrames: string[];
  pings: number;
  send(frame: EdgeMessage): void;
  /** The first frame, already received or not, that matches. */
  waitFor<T extends NodeMessage>(predicate: (frame: NodeMessage) => frame is T, timeoutMs?: number): Promise<T>;
  /** The close code once the socket has closed, whichever side closed it. */
  closeCode: number | undefined;
  /** Resolves with the close code once the socket has closed. */
  closed(timeoutMs?: number): Promise<number>;
}

/** The edge's side of the donate socket, with the shared schemas. */
export class FakeEdge {
  readonly connections: Connection[] = [];
  readonly #wss: WebSocketServer;
  readonly #wakeups: Wakeups;

  private constructor(wss: WebSocketServer, wakeups: Wakeups) {
    this.#wss = wss;
    this.#wakeups = wakeups;
    wss.on("connection", (socket) => this.#accept(socket));
  }

  static async start(wakeups: Wakeups): Promise<FakeEdge> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve, reject) => wss.once("listening", resolve).once("error", reject));
    return new FakeEdge(wss, wakeups);
  }

  get url(): string {
    const { port } = this.#wss.address() as { port: number };
    return `ws://127.0.0.1:${port}/v1/donate/connect`;
  }

  /** Connection number `index` (0-based) once the tab has opened it. */
  async connection(index: number, timeoutMs = WAIT_MS): Promise<Connection> {
    await this.#wakeups.until(() => this.connections.length > index, `connection ${index}`, timeoutMs);
    return this.connections[index]!;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(socket: NodeWebSocket): void {
    const wakeups = this.#wakeups;
    const connection: Connection = {
      socket,
      frames: [],
      badFrames: [],
      pings: 0,
      send: (frame) => socket.send(JSON.stringify(frame)),
      async waitFor(predicate, timeoutMs = WAIT_MS) {
        await wakeups.until(() => this.frames.some(predicate), `a frame ${predicate.name}`.trim(), timeoutMs);
        return this.frames.find(predicate) as never;
      },
      closeCode: undefined,
      async closed(timeoutMs = WAIT_MS) {
        await wakeups.until(() => this.closeCode !== undefined, "the socket to close", timeoutMs);
        return this.closeCode!;
      },
    };
    socket.once("close", (code) => {
      connection.closeCode = code;
      wakeups.wake();
    });
    socket.on("message", (data, isBinary) => {
      const text = data.toString();
      // The real edge answers pings by hibernation auto-response; so does this one.
      if (!isBinary && text === PING_FRAME) {
        connection.pings++;
        socket.send(PONG_FRAME);
      } else {
        const parsed = parseFrame(nodeMessageSchema, text);
        if (parsed.ok) connection.frames.push(parsed.value);
        else connection.badFrames.push(`${parsed.error.message}: ${text}`);
      }
      wakeups.wake();
    });
    this.connections.push(connection);
    wakeups.wake();
  }
}
