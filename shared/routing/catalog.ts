import type { Capabilities } from "../protocol/messages.ts";
import type { NodeView, RoutedModel } from "./node-view.ts";
import type { Policy } from "./policy.ts";
import { type Quality, qualityOf } from "./quality-table.ts";

/** One node serving a catalog model, with what that node announced for it. */
export interface CatalogNode {
  id: string;
  name: string;
  kind: NodeView["kind"];
  trust?: NodeView["trust"];
  tokensPerSecond: number;
  /** The model's own slots on this node. */
  slots: number;
  /** Jobs of this model running on this node now. */
  active: number;
  /** Nodes size their own contexts, so the ladder checks each node's. */
  contextLength: number;
  capabilities: Capabilities;
  draining: boolean;
}

/** One model across every node that serves it. */
export interface CatalogEntry {
  id: string;
  parameters: number;
  quantization: string;
  /** The largest context any of its nodes allocated. */
  contextLength: number;
  /** What at least one of its nodes can honour. */
  capabilities: Capabilities;
  quality: Quality;
  pricePerMillionTokens?: number;
  nodes: CatalogNode[];
}

export const NO_CAPABILITIES: Capabilities = Object.freeze({ jsonSchema: false, tools: false, logprobs: false });

/**
 * Merges the models nodes announce into one entry per id, in first-seen order.
 * Draining nodes count, so a model that is only shutting down is not "unknown".
 */
export function buildCatalog(nodes: readonly NodeView[], policy: Pick<Policy, "quality" | "prices">): CatalogEntry[] {
  const entries = new Map<string, { entry: CatalogEntry; widest: RoutedModel }>();
  for (const node of nodes) {
    for (const model of node.models) {
      const capabilities = model.capabilities ?? NO_CAPABILITIES;
      const served: CatalogNode = {
        id: node.id,
        name: node.name,
        kind: node.kind,
        ...(node.trust && { trust: node.trust }),
        tokensPerSecond: model.tokensPerSecond,
        slots: model.slots,
        active: node.activeByModel[model.id] ?? 0,
        contextLength: model.contextLength,
        capabilities,
        draining: node.draining,
      };
      const known = entries.get(model.id);
      if (!known) {
        entries.set(model.id, { entry: { ...describe(model, policy), nodes: [served] }, widest: model });
        continue;
      }
      known.entry.nodes.push(served);
      known.entry.capabilities = union(known.entry.capabilities, capabilities);
      // Nodes may disagree on size or quantization; the widest context's announcement speaks for the model.
      if (model.contextLength > known.widest.contextLength) {
        known.widest = model;
        known.entry = { ...describe(model, policy), capabilities: known.entry.capabilities, nodes: known.entry.nodes };
      }
    }
  }
  return [...entries.values()].map(({ entry }) => entry);
}

function describe(model: RoutedModel, policy: Pick<Policy, "quality" | "prices">): Omit<CatalogEntry, "nodes"> {
  const overrides = model.quality === undefined ? policy.quality : { [model.id]: model.quality, ...policy.quality };
  const price = policy.prices[model.id] ?? model.pricePerMillionTokens;
  return {
    id: model.id,
    parameters: model.parameters,
    quantization: model.quantization,
    contextLength: model.contextLength,
    capabilities: model.capabilities ?? NO_CAPABILITIES,
    quality: qualityOf(model.id, model.parameters, overrides),
    ...(price === undefined ? {} : { pricePerMillionTokens: price }),
  };
}

function union(a: Capabilities, b: Capabilities): Capabilities {
  return { jsonSchema: a.jsonSchema || b.jsonSchema, tools: a.tools || b.tools, logprobs: a.logprobs || b.logprobs };
}
