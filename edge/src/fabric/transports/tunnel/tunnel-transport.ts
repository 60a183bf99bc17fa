import type { Job } from "@rung/shared/protocol";
import type { NodeView } from "@rung/shared/routing";
import { announcedNodeView } from "../../announced-node-view.ts";
import type { Transport, TransportContext } from "../transport.ts";
import { TunnelCalls } from "./tunnel-calls.ts";
import { TunnelDispatcher } from "./tunnel-dispatcher.ts";
import { type TunnelNode, TunnelNodes } from "./tunnel-nodes.ts";

/** The tunnel transport's own HTTP calls (register, heartbeat, leave) arrive under this path. */
const TUNNEL_CALLS_PREFIX = "/v1/nodes/tunnel/";

/**
 * Nodes behind a tunnel (when a WebSocket does not get through): they register
 * over HTTPS, and each job is one signed POST to the node whose response streams
 * its frames back. Their announcements live where a socket node's do, so the
 * router sees no difference.
 */
export class TunnelTransport implements Transport {
  readonly #nodes: TunnelNodes;
  readonly #calls: TunnelCalls;
  readonly #dispatcher: TunnelDispatcher;

  constructor(private readonly context: TransportContext) {
    this.#nodes = new TunnelNodes(context.ctx.storage);
    this.#dispatcher = new TunnelDispatcher(context.host);
    this.#calls = new TunnelCalls(
      this.#nodes,
      context.announcements,
      (nodeId) => this.#left(nodeId),
      () => context.host.onNodesChanged(),
    );
    // Registrations that expired while the object slept go now, announcements with them,
    // so that the Fabric's sweep of departed nodes counts only live ones.
    this.#live();
  }

  /** A registration the edge still holds (an expired one until it is swept). */
  owns(nodeId: string): boolean {
    return this.#nodes.get(nodeId) !== undefined;
  }

  /** Tunnel nodes are few (a fallback), so their views are made when asked. */
  views(modelId?: string): NodeView[] {
    const views: NodeView[] = [];
    for (const tunnel of this.#live()) {
      const view = this.#viewOf(tunnel);
      if (view && (modelId === undefined || view.models.some((m) => m.id === modelId))) views.push(view);
    }
    return views;
  }

  view(nodeId: string): NodeView | undefined {
    const tunnel = this.#live().find((live) => live.nodeId === nodeId);
    return tunnel && this.#viewOf(tunnel);
  }

  send(nodeId: string, job: Job): boolean {
    const tunnel = this.#nodes.get(nodeId);
    if (!tunnel) return false;
    this.#dispatcher.send(tunnel, job);
    return true;
  }

  /** By job id, so it works even after the job's node expired. */
  cancel(_nodeId: string, jobId: string): boolean {
    return this.#dispatcher.cancel(jobId);
  }

  nameOf(nodeId: string): string | undefined {
    return this.context.announcements.get(nodeId)?.node.name;
  }

  fetch(path: string, request: Request): Promise<Response> | undefined {
    if (!path.startsWith(TUNNEL_CALLS_PREFIX) || request.method !== "POST") return undefined;
    return this.#calls.handle(path, request);
  }

  dropJoinToken(joinTokenId: string): number {
    const nodes = this.#nodes.joinedWith(joinTokenId);
    for (const node of nodes) this.#left(node.nodeId);
    return nodes.length;
  }

  #viewOf(tunnel: TunnelNode): NodeView | undefined {
    // A tunnel node registered with the join token, so it is what it claimed.
    return announcedNodeView(tunnel.nodeId, this.context.announcements, this.context.slots, tunnel.draining);
  }

  /** Tunnel nodes that are still beating; an expired one is forgotten quietly (calls it still runs end on their own). */
  #live(): TunnelNode[] {
    return this.#nodes.live((nodeId) => this.#forget(nodeId));
  }

  /** The node said goodbye: fail over what it was running, then forget it. */
  #left(nodeId: string): void {
    this.context.host.onNodeLeft(nodeId);
    this.#forget(nodeId);
  }

  #forget(nodeId: string): void {
    this.#nodes.remove(nodeId);
    this.context.announcements.forget(nodeId);
    this.context.slots.forget(nodeId);
  }
}
