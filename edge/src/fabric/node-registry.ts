import type { Heartbeat, Hello } from "@rung/shared/protocol";
import type { NodeView } from "@rung/shared/routing";
import { type Entrance, type Trust, trustOfEntrance } from "./entrance.ts";
import { type TunnelNode, TunnelNodes } from "./tunnel-nodes.ts";

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
  /** The door the socket came in by, fixed at connect: it decides what a hello may claim. */
  entrance: Entrance;
  /** The node's tier: `public` through the donate entrance, else what its hello claimed (`private` unless it said otherwise). */
  trust: Trust;
}

/** What a node said about itself in `hello`, kept current by its heartbeats. */
export type Announcement = Pick<Hello, "node" | "models" | "hardware">;

/**
 * A measured speed within this fraction of the stored one only updates memory:
 * heartbeats arrive every 15 s per node, and the router orders by speed, not
 * by its last digit, so storage is written only when the order could change.
 */
const SPEED_WRITE_THRESHOLD = 0.1;

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
  readonly tunnels: TunnelNodes;

  constructor(private readonly ctx: DurableObjectState) {
    this.tunnels = new TunnelNodes(ctx.storage);
  }

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
    this.ctx.storage.kv.put(announcementKey(attachment.nodeId), announcement);
    this.#announcements.set(attachment.nodeId, announcement);
    this.update(socket, { ...attachment, joined: true });
  }

  /** A node that reaches the edge through a tunnel joins without a socket. */
  joinTunnel(url: string, announcement: Announcement): TunnelNode {
    const tunnel = this.tunnels.register(url);
    this.ctx.storage.kv.put(announcementKey(tunnel.nodeId), announcement);
    this.#announcements.set(tunnel.nodeId, announcement);
    return tunnel;
  }

  /**
   * A heartbeat's measured speeds replace the announced ones, so the router
   * ranks nodes by what they do, not what they measured at load. Storage is
   * written only for a real change (see SPEED_WRITE_THRESHOLD); after the
   * object wakes, a slightly stale speed is harmless.
   */
  heartbeat(nodeId: string, heartbeat: Heartbeat): void {
    const announcement = this.#announcementOf(nodeId);
    if (!announcement) return;
    const measured = new Map(heartbeat.models.map((m) => [m.id, m.tokensPerSecond]));
    // Compared with what storage holds, not memory: a slow drift in small steps still gets written.
    const stored = this.ctx.storage.kv.get<Announcement>(announcementKey(nodeId));
    const storedSpeed = new Map(stored?.models.map((m) => [m.id, m.tokensPerSecond]));
    let changed = false;
    const models = announcement.models.map((model) => {
      const speed = measured.get(model.id);
      if (speed === undefined || speed === model.tokensPerSecond) return model;
      const was = storedSpeed.get(model.id) ?? 0;
      changed ||= Math.abs(speed - was) > SPEED_WRITE_THRESHOLD * was;
      return { ...model, tokensPerSecond: speed };
    });
    const hardware =
      announcement.hardware && heartbeat.vramFreeBytes !== undefined
        ? { ...announcement.hardware, vramFreeBytes: heartbeat.vramFreeBytes }
        : announcement.hardware;
    const updated: Announcement = { ...announcement, models, ...(hardware ? { hardware } : {}) };
    this.#announcements.set(nodeId, updated);
    if (changed) this.ctx.storage.kv.put(announcementKey(nodeId), updated);
  }

  /** The node's announcement as the edge keeps it (hardware included), e.g. for a status page. */
  announcementOf(nodeId: string): Announcement | undefined {
    return this.#announcementOf(nodeId);
  }

  leave(nodeId: string): void {
    this.tunnels.remove(nodeId);
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
    const tunnelled = this.tunnels.live((nodeId) => this.leave(nodeId)).map((t) => t.nodeId);
    const connected = new Set([...this.ctx.getWebSockets().map((ws) => this.attachmentOf(ws)?.nodeId), ...tunnelled]);
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

  /** Every joined node, socket or tunnel: to the router they are alike. */
  views(): NodeView[] {
    const views: NodeView[] = [];
    for (const socket of this.ctx.getWebSockets()) {
      const attachment = this.attachmentOf(socket);
      if (!attachment?.joined || socket.readyState !== WebSocket.OPEN) continue;
      const view = this.#viewOf(attachment.nodeId, attachment.draining, attachment.trust);
      if (view) views.push(view);
    }
    for (const tunnel of this.tunnels.live((nodeId) => this.leave(nodeId))) {
      // A tunnel node registered with the join token, so it is what it claimed.
      const view = this.#viewOf(tunnel.nodeId, tunnel.draining);
      if (view) views.push(view);
    }
    return views;
  }

  /** `trust`: a socket's tier from its attachment; otherwise what the node claimed. */
  #viewOf(nodeId: string, draining: boolean, trust?: Trust): NodeView | undefined {
    const announcement = this.#announcementOf(nodeId);
    if (!announcement) return undefined;
    return {
      id: nodeId,
      name: announcement.node.name,
      kind: announcement.node.kind,
      trust: trust ?? announcement.node.trust ?? "private",
      slots: announcement.node.slots,
      active: sum(this.#active.get(nodeId)),
      activeByModel: this.activeByModel(nodeId),
      draining,
      models: announcement.models,
    };
  }

  /** Jobs the edge runs on a node per model: also kept for upstreams, which have no socket. */
  activeByModel(nodeId: string): Record<string, number> {
    return Object.fromEntries(this.#active.get(nodeId) ?? []);
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
