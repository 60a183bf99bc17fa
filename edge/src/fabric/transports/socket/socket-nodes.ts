import type { NodeView } from "@rung/shared/routing";
import { announcedNodeView } from "../../announced-node-view.ts";
import { type Entrance, trustOfEntrance } from "../../entrance.ts";
import type { Announcement, NodeAnnouncements } from "../../node-announcements.ts";
import type { SlotCounts } from "../../slot-counts.ts";
import { NodeIndex } from "../node-index.ts";
import type { NodeAttachment } from "./node-attachment.ts";

/** A held socket with its attachment as last written, and the router's view once the node joined. */
interface SocketNode {
  socket: WebSocket;
  attachment: NodeAttachment;
  view: NodeView | undefined;
}

/**
 * Nodes on sockets. The open sockets and their attachments are the registry
 * that survives hibernation; this class keeps a copy in memory, rebuilt from
 * them once after the object wakes, so that neither a frame nor a routing
 * decision deserializes attachments or walks every socket.
 */
export class SocketNodes {
  /** Undefined until first needed after the object (re)started. */
  #nodes: Map<string, SocketNode> | undefined;
  /** A socket's node id never changes, so this cannot go stale. */
  readonly #idOf = new WeakMap<WebSocket, string>();
  readonly #index = new NodeIndex();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly announcements: NodeAnnouncements,
    private readonly slots: SlotCounts,
  ) {}

  accept(socket: WebSocket, nodeId: string, entrance: Entrance, joinTokenId?: string): void {
    this.ctx.acceptWebSocket(socket, [nodeId]);
    const attachment: NodeAttachment = {
      nodeId,
      connectedAt: Date.now(),
      badFrames: 0,
      draining: false,
      joined: false,
      entrance,
      trust: trustOfEntrance(entrance),
      ...(joinTokenId && { joinTokenId }),
    };
    socket.serializeAttachment(attachment);
    this.#idOf.set(socket, nodeId);
    this.#registry().set(nodeId, { socket, attachment, view: undefined });
  }

  attachmentOf(socket: WebSocket): NodeAttachment | null {
    const nodeId = this.#idOf.get(socket) ?? stored(socket)?.nodeId;
    return (nodeId !== undefined && this.#registry().get(nodeId)?.attachment) || null;
  }

  update(socket: WebSocket, attachment: NodeAttachment): void {
    socket.serializeAttachment(attachment);
    const node = this.#registry().get(attachment.nodeId);
    if (!node) return;
    const drainingChanged = node.attachment.draining !== attachment.draining;
    node.attachment = attachment;
    if (drainingChanged && node.view) this.#setView(node, this.#viewOf(attachment));
  }

  join(socket: WebSocket, attachment: NodeAttachment, announcement: Announcement): void {
    this.announcements.join(attachment.nodeId, announcement);
    const joined = { ...attachment, joined: true };
    this.update(socket, joined);
    const node = this.#registry().get(attachment.nodeId);
    if (node) this.#setView(node, this.#viewOf(joined));
  }

  /** The socket is gone: its node leaves the registry; returns the node's id, undefined when it already left. */
  remove(socket: WebSocket): string | undefined {
    const nodeId = this.#idOf.get(socket) ?? stored(socket)?.nodeId;
    const node = nodeId === undefined ? undefined : this.#registry().get(nodeId);
    if (!node) return undefined;
    if (node.view) this.#index.remove(node.view);
    this.#registry().delete(node.attachment.nodeId);
    return node.attachment.nodeId;
  }

  /** Whether a socket of the node is still held. */
  owns(nodeId: string): boolean {
    return this.#registry().has(nodeId);
  }

  socketOf(nodeId: string): WebSocket | undefined {
    const socket = this.#registry().get(nodeId)?.socket;
    return socket?.readyState === WebSocket.OPEN ? socket : undefined;
  }

  /**
   * Joined nodes on open sockets, or those announcing `modelId`. A socket the
   * node closed stays listed until its close event arrives: it is left out
   * here, or a request could pick it over a free node and wait.
   */
  views(modelId?: string): readonly NodeView[] {
    this.#registry();
    const views = this.#index.views(modelId);
    return views.every(this.#isOpen) ? views : views.filter(this.#isOpen);
  }

  view(nodeId: string): NodeView | undefined {
    const node = this.#registry().get(nodeId);
    return node?.socket.readyState === WebSocket.OPEN ? node.view : undefined;
  }

  readonly #isOpen = (view: NodeView): boolean => this.#registry().get(view.id)?.socket.readyState === WebSocket.OPEN;

  #viewOf(attachment: NodeAttachment): NodeView | undefined {
    return announcedNodeView(attachment.nodeId, this.announcements, this.slots, attachment.draining, attachment.trust);
  }

  #setView(node: SocketNode, view: NodeView | undefined): void {
    if (node.view) this.#index.remove(node.view);
    node.view = view;
    if (view) this.#index.add(view);
  }

  /** The sockets of nodes that came in with this join token. */
  joinedWith(joinTokenId: string): WebSocket[] {
    return [...this.#registry().values()].filter((node) => node.attachment.joinTokenId === joinTokenId).map((node) => node.socket);
  }

  /** The registry, rebuilt from the sockets the runtime kept when the object starts. */
  #registry(): Map<string, SocketNode> {
    if (this.#nodes) return this.#nodes;
    this.#nodes = new Map();
    for (const socket of this.ctx.getWebSockets()) {
      const attachment = stored(socket);
      if (!attachment) continue;
      this.#idOf.set(socket, attachment.nodeId);
      const node: SocketNode = { socket, attachment, view: undefined };
      this.#nodes.set(attachment.nodeId, node);
      if (attachment.joined && socket.readyState === WebSocket.OPEN) this.#setView(node, this.#viewOf(attachment));
    }
    return this.#nodes;
  }
}

/** The attachment as stored on the socket; sockets accepted by an edge older than the donate entrance came in through /connect. */
function stored(socket: WebSocket): NodeAttachment | null {
  const attachment = socket.deserializeAttachment() as (Omit<NodeAttachment, "entrance" | "trust"> & Partial<NodeAttachment>) | null;
  // The object holds dashboards' sockets too (DashboardFeed): theirs carry no node id.
  return typeof attachment?.nodeId === "string" ? { entrance: "connect", trust: "private", ...attachment } : null;
}
