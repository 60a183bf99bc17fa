import type { ModelInfo } from "../protocol/messages.ts";

/**
 * A model as the router sees it: what a node announced, plus what the operator
 * configured for upstream APIs (the wire protocol carries neither field).
 */
export type RoutedModel = ModelInfo & { pricePerMillionTokens?: number; quality?: number };

/** What the router needs to know about one connected node (upstream APIs included). */
export interface NodeView {
  id: string;
  name: string;
  kind?: "native" | "browser" | "upstream";
  /** What runs its models (`node-llama-cpp`, `wllama`, `webllm`, `echo`…) as the node said; absent for upstreams. */
  engine?: string;
  /** Who vouches for it (`TrustTier`; absent means private, as upstreams the operator named are): shown on the status page; a request reaches only the tiers its key lists. */
  trust?: "private" | "public";
  slots: number;
  /** Jobs the edge has running on the node now. */
  active: number;
  /** The same, per model id: a model's own slots cap its jobs too. */
  activeByModel: Readonly<Record<string, number>>;
  /** A draining node finishes its jobs but takes no new ones. */
  draining: boolean;
  models: readonly RoutedModel[];
}
