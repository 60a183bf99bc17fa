import { newSecret } from "@rung/shared/protocol";

/** What the edge keeps about a node it reaches through a tunnel. */
export interface TunnelNode {
  nodeId: string;
  /** Base URL of the node's HTTP endpoint, behind its tunnel. */
  url: string;
  /** HMAC key for calls both ways, issued at registration. */
  secret: string;
  lastSeen: number;
  /** The node said it is shutting down: no new jobs. */
  draining: boolean;
  /** The admin API's join token it registered with (`jt_…`): revoking the token drops the node. */
  joinTokenId?: string;
}

const PREFIX = "tunnel:";
export const TUNNEL_HEARTBEAT_MS = 15_000;
/** A tunnel node that missed three heartbeats is gone: no socket close will tell us. */
const TUNNEL_EXPIRY_MS = TUNNEL_HEARTBEAT_MS * 3;

/**
 * Tunnel nodes have no socket to hold them in the registry, so their URL,
 * secret and last heartbeat live in storage; their announcement lives where a
 * socket node's does (NodeAnnouncements), so the router sees no difference.
 * Storage is read once when the object starts and written through after:
 * routing reads the nodes on every request.
 */
export class TunnelNodes {
  #nodes: Map<string, TunnelNode> | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  register(url: string, joinTokenId?: string, now = Date.now()): TunnelNode {
    const node: TunnelNode = {
      nodeId: `node_${crypto.randomUUID()}`,
      url,
      secret: newSecret(),
      lastSeen: now,
      draining: false,
      ...(joinTokenId && { joinTokenId }),
    };
    this.#put(node);
    return node;
  }

  joinedWith(joinTokenId: string): TunnelNode[] {
    return [...this.#registry().values()].filter((node) => node.joinTokenId === joinTokenId);
  }

  get(nodeId: string): TunnelNode | undefined {
    return this.#registry().get(nodeId);
  }

  /** Renew a registration; false when the edge no longer knows the node (it should register again). */
  renew(nodeId: string, draining: boolean, now = Date.now()): boolean {
    const node = this.get(nodeId);
    if (!node || this.#expired(node, now)) return false;
    this.#put({ ...node, lastSeen: now, draining });
    return true;
  }

  remove(nodeId: string): void {
    this.storage.kv.delete(PREFIX + nodeId);
    this.#registry().delete(nodeId);
  }

  /** Tunnel nodes that are still beating; each expired one is removed and reported to `onExpired`. */
  live(onExpired: (nodeId: string) => void, now = Date.now()): TunnelNode[] {
    const live: TunnelNode[] = [];
    for (const node of [...this.#registry().values()]) {
      if (!this.#expired(node, now)) live.push(node);
      else {
        this.remove(node.nodeId);
        onExpired(node.nodeId);
      }
    }
    return live;
  }

  #put(node: TunnelNode): void {
    this.storage.kv.put(PREFIX + node.nodeId, node);
    this.#registry().set(node.nodeId, node);
  }

  #registry(): Map<string, TunnelNode> {
    this.#nodes ??= new Map([...this.storage.kv.list<TunnelNode>({ prefix: PREFIX })].map(([, node]) => [node.nodeId, node]));
    return this.#nodes;
  }

  #expired(node: TunnelNode, now: number): boolean {
    return now - node.lastSeen > TUNNEL_EXPIRY_MS;
  }
}
