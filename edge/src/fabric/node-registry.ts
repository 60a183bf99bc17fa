import type { Hello } from "@rung/shared/protocol";
import type { NodeView } from "@rung/shared/routing";

/**
 * What the edge keeps on a node's socket, so it survives the Durable Object
 * hibernating. Attachments are capped at 2 KB, so the node's announcement
 * (which lists its models) lives in storage under the same id.
 */
export interface NodeAttachment {
  nodeId: string;
  connectedAt: number;
  badFrames: number;
  draining: boolean;
  /** Set once the node's `hello` was accepted; until then it gets no jobs. */
  joined: boolean;
}

export type Announcement = Pick<Hello, "node" | "models">;

const ANNOUNCEMENT_PREFIX = "node:";
const announcementKey = (nodeId: string) => `${ANNOUNCEMENT_PREFIX}${nodeId}`;

/**
 * Nodes as the router sees them: the set of open sockets is the registry.
 * Slot use is in memory only: jobs never outlive the object, so neither does it.
 */
export class NodeRegistry {
  /** Jobs running per node, and per node and model. */
  readonly #active = new Map<string, Map<string, number>>();
  readonly #announcements = new Map<string, Announcement>();

  constructor(private readonly ctx: DurableObjectState) {}

  accept(socket: WebSocket, nodeId: string): void {
    this.ctx.acceptWebSocket(socket, [nodeId]);
    this.update(socket, { nodeId, connectedAt: Date.now(), badFrames: 0, draining: false, joined: false });
  }

  attachmentOf(socket: WebSocket): NodeAttachment | null {
    return (socket.deserializeAttachment() as NodeAttachment | null) ?? null;
  }

  update(socket: WebSocket, attachment: NodeAttachment): void {
    socket.serializeAttachment(attachment);
  }

  join(socket: WebSocket, attachment: NodeAttachment, announcement: Announcement): void {
    this.ctx.storage.kv.put(announcementKey(attachment.nodeId), announcement);
    this.#announcements.set(attachment.nodeId, announcement);
    this.update(socket, { ...attachment, joined: true });
  }

  leave(nodeId: string): void {
    this.ctx.storage.kv.delete(announcementKey(nodeId));
    this.#announcements.delete(nodeId);
    this.#active.delete(nodeId);
  }

  /**
   * Drop announcements of nodes whose sockets are gone. Sockets can vanish
   * without a close event (a deploy, an eviction), and every reconnect is a new
   * node id, so without this storage would only grow.
   */
  forgetDeparted(): void {
    const connected = new Set(this.ctx.getWebSockets().map((ws) => this.attachmentOf(ws)?.nodeId));
    for (const [key] of this.ctx.storage.kv.list({ prefix: ANNOUNCEMENT_PREFIX })) {
      if (!connected.has(key.slice(ANNOUNCEMENT_PREFIX.length))) this.ctx.storage.kv.delete(key);
    }
  }

  socketOf(nodeId: string): WebSocket | undefined {
    return this.ctx.getWebSockets(nodeId).find((ws) => ws.readyState === WebSocket.OPEN);
  }

  nameOf(nodeId: string): string {
    return this.#announcementOf(nodeId)?.node.name ?? nodeId;
  }

  views(): NodeView[] {
    const views: NodeView[] = [];
    for (const socket of this.ctx.getWebSockets()) {
      const attachment = this.attachmentOf(socket);
      if (!attachment?.joined || socket.readyState !== WebSocket.OPEN) continue;
      const announcement = this.#announcementOf(attachment.nodeId);
      if (!announcement) continue;
      views.push({
        id: attachment.nodeId,
        name: announcement.node.name,
        slots: announcement.node.slots,
        active: sum(this.#active.get(attachment.nodeId)),
        activeByModel: Object.fromEntries(this.#active.get(attachment.nodeId) ?? []),
        draining: attachment.draining,
        models: announcement.models,
      });
    }
    return views;
  }

  take(nodeId: string, modelId: string): void {
    const byModel = this.#active.get(nodeId) ?? new Map<string, number>();
    byModel.set(modelId, (byModel.get(modelId) ?? 0) + 1);
    this.#active.set(nodeId, byModel);
  }

  release(nodeId: string, modelId: string): void {
    const byModel = this.#active.get(nodeId);
    const left = (byModel?.get(modelId) ?? 1) - 1;
    if (left > 0) byModel?.set(modelId, left);
    else byModel?.delete(modelId);
    if (byModel?.size === 0) this.#active.delete(nodeId);
  }

  /** After hibernation the memory cache is empty; storage still has every joined node. */
  #announcementOf(nodeId: string): Announcement | undefined {
    let announcement = this.#announcements.get(nodeId);
    if (!announcement) {
      announcement = this.ctx.storage.kv.get<Announcement>(announcementKey(nodeId));
      if (announcement) this.#announcements.set(nodeId, announcement);
    }
    return announcement;
  }
}

function sum(counts: Map<string, number> | undefined): number {
  let total = 0;
  for (const count of counts?.values() ?? []) total += count;
  return total;
}
