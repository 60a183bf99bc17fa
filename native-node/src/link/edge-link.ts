import type { IncomingMessage } from "node:http";
import { type InferenceEngine, type NodeIdentity, NodeSession } from "@rung/shared/node";
import {
  hasMinorVersion,
  type NodeMessage,
  PING_FRAME,
  PONG_FRAME,
  POOLS_SINCE_MINOR,
  type Welcome,
  type WireError,
  WireErrorCode,
  wireError,
} from "@rung/shared/protocol";
import { type BackoffSettings, retryDelayMs } from "@rung/shared/routing";
import WebSocket, { type RawData } from "ws";
import { type Logger, silentLogger } from "../log/logger.ts";
import { connectHeaders, connectUrl } from "./connect-url.ts";
import { readRefusal } from "./read-refusal.ts";
import { RECONNECT_BACKOFF } from "./reconnect-backoff.ts";

export interface EdgeLinkOptions {
  /** The edge's base URL, e.g. `http://127.0.0.1:8787`. */
  edge: string;
  /** Join token; none when the edge runs without one (local dev). */
  token?: string;
  /** The pool to join (`?pool=` on the connect URL); default: the one the join token names. */
  pool?: string;
  engine: InferenceEngine;
  identity: NodeIdentity;
  /** Default: silent. */
  logger?: Logger;
  /** Keep-alive period in ms. Default 15000. */
  pingIntervalMs?: number;
  /** Period of `heartbeat` frames (load and measured speed) in ms, sent once joined to an edge that speaks 1.1+. Default 15000. */
  heartbeatIntervalMs?: number;
  /** Reconnect waits. Default RECONNECT_BACKOFF: 0.5 s growing to 30 s, full jitter. */
  backoff?: BackoffSettings;
  /**
   * Give up on WebSockets (ending with `unusable`) when a proxy strips or refuses
   * the upgrade (HTTP 400, 405, 426, or a 2xx other than 101), or the socket drops
   * three times in two minutes: the agent then falls back to the tunnel
   * transport. A 5xx or 429 keeps retrying. Default false.
   */
  giveUpWhenUnusable?: boolean;
}

/** Why the link stopped for good. */
export type LinkEnd = { reason: "closed" } | { reason: "fatal"; error: WireError } | { reason: "unusable"; why: string };

/** Drops within this window that make a WebSocket count as unusable. */
const UNSTABLE_DROPS = 3;
const UNSTABLE_WINDOW_MS = 120_000;

/** Missed keep-alives before a silent socket counts as dead (NAT boxes drop idle flows quietly). */
const DEAD_AFTER_PINGS = 3;
const CLOSE_NORMAL = 1000;
/** How long `close()` waits for the edge to answer the close handshake. */
const CLOSE_GRACE_MS = 2_000;

/**
 * The agent's one WebSocket to the edge: joins with `hello`, feeds `job` and
 * `cancel` frames to a NodeSession, keeps the socket alive, and reconnects
 * with backoff until closed or told by the edge that retrying cannot help.
 *
 * Built on `ws` rather than partysocket: partysocket's reconnect delay has no
 * jitter, and it queues frames sent while disconnected and replays them on the
 * next socket, where they belong to jobs the edge has already moved elsewhere.
 */
export class EdgeLink {
  readonly session: NodeSession;
  /** Resolves once, when the link stops reconnecting. */
  readonly ended: Promise<LinkEnd>;
  /** Resolves at the first `welcome`: the edge has taken the node's hello. */
  readonly joined: Promise<void>;
  readonly #options: EdgeLinkOptions;
  readonly #url: URL;
  readonly #log: Logger;
  #socket: WebSocket | undefined;
  #attempt = 0;
  #nodeId: string | undefined;
  #end: LinkEnd | undefined;
  #resolveEnded!: (end: LinkEnd) => void;
  #resolveJoined!: () => void;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeardAt = 0;
  #lastError: string | undefined;
  /** When joined sockets dropped, within the unstable window. */
  #drops: number[] = [];
  /** Sockets this side aborted on purpose, whose resulting error is not news. */
  readonly #quiet = new WeakSet<WebSocket>();

  constructor(options: EdgeLinkOptions) {
    this.#options = options;
    this.#url = connectUrl(options.edge, options.pool);
    this.#log = options.logger ?? silentLogger;
    this.session = new NodeSession(options.engine, options.identity, (frame) => this.#send(frame), {
      onWelcome: (welcome) => this.#onWelcome(welcome),
      onRefused: (error) => this.#onRefusedByEdge(error),
      onEdgeError: (error) => this.#log.warn(`the edge reported: ${error.message} [${error.code}]`),
      onBadFrame: (message) => this.#log.warn(`ignoring a frame from the edge: ${message}`),
    });
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.joined = new Promise((resolve) => (this.#resolveJoined = resolve));
  }

  /** The id the edge gave this node in its last `welcome`; undefined until joined. */
  get nodeId(): string | undefined {
    return this.#nodeId;
  }

  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    if (!this.#socket && !this.#end) this.#connect();
  }

  /** Tell the edge the engine's new figures (a speed measured after joining) now, not at the next heartbeat. */
  heartbeatNow(): void {
    this.session.heartbeatNow();
  }

  /** Stop for good: close the socket (after the edge acknowledges, or a short grace) and stop reconnecting. */
  async close(): Promise<void> {
    const socket = this.#socket;
    this.#finish({ reason: "closed" });
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const grace = setTimeout(() => {
        socket.terminate();
        resolve();
      }, CLOSE_GRACE_MS);
      socket.once("close", () => {
        clearTimeout(grace);
        resolve();
      });
      this.#quiet.add(socket);
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(CLOSE_NORMAL, "node shutting down");
    });
  }

  #connect(): void {
    this.#log.info(`connecting to ${this.#url.href}`);
    // No permessage-deflate: frames are small JSON, one per token or a few, so compressing each costs both
    // sides CPU per frame and the edge's runtime about 200 KiB of compression state per socket, for few bytes saved.
    const socket = new WebSocket(this.#url, {
      handshakeTimeout: 10_000,
      headers: connectHeaders(this.#options.token),
      perMessageDeflate: false,
    });
    this.#socket = socket;
    socket.on("open", () => this.#onOpen(socket));
    socket.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on("unexpected-response", (_request, response) => void this.#onRefused(socket, response));
    socket.on("error", (error) => {
      // Reported with the close that always follows, as one line per attempt.
      if (!this.#quiet.has(socket)) this.#lastError = error.message;
    });
    socket.on("close", (code, reason) => this.#onClose(socket, code, reason.toString()));
  }

  #onOpen(socket: WebSocket): void {
    this.#lastHeardAt = Date.now();
    this.#lastError = undefined;
    socket.send(JSON.stringify(this.session.hello()));
    // Rejoining mid-shutdown: the edge must not hand this node new jobs.
    if (this.session.draining) this.#send({ type: "draining" });
    const interval = this.#options.pingIntervalMs ?? 15_000;
    this.#pingTimer = setInterval(() => {
      if (Date.now() - this.#lastHeardAt > interval * DEAD_AFTER_PINGS) {
        this.#log.warn("edge stopped answering keep-alives; reconnecting");
        socket.terminate();
      } else if (socket.readyState === WebSocket.OPEN) socket.send(PING_FRAME);
    }, interval);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    this.#lastHeardAt = Date.now();
    const text = rawText(data);
    if (!isBinary && text === PONG_FRAME) return;
    this.session.receive(text);
  }

  #onWelcome(welcome: Welcome): void {
    this.#attempt = 0;
    this.#nodeId = welcome.nodeId;
    this.#log.info(`joined as ${welcome.nodeId} (protocol ${welcome.protocol})`);
    if (this.#options.pool !== undefined && !hasMinorVersion(welcome.protocol, POOLS_SINCE_MINOR)) {
      this.#log.warn(`this edge predates pools (protocol ${welcome.protocol}): it ignored --pool ${this.#options.pool}`);
    }
    this.session.startHeartbeats(welcome.protocol, this.#options.heartbeatIntervalMs ?? 15_000);
    this.#resolveJoined();
  }

  #onRefusedByEdge(error: WireError): void {
    this.#log.error(`the edge refused this node: ${error.message} [${error.code}]`);
    this.#finish({ reason: "fatal", error });
    this.#socket?.close(CLOSE_NORMAL, "fatal error from edge");
  }

  /** The edge answered the upgrade with plain HTTP: a wrong token will not fix itself by retrying. */
  async #onRefused(socket: WebSocket, response: IncomingMessage): Promise<void> {
    const status = response.statusCode ?? 0;
    const message = await readRefusal(response);
    if (status === 401 || status === 403) {
      // The token may come from --token, RUNG_TOKEN or the config file: say whether there was one, not where from.
      const given = this.#options.token ? "a join token given" : "no join token given";
      this.#log.error(`the edge refused this node (HTTP ${status}, ${given}): ${message}`);
      this.#finish({ reason: "fatal", error: wireError(WireErrorCode.unauthorized, message, false) });
    } else if (this.#options.giveUpWhenUnusable && upgradeStripped(status)) {
      this.#log.warn(`the WebSocket upgrade was refused (HTTP ${status}: ${message})`);
      this.#finish({ reason: "unusable", why: `the upgrade was refused with HTTP ${status}` });
    } else {
      this.#log.warn(`the edge answered HTTP ${status} instead of a WebSocket: ${message}`);
    }
    // Already explained above; the "closed before the connection was established" error would only repeat it.
    this.#quiet.add(socket);
    socket.terminate();
  }

  #onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    clearInterval(this.#pingTimer);
    this.session.stopHeartbeats();
    this.#socket = undefined;
    const wasJoined = this.#nodeId !== undefined;
    this.#nodeId = undefined;
    // The edge has already moved this socket's jobs to other nodes.
    this.session.abortAll();
    if (this.#end) return;
    if (wasJoined && this.#keepsDropping()) {
      return this.#finish({
        reason: "unusable",
        why: `the WebSocket dropped ${UNSTABLE_DROPS} times in ${UNSTABLE_WINDOW_MS / 60_000} minutes`,
      });
    }
    const delay = retryDelayMs(this.#attempt++, this.#options.backoff ?? RECONNECT_BACKOFF, Math.random);
    const why = this.#lastError ?? (reason ? `${code} ${reason}` : `code ${code}`);
    this.#lastError = undefined;
    this.#log.warn(
      `${wasJoined ? "disconnected from the edge" : "could not join the edge"} (${why}); retrying in ${(delay / 1000).toFixed(1)}s`,
    );
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  /** Records a drop; true when the socket dropped too often lately and the caller may use another transport. */
  #keepsDropping(): boolean {
    const now = Date.now();
    this.#drops = [...this.#drops.filter((at) => now - at < UNSTABLE_WINDOW_MS), now];
    return this.#options.giveUpWhenUnusable === true && this.#drops.length >= UNSTABLE_DROPS;
  }

  #finish(end: LinkEnd): void {
    if (this.#end) return;
    this.#end = end;
    clearTimeout(this.#retryTimer);
    this.session.stopHeartbeats();
    this.#resolveEnded(end);
  }

  #send(frame: NodeMessage): void {
    const socket = this.#socket;
    // Frames for a dropped socket belong to jobs the edge has already given up on: drop them too.
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    else this.#log.debug(`dropped a ${frame.type} frame: not connected`);
  }
}

/**
 * Statuses that mean a proxy stripped or refused the `Upgrade`: retrying the
 * WebSocket will not help, the tunnel may. A 5xx or 429 is an edge deploy or a
 * passing overload, so those keep retrying with backoff instead.
 */
function upgradeStripped(status: number): boolean {
  return status === 400 || status === 405 || status === 426 || (status >= 200 && status < 300 && status !== 101);
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
