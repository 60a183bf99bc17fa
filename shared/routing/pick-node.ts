import { medianOfKnown } from "./median-of-known.ts";
import type { NodeView } from "./node-view.ts";
import { hasFreeSlot } from "./plan-ladder.ts";
import { TYPICAL_ANSWER_TOKENS } from "./profiles.ts";

export interface PickOptions {
  /** Uniform in [0, 1), e.g. Math.random; injected so tests are deterministic. */
  random: () => number;
  /** False for a node whose breaker for this model refuses work. */
  available: (nodeId: string) => boolean;
  /** Nodes this request already tried or is running on. */
  exclude?: ReadonlySet<string>;
  /** The node's recent typical wait for a first token of this model, when the edge has seen some. */
  firstTokenMs?: (nodeId: string) => number | undefined;
  /** Tokens the request may generate (its max_tokens): short answers weigh the first token more. */
  answerTokens?: number;
}

/**
 * Chooses the node for one attempt at a model by the power of two choices:
 * two eligible nodes at random, the one with the shorter expected wait wins.
 * The wait of a typical answer is its first-token time plus its tokens at the
 * node's speed, stretched by how full the node is; what is not measured yet
 * counts as the median of the others, so it neither wins nor loses by default.
 * Comparing only two keeps many edges from herding onto the one node that
 * looks best to all of them, while still steering away from busy nodes.
 */
export function pickNode(nodes: readonly NodeView[], modelId: string, options: PickOptions): NodeView | undefined {
  const eligible = nodes.filter((n) => hasFreeSlot(n, modelId) && options.available(n.id) && !options.exclude?.has(n.id));
  if (eligible.length <= 1) return eligible[0];

  const first = Math.min(eligible.length - 1, Math.floor(options.random() * eligible.length));
  let second = Math.min(eligible.length - 2, Math.floor(options.random() * (eligible.length - 1)));
  if (second >= first) second += 1;
  const a = eligible[first]!;
  const b = eligible[second]!;

  const fallbackSpeed = medianOfKnown(
    eligible.map((n) => knownSpeed(n, modelId)),
    1,
  );
  const speedOf = (n: NodeView) => knownSpeed(n, modelId) ?? fallbackSpeed;
  const firstTokenOf = (n: NodeView) => options.firstTokenMs?.(n.id);
  const fallbackFirstToken = medianOfKnown(eligible.map(firstTokenOf), 0);
  const tokens = options.answerTokens ?? TYPICAL_ANSWER_TOKENS;
  const answerSeconds = (n: NodeView) => (firstTokenOf(n) ?? fallbackFirstToken) / 1000 + tokens / speedOf(n);
  const waitOf = (n: NodeView) => expectedLoad(n, modelId) * answerSeconds(n);
  // A full tie goes to the first sampled, which is random: identical idle nodes share the work.
  const order = waitOf(a) - waitOf(b) || speedOf(b) - speedOf(a);
  return order <= 0 ? a : b;
}

/** How full the node would be with one more job: the busier of the model's own slots and the node's. */
function expectedLoad(node: NodeView, modelId: string): number {
  const slots = node.models.find((m) => m.id === modelId)?.slots ?? 1;
  const modelLoad = ((node.activeByModel[modelId] ?? 0) + 1) / slots;
  return Math.max(modelLoad, (node.active + 1) / node.slots);
}

/** The model's measured speed on the node; undefined when it reported none. */
function knownSpeed(node: NodeView, modelId: string): number | undefined {
  const speed = node.models.find((m) => m.id === modelId)?.tokensPerSecond ?? 0;
  return speed > 0 ? speed : undefined;
}
