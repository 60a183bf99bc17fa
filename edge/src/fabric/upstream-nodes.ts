import type { Capabilities, ModelInfo } from "@rung/shared/protocol";
import type { NodeView } from "@rung/shared/routing";
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
 * models are the operator's. Their speed is unknown until measured (0, as for
 * a node that has not reported one), and they never drain. `activeByModel`
 * gives the edge's count of jobs running there, as it does for real nodes.
 */
export function upstreamNodesOf(
  upstreams: readonly UpstreamEntry[],
  activeByModel: (nodeId: string) => Readonly<Record<string, number>> = () => ({}),
): NodeView[] {
  return upstreams.map((upstream) => {
    const id = upstreamNodeId(upstream.name);
    const active = activeByModel(id);
    const models: ModelInfo[] = upstream.models.map((model) => ({
      id: model.id,
      parameters: model.parameters,
      quantization: "upstream",
      contextLength: model.contextLength,
      tokensPerSecond: 0,
      slots: upstream.slots,
      ...(model.capabilities ? { capabilities: model.capabilities } : {}),
    }));
    return {
      id,
      name: upstream.name,
      slots: upstream.slots,
      active: Object.values(active).reduce((sum, n) => sum + n, 0),
      activeByModel: active,
      draining: false,
      models,
    };
  });
}

/**
 * The prices and quality scores the operator set on upstream models, in the
 * shape of the policy's `prices` and `quality` records, so the catalog reads
 * them like any other override (an explicit entry in those records wins).
 */
export function upstreamOverrides(upstreams: readonly UpstreamEntry[]): { prices: Record<string, number>; quality: Record<string, number> } {
  const prices: Record<string, number> = {};
  const quality: Record<string, number> = {};
  for (const model of upstreams.flatMap((u) => u.models)) {
    if (model.pricePerMillionTokens !== undefined) prices[model.id] = model.pricePerMillionTokens;
    if (model.quality !== undefined) quality[model.id] = model.quality;
  }
  return { prices, quality };
}
