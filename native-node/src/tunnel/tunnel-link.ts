import { type InferenceEngine, type NodeIdentity, NodeSession } from "@rung/shared/node";
import {
  type NodeMessage,
  signCall,
  type TunnelHeartbeat,
  TunnelPath,
  type TunnelRegistration,
  type TunnelWelcome,
  tunnelWelcomeSchema,
  WireErrorCode,
  wireError,
} from "@rung/shared/protocol";
import { retryDelayMs } from "@rung/shared/routing";
import { edgeHttpUrl } from "../link/connect-url.ts";
import type { LinkEnd } from "../link/edge-link.ts";
import { errorMessageIn } from "../link/read-refusal.ts";
import { RECONNECT_BACKOFF } from "../link/reconnect-backoff.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { type QuickTunnel, startQuickTunnel } from "./cloudflared.ts";
import { TunnelServer } from "./tunnel-server.ts";

export interface TunnelLinkOptions {
  /** The edge's base URL, e.g. `https://rung.example.workers.dev`. */
  edge: string;
  /** Join token; none when the edge runs without one (local dev). */
  token?: string;
  /** The pool to register with (`?pool=`); default: the one the join token names. */
  pool?: string;
  engine: InferenceEngine;
  identity: NodeIdentity;
  /** The URL the edge reaches this node at. Default: start a cloudflared quick tunnel. */
  publicUrl?: string;
  /** Local port of the node's HTTP endpoint. Default 0, a free port. */
  port?: number;
  /** Default: silent. */
  logger?: Logger;
  /** Starts the tunnel when no public URL is given; tests replace it. */
  startTunnel?: (port: number) => Promise<QuickTunnel>;
}

/**
 * The node's link to the edge when a WebSocket cannot be held: serve the
 * protocol over HTTP on loopback, expose it through a tunnel, register the
 * tunnel's URL with the edge over HTTPS, and keep the registration alive with
 * signed heartbeats. Same surface as EdgeLink, so the agent runs either.
 */
export class TunnelLink {
  readonly session: NodeSession;
  readonly ended: Promise<LinkEnd>;
  /** Resolves at the first registration the edge welcomed. */
  readonly joined: Promise<void>;
  readonly server: TunnelServer;
  readonly #options: TunnelLinkOptions;
  readonly #log: Logger;
  #welcome: TunnelWelcome | undefined;
  #tunnel: QuickTunnel | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #port: number | undefined;
  /** The URL registered with the edge, once known. */
  #url: string | undefined;
  #end: LinkEnd | undefined;
  #resolveEnded!: (end: LinkEnd) => void;
  #resolveJoined!: () => void;

  constructor(options: TunnelLinkOptions) {
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.server = new TunnelServer(() => this.session, this.#log);
    this.session = new NodeSession(options.engine, options.identity, (frame) => this.#onFrame(frame));
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.joined = new Promise((resolve) => (this.#resolveJoined = resolve));
  }

  get nodeId(): string | undefined {
    return this.#welcome?.nodeId;
  }

  /** The local port the node's HTTP endpoint listens on, once started. */
  get serverPort(): number | undefined {
    return this.#port;
  }

  /** A `close()` that lands while this awaits stops what was started so far, and nothing registers. */
  async start(): Promise<void> {
    const port = await this.server.listen(this.#options.port ?? 0);
    this.#port = port;
    // close() ran while the server came up: its own server.close() found nothing listening yet.
    if (this.#end) return this.server.close();
    let url = this.#options.publicUrl;
    if (!url) {
      const tunnel = await (this.#options.startTunnel ?? startQuickTunnel)(port);
      if (this.#end) {
        tunnel.stop();
        return;
      }
      this.#tunnel = tunnel;
      void tunnel.exited.then((code) => this.#onTunnelExit(code));
      url = tunnel.url;
    }
    this.#url = url;
    this.#log.info(`serving the node protocol on 127.0.0.1:${port}, reachable at ${url}`);
    void this.#register(url);
  }

  /** Tell the edge the engine's new figures (a speed measured after joining) now, not at the next heartbeat. */
  heartbeatNow(): void {
    const url = this.#url;
    if (url && this.#welcome) this.#schedule(() => this.#beat(url), 0);
  }

  /** Leave the edge (best effort), stop the heartbeats, the server and the tunnel. */
  async close(): Promise<void> {
    this.#finish({ reason: "closed" });
    const welcome = this.#welcome;
    if (welcome) await this.#leave(welcome);
    this.#tunnel?.stop();
    await this.server.close();
  }

  /** Session frames: job frames go to the calls that carry them; starting to drain tells the edge at once. */
  #onFrame(frame: NodeMessage): void {
    if (frame.type !== "draining") return this.server.deliver(frame);
    this.heartbeatNow();
  }

  /** Without cloudflared the edge cannot reach this node: end the link so a supervisor restarts the agent. */
  #onTunnelExit(code: number | null): void {
    if (this.#end) return;
    const message = `cloudflared exited (${code ?? "killed by a signal"}); the edge can no longer reach this node through the tunnel`;
    this.#log.error(message);
    this.#finish({ reason: "fatal", error: wireError("transport_unavailable", message, false) });
  }

  async #register(url: string): Promise<void> {
    if (this.#end) return;
    const registration: TunnelRegistration = { hello: this.session.hello(), url };
    try {
      const response = await fetch(edgeHttpUrl(this.#options.edge, TunnelPath.register, this.#options.pool), {
        method: "POST",
        headers: { "content-type": "application/json", ...(this.#options.token ? { authorization: `Bearer ${this.#options.token}` } : {}) },
        body: JSON.stringify(registration),
      });
      if (response.status === 400 || response.status === 401 || response.status === 403) {
        // Retrying will not change the edge's mind: a wrong token or an incompatible node.
        const message = await errorMessageOf(response);
        this.#log.error(`the edge refused this node (HTTP ${response.status}): ${message}`);
        return this.#finish({ reason: "fatal", error: wireError(WireErrorCode.unauthorized, message, false) });
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await errorMessageOf(response)}`);
      const welcome = tunnelWelcomeSchema.parse(await response.json());
      // Closed while the edge was answering: close() knew no registration to leave, so leave it here.
      if (this.#end) return void (await this.#leave(welcome));
      this.#welcome = welcome;
      this.server.authorize({ nodeId: this.#welcome.nodeId, secret: this.#welcome.secret });
      this.#failures = 0;
      this.#log.info(`joined as ${welcome.nodeId}${welcome.pool ? ` in pool ${welcome.pool}` : ""} through the tunnel`);
      this.#resolveJoined();
      if (this.#options.pool !== undefined && welcome.pool === undefined) {
        this.#log.warn(`this edge predates pools: it ignored --pool ${this.#options.pool}`);
      }
      // Registering again mid-drain: say so at once, or the edge sends this node new jobs. A speed
      // measured while the registration was on its way is worth telling at once too.
      const now = this.session.draining || this.session.hasNewSpeeds;
      this.#schedule(() => this.#beat(url), now ? 0 : welcome.heartbeatIntervalMs);
    } catch (error) {
      this.#retry(() => this.#register(url), `could not register with the edge (${String(error)})`);
    }
  }

  async #beat(url: string): Promise<void> {
    const welcome = this.#welcome;
    if (this.#end || !welcome) return;
    try {
      const beat: TunnelHeartbeat = { nodeId: welcome.nodeId, heartbeat: await this.session.heartbeat(), draining: this.session.draining };
      // Closed while the report was gathered: the edge has had (or is getting) the goodbye.
      if (this.#end) return;
      const response = await this.#signedPost(welcome, TunnelPath.heartbeat, JSON.stringify(beat));
      if (this.#end) return;
      if (response.status === 404) {
        this.#log.warn("the edge forgot this node; registering again");
        this.server.authorize(undefined);
        return void this.#register(url);
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await errorMessageOf(response)}`);
      this.#failures = 0;
      this.#schedule(() => this.#beat(url), welcome.heartbeatIntervalMs);
    } catch (error) {
      this.#retry(() => this.#beat(url), `heartbeat failed (${String(error)})`);
    }
  }

  #leave(welcome: TunnelWelcome): Promise<void> {
    return this.#signedPost(welcome, TunnelPath.leave, "{}").then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * A call to the pool the welcome named (`?pool=`, which routes it to that pool's
   * Fabric), or with no query to an edge that named none. The signature covers the
   * path without the query: the Fabric that checks it sees the path alone.
   */
  #signedPost(welcome: TunnelWelcome, path: string, body: string): Promise<Response> {
    return signCall(welcome.secret, welcome.nodeId, { method: "POST", path, body }).then((signature) =>
      fetch(edgeHttpUrl(this.#options.edge, path, welcome.pool), {
        method: "POST",
        headers: { "content-type": "application/json", ...signature },
        body,
      }),
    );
  }

  #retry(action: () => Promise<void>, why: string): void {
    if (this.#end) return;
    const delay = retryDelayMs(this.#failures++, RECONNECT_BACKOFF, Math.random);
    this.#log.warn(`${why}; retrying in ${(delay / 1000).toFixed(1)}s`);
    this.#schedule(action, delay);
  }

  /** A no-op once the link ended, so nothing runs after close(). */
  #schedule(action: () => Promise<void>, ms: number): void {
    clearTimeout(this.#timer);
    if (this.#end) return;
    this.#timer = setTimeout(() => void action(), ms);
  }

  #finish(end: LinkEnd): void {
    if (this.#end) return;
    this.#end = end;
    clearTimeout(this.#timer);
    this.#resolveEnded(end);
  }
}

async function errorMessageOf(response: Response): Promise<string> {
  return errorMessageIn(await response.text().catch(() => ""), response.statusText);
}
