import type { NodeView } from "@rung/shared/routing";
import { announcedNodeView } from "../../announced-node-view.ts";
import { type Entrance, trustOfEntrance } from "../../entrance.ts";
import type { Announcement, NodeAnnouncements } from "../../node-announcements.ts";
import type { SlotCounts } from "../../slot-counts.ts";
import type { NodeAttachment } from "./node-attachment.ts";

/**
 * Nodes on sockets as the router sees them: the set of open sockets and their
 * attachments is the registry, so it is rebuilt as it was after the object wakes.
 */
export class SocketNodes {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly announcements: NodeAnnouncements,
    private readonly slots: SlotCounts,
  ) {}

  accept(socket: WebSocket, nodeId: string, entrance: Entrance): void {
    this.ctx.acceptWebSocket(socket, [nodeId]);
    const trust = trustOfEntrance(entrance);
    this.update(socket, { nodeId, connectedAt: Date.now(), badFrames: 0, draining: false, joined: false, entrance, trust });
  }

  attachmentOf(socket: WebSocket): NodeAttachment | null {
    const stored = socket.deserializeAttachment() as (Omit<NodeAttachment, "entrance" | "trust"> & Partial<NodeAttachment>) | null;
    if (!stored) return null;
    // Sockets accepted by an edge older than the donate entrance came in through /connect.
    return { entrance: "connect", trust: "private", ...stored };
  }

  update(socket: WebSocket, attachment: NodeAttachment): void {
    socket.serializeAttachment(attachment);
  }

  join(socket: WebSocket, attachment: NodeAttachment, announcement: Announcement): void {
    this.announcements.join(attachment.nodeId, announcement);
    this.update(socket, { ...attachment, joined: true });
  }

  /** Whether a socket of the node is still held, open or not (each socket is tagged with its node's id). */
  owns(nodeId: string): boolean {
    return this.ctx.getWebSockets(nodeId).length > 0;
  }

  socketOf(nodeId: string): WebSocket | undefined {
    return this.ctx.getWebSockets(nodeId).find((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** Every joined node on an open socket. */
  views(): NodeView[] {
    const views: NodeView[] = [];
    for (const socket of this.ctx.getWebSockets()) {
      const attachment = this.attachmentOf(socket);
      if (!attachment?.joined || socket.readyState !== WebSocket.OPEN) continue;
      const view = announcedNodeView(attachment.nodeId, this.announcements, this.slots, attachment.draining, attachment.trust);
      if (view) views.push(view);
    }
    return views;
  }
}
