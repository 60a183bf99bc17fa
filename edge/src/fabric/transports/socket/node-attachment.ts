import type { Entrance, Trust } from "../../entrance.ts";

/**
 * What the edge keeps on a node's socket, so it survives the Durable Object
 * hibernating. Attachments are capped at 2 KB, so the node's announcement
 * (which lists its models) lives in storage under the same id (NodeAnnouncements).
 */
export interface NodeAttachment {
  nodeId: string;
  connectedAt: number;
  badFrames: number;
  draining: boolean;
  /** Set once the node's `hello` was accepted; until then it gets no jobs. */
  joined: boolean;
  /** The door the socket came in by, fixed at connect: it decides what a hello may claim. */
  entrance: Entrance;
  /** The node's tier: `public` through the donate entrance, else what its hello claimed (`private` unless it said otherwise). */
  trust: Trust;
  /** The admin API's join token it came in with (`jt_…`): revoking the token drops the node. */
  joinTokenId?: string;
}
