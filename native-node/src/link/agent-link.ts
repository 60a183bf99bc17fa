import type { InferenceEngine, NodeIdentity, NodeSession } from "@rung/shared/node";
import type { Logger } from "../log/logger.ts";
import { TunnelLink } from "../tunnel/tunnel-link.ts";
import { EdgeLink, type LinkEnd } from "./edge-link.ts";

export const TRANSPORTS = ["auto", "websocket", "tunnel"] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface AgentLinkOptions {
  edge: string;
  token?: string;
  /** The pool to join; default: the one the join token names. */
  pool?: string;
  engine: InferenceEngine;
  identity: NodeIdentity;
  logger: Logger;
  /** `auto` holds a WebSocket and falls back to the tunnel when it cannot. Default `auto`. */
  transport?: Transport;
  /** Tunnel transport: the URL the edge reaches this node at; default a cloudflared quick tunnel. */
  publicUrl?: string;
  /** Tunnel transport: local port of the node's HTTP endpoint; default any free port. */
  tunnelPort?: number;
}

/**
 * The agent's link to the edge over whichever transport works: a WebSocket,
 * the tunnel, or (`auto`) a WebSocket until the upgrade is refused or the
 * socket keeps dropping, then the tunnel for good.
 */
export class AgentLink {
  readonly ended: Promise<LinkEnd>;
  /** Resolves when the node first joined, over whichever transport; never if it never does. */
  readonly joined: Promise<void>;
  #current: EdgeLink | TunnelLink;
  /** Set by close(); #run checks it after each await so a shutdown mid-switch starts no tunnel. */
  #closed = false;

  #resolveJoined!: () => void;

  constructor(private readonly options: AgentLinkOptions) {
    this.joined = new Promise((resolve) => (this.#resolveJoined = resolve));
    const transport = options.transport ?? "auto";
    this.#current = transport === "tunnel" ? this.#tunnel() : this.#websocket(transport === "auto");
    this.ended = this.#run();
  }

  /** The session of the transport in use: jobs, draining. */
  get session(): NodeSession {
    return this.#current.session;
  }

  /** Tell the edge the engine's new figures (a speed measured after joining) now, over whichever transport is in use. */
  heartbeatNow(): void {
    this.#current.heartbeatNow();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#current.close();
  }

  async #run(): Promise<LinkEnd> {
    const end = (await this.#start()) ?? (await this.#current.ended);
    if (end.reason !== "unusable" || this.#closed) return end;
    this.options.logger.warn(`WebSockets do not work here (${end.why}); falling back to the tunnel transport`);
    await this.#current.close();
    if (this.#closed) return { reason: "closed" };
    this.#current = this.#tunnel();
    // A close() from here on reaches the tunnel link itself, which stops its own start.
    return (await this.#start()) ?? this.#current.ended;
  }

  /** Start the current transport; a failure to start (no cloudflared, say) ends the link. */
  async #start(): Promise<LinkEnd | undefined> {
    try {
      await this.#current.start();
      return undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.error(
        `the ${this.#current instanceof TunnelLink ? "tunnel" : "WebSocket"} transport could not start: ${message}`,
      );
      return { reason: "fatal", error: { code: "transport_unavailable", message, retryable: false } };
    }
  }

  #websocket(giveUpWhenUnusable: boolean): EdgeLink {
    const { edge, token, pool, engine, identity, logger } = this.options;
    const link = new EdgeLink({ edge, token, pool, engine, identity, logger, giveUpWhenUnusable });
    void link.joined.then(this.#resolveJoined);
    return link;
  }

  #tunnel(): TunnelLink {
    const { edge, token, pool, engine, identity, logger, publicUrl, tunnelPort } = this.options;
    const link = new TunnelLink({ edge, token, pool, engine, identity, logger, publicUrl, port: tunnelPort });
    void link.joined.then(this.#resolveJoined);
    return link;
  }
}
