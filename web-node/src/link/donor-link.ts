import { type InferenceEngine, type NodeIdentity, NodeSession } from "@rung/shared/node";
import { type NodeMessage, PING_FRAME, PONG_FRAME, type WireError } from "@rung/shared/protocol";
import ReconnectingWebSocket from "partysocket/ws";

export type LinkState =
  | { state: "connecting"; attempt: number }
  | { state: "joined"; nodeId: string }
  | { state: "refused"; error: WireError }
  | { state: "closed" };

export interface DonorLinkOptions {
  /** ws:// or wss:// URL of the edge's donate entrance. */
  url: string;
  engine: InferenceEngine;
  identity: NodeIdentity;
  onState(state: LinkState): void;
  /** Keep-alive period in ms. Default 15000. */
  pingIntervalMs?: number;
  /** Heartbeat period in ms (load and measured speed). Default 15000. */
  heartbeatIntervalMs?: number;
  /** The WebSocket class; browsers have one, Node 20 (tests) passes `ws`. Default `globalThis.WebSocket`. */
  WebSocket?: typeof globalThis.WebSocket;
}

/** Drain deadline when the donor pauses or stops: the job in hand finishes, or is handed back after this. */
export const HAND_BACK_AFTER_MS = 30_000;

/**
 * A tab's socket to the edge: partysocket reconnects (with a random wait first,
 * so a pool of tabs does not return in lockstep after an edge restart), and
 * `maxEnqueuedMessages: 0` drops frames sent while disconnected, since they
 * belong to jobs the edge has already moved to other nodes. Jobs run in a
 * NodeSession, the same one the native agent uses.
 */
export class DonorLink {
  readonly session: NodeSession;
  readonly #socket: ReconnectingWebSocket;
  readonly #options: DonorLinkOptions;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: DonorLinkOptions) {
    this.#options = options;
    this.session = new NodeSession(options.engine, options.identity, (frame) => this.#send(frame), {
      onWelcome: (welcome) => {
        options.onState({ state: "joined", nodeId: welcome.nodeId });
        this.session.startHeartbeats(welcome.protocol, options.heartbeatIntervalMs ?? 15_000);
      },
      onRefused: (error) => this.#onRefused(error),
      // A frame this tab cannot read is the edge's bug, not a reason to drop the jobs in hand.
      onBadFrame: (message) => console.warn(`ignoring a frame from the edge: ${message}`),
    });
    this.#socket = new ReconnectingWebSocket(
      async () => {
        options.onState({ state: "connecting", attempt: this.#socket.retryCount });
        if (this.#socket.retryCount > 0) await sleep(Math.random() * 1_000);
        return options.url;
      },
      [],
      {
        maxEnqueuedMessages: 0,
        minReconnectionDelay: 500,
        maxReconnectionDelay: 30_000,
        connectionTimeout: 10_000,
        WebSocket: options.WebSocket,
      },
    );
    this.#socket.addEventListener("open", () => this.#onOpen());
    this.#socket.addEventListener("message", (event) => this.#onMessage(event.data));
    this.#socket.addEventListener("close", () => this.#onClose());
  }

  /**
   * Take no new jobs, let the one in hand finish (or hand it back as retryable
   * after `deadlineMs`), then close the socket for good.
   */
  async close(deadlineMs = HAND_BACK_AFTER_MS): Promise<void> {
    if (this.#closed) return;
    await this.session.drain(deadlineMs, 1_000);
    this.#closed = true;
    this.#stopTimers();
    this.#socket.close(1000, "donor stopped");
    this.#options.onState({ state: "closed" });
  }

  #onOpen(): void {
    this.#send(this.session.hello());
    const interval = this.#options.pingIntervalMs ?? 15_000;
    this.#pingTimer = setInterval(() => this.#socket.send(PING_FRAME), interval);
  }

  #onMessage(data: unknown): void {
    if (typeof data !== "string" || data === PONG_FRAME) return;
    this.session.receive(data);
  }

  /** Retrying cannot change the edge's mind (a refused hello, a closed pool): stop for good. */
  #onRefused(error: WireError): void {
    this.#closed = true;
    this.#stopTimers();
    this.session.abortAll();
    this.#socket.close(1000, "refused by the edge");
    this.#options.onState({ state: "refused", error });
  }

  #onClose(): void {
    this.#stopTimers();
    // The edge fails a dropped node's jobs over to other nodes; finishing them here would help nobody.
    this.session.abortAll();
    // partysocket schedules the next attempt (counting it in retryCount) before it dispatches `close`.
    if (!this.#closed) this.#options.onState({ state: "connecting", attempt: this.#socket.retryCount });
  }

  #stopTimers(): void {
    clearInterval(this.#pingTimer);
    this.session.stopHeartbeats();
  }

  #send(frame: NodeMessage): void {
    this.#socket.send(JSON.stringify(frame));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
