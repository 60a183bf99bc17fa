/** What the plan-ladder-*.test.ts files share: models and nodes to plan over, and short ways to read a plan. */
import type { Capabilities } from "../../protocol/messages.ts";
import type { NodeView, RoutedModel } from "../../routing/node-view.ts";
import { type LadderPlan, type LadderRequest, type Plan, planLadder } from "../../routing/plan-ladder.ts";
import { DEFAULT_POLICY, type Policy, parsePolicy } from "../../routing/policy.ts";

export function model(
  id: string,
  parameters: number,
  contextLength = 4096,
  tokensPerSecond = 50,
  capabilities?: Capabilities,
): RoutedModel {
  return { id, parameters, quantization: "Q4_K_M", contextLength, tokensPerSecond, slots: 8, ...(capabilities ? { capabilities } : {}) };
}

export function node(
  id: string,
  models: RoutedModel[],
  load: Partial<Pick<NodeView, "slots" | "active" | "activeByModel" | "draining">> = {},
): NodeView {
  return { id, name: `name-${id}`, slots: 1, active: 0, activeByModel: {}, draining: false, models, ...load };
}

function request(fields: Partial<LadderRequest> = {}): LadderRequest {
  return { model: "auto", promptTokens: 100, maxTokens: 100, needs: { jsonSchema: false, tools: false }, texts: ["hello"], ...fields };
}

export function policy(input: unknown): Policy {
  const parsed = parsePolicy(input);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.policy;
}

export function ok(plan: Plan): LadderPlan {
  if (!plan.ok) throw new Error(`expected a plan, got ${plan.status} ${plan.code}: ${plan.message}`);
  return plan;
}

/** `model@node,node` per rung, in ladder order. */
export function order(plan: Plan): string[] {
  return ok(plan).rungs.map((r) => `${r.model.id}@${r.nodeIds.join(",")}`);
}

export const plan = (nodes: NodeView[], fields: Partial<LadderRequest> = {}, p: Policy = DEFAULT_POLICY) =>
  planLadder(request(fields), nodes, p);

// Unknown ids, so quality is estimated from size: the ladder follows parameter count.
export const small = model("small-0.5b", 500_000_000, 2048, 120);
export const medium = model("medium-1.5b", 1_500_000_000, 4096, 60);
export const large = model("large-7b", 7_000_000_000, 8192, 15);
export const JSON_ONLY: Capabilities = { jsonSchema: true, tools: false, logprobs: false };
export const TOOLS_ONLY: Capabilities = { jsonSchema: false, tools: true, logprobs: false };
