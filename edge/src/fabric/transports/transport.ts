import type { Chunk, Done, Job, JobError } from "@rung/shared/protocol";
import type { NodeView, Policy } from "@rung/shared/routing";
import type { Env } from "../../env.ts";
import type { NodeAnnouncements } from "../node-announcements.ts";
import type { SlotCounts } from "../slot-counts.ts";

/**
 * Set by the Worker (and only by it: it removes any a node sends) on a node's
 * way in: the id of the admin API's join token it was admitted with.
 */
export const JOIN_TOKEN_HEADER = "x-rung-join-token";

/**
 * One way of reaching nodes (a WebSocket, a signed HTTPS tunnel, an upstream
 * API). The Fabric holds a list of them and never asks which kind a node is:
 * it asks each transport whether the node is its own. Node ids of different
 * transports never collide.
 */
export interface Transport {
  /** Whether the node is reached through this transport. */
  owns(nodeId: string): boolean;
  /**
   * Its nodes taking part in routing, as the router sees them, or only those
   * that serve `modelId`. Called on every routing decision: it must cost what
   * the answer holds, not what the transport holds (keep views, do not rebuild them).
   */
  views(modelId?: string): readonly NodeView[];
  /** One of its nodes' view; undefined when the node is not its own or not taking part. */
  view(nodeId: string): NodeView | undefined;
  /** Starts the job on the node; false when the node is not this transport's or cannot be reached now. Frames come back through the host. */
  send(nodeId: string, job: Job): boolean;
  /** Stops a job (best effort); true when it was this transport's to stop. */
  cancel(nodeId: string, jobId: string): boolean;
  /** The node's display name; undefined when the transport does not know it (any more). */
  nameOf(nodeId: string): string | undefined;
  /** The transport's own HTTP routes inside the object; undefined when `path` is not one of them. */
  fetch?(path: string, request: Request): Promise<Response> | undefined;
  /** Hibernatable WebSocket events; each transport ignores sockets that are not its own. */
  webSocketMessage?(socket: WebSocket, message: string | ArrayBuffer): void;
  webSocketClose?(socket: WebSocket, code: number, reason: string): void;
  webSocketError?(socket: WebSocket): void;
  /** Drops the nodes that joined with this join token (it was revoked); how many there were. */
  dropJoinToken?(joinTokenId: string): number;
}

/** How transports report back to the Fabric. */
export interface TransportHost {
  /** A frame of a job, from the node running it. */
  onFrame(nodeId: string, frame: Chunk | Done | JobError): void;
  /** A job's call failed or ended before the job did: to the job, the node is gone. */
  onBroken(nodeId: string, jobId: string): void;
  /** A node left: every attempt it held moves on to the next candidate. */
  onNodeLeft(nodeId: string): void;
  /** A node joined: requests waiting for a slot may use it. */
  onNodesChanged(): void;
}

/** What every transport is built with. */
export interface TransportContext {
  ctx: DurableObjectState;
  /** The Worker's env, where secrets are looked up by name. */
  env: Env;
  host: TransportHost;
  /** What socket and tunnel nodes announced, kept in storage. */
  announcements: NodeAnnouncements;
  /** Jobs running per node and model, for every transport. */
  slots: SlotCounts;
  /** The pool's current policy (upstreams, whether donated compute is taken). */
  policy(): Policy;
}
