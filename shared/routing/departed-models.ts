import type { CatalogEntry } from "./catalog.ts";
import { effectiveEscalation } from "./escalation.ts";
import type { LadderPlan } from "./plan-ladder.ts";
import type { Policy } from "./policy.ts";

/** A model as a rung sees it, without the nodes that served it. */
export type DepartedModel = Omit<CatalogEntry, "nodes">;

/**
 * Models whose last node left a moment ago. A request for one is not for an
 * unknown model: its nodes may be restarting (a crash, a deploy, an agent that
 * lost its connection), so the request waits for one to come back rather than
 * get a 404, which the OpenAI SDKs take as final and do not retry.
 */
export class DepartedModels {
  /** In the order they left, so the oldest are pruned first. */
  readonly #left = new Map<string, { model: DepartedModel; at: number }>();

  constructor(private windowMs: number) {}

  reconfigure(windowMs: number): void {
    this.windowMs = windowMs;
  }

  /** The last node serving `model` left at `now`. */
  left(model: DepartedModel, now: number): void {
    this.#prune(now);
    this.#left.delete(model.id);
    if (this.windowMs > 0) this.#left.set(model.id, { model, at: now });
  }

  /** The model, when its last node left within the window. */
  recent(modelId: string, now: number): DepartedModel | undefined {
    const departed = this.#left.get(modelId);
    return departed && now - departed.at <= this.windowMs ? departed.model : undefined;
  }

  #prune(now: number): void {
    for (const [id, departed] of this.#left) {
      if (now - departed.at <= this.windowMs) return;
      this.#left.delete(id);
    }
  }
}

/**
 * The plan of a request pinned to a departed model: its one rung with no node
 * yet, so the request waits in the queue until one joins (the router hands a
 * queued request the nodes that join) or its wait runs out.
 */
export function awaitingPlan(model: DepartedModel, policy: Policy, override?: Parameters<typeof effectiveEscalation>[2]): LadderPlan {
  return {
    ok: true,
    rungs: [{ model, nodeIds: [] }],
    startIndex: 0,
    pinned: true,
    profile: undefined,
    escalation: { ...effectiveEscalation(policy, undefined, override), enabled: false },
    preRouted: [],
  };
}
