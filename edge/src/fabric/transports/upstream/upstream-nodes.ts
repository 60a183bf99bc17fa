import type { Capabilities } from "@rung/shared/protocol";
import type { NodeView, RoutedModel } from "@rung/shared/routing";
import type { UpstreamTarget } from "./upstream-dispatcher.ts";

/** An upstream as the policy lists it (`policy.upstreams[]`), with what the router needs beyond the call. */
export interface UpstreamEntry extends UpstreamTarget {
  /** Jobs the edge runs on it at once (the policy's default is 16). */
  slots: number;
  models: readonly {
    id: string;
    upstreamModel?: string | undefined;
    parameters: number;
    contextLength: number;
    pricePerMillionTokens?: number | undefined;
    quality?: number | undefined;
    capabilities?: Capabilities | undefined;
  }[];
}

/** Jobs the edge runs on each node (the pool's SlotCounts). */
export interface UpstreamLoad {
  active(nodeId: string): number;
  activeByModel(nodeId: string): Readonly<Record<string, number>>;
}

/** Node ids of upstreams live in their own namespace: a node's id is `node_<uuid>`, so they cannot collide. */
const UPSTREAM_ID_PREFIX = "upstream:";

export const upstreamNodeId = (name: string): string => `${UPSTREAM_ID_PREFIX}${name}`;

/** The upstream a router node id stands for, if it is one. */
export function upstreamOf<U extends UpstreamEntry>(upstreams: readonly U[], nodeId: string): U | undefined {
  if (!nodeId.startsWith(UPSTREAM_ID_PREFIX)) return undefined;
  return upstreams.find((u) => upstreamNodeId(u.name) === nodeId);
}

/**
 * Upstreams as the router sees nodes: each one a node named after it, whose
 * models are the operator's, priced and scored as the operator set them.
 * Their speed is unknown until measured (0, as for a node that has not
 * reported one), and they never drain. Their load is the edge's count of
 * jobs running there, as for real nodes, read when the router asks.
 */
export function upstreamNodesOf(upstreams: readonly UpstreamEntry[], load: UpstreamLoad): NodeView[] {
  return upstreams.map((upstream) => {
    const id = upstreamNodeId(upstream.name);
    const models: RoutedModel[] = upstream.models.map((model) => ({
      id: model.id,
      parameters: model.parameters,
      quantization: "upstream",
      contextLength: model.contextLength,
      tokensPerSecond: 0,
      slots: upstream.slots,
      ...(model.capabilities && { capabilities: model.capabilities }),
      ...(model.pricePerMillionTokens !== undefined && { pricePerMillionTokens: model.pricePerMillionTokens }),
      ...(model.quality !== undefined && { quality: model.quality }),
    }));
    return {
      id,
      name: upstream.name,
      kind: "upstream" as const,
      slots: upstream.slots,
      get active() {
        return load.active(id);
      },
      get activeByModel() {
        return load.activeByModel(id);
      },
      draining: false,
      models,
    };
  });
}
