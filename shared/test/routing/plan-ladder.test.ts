import { describe, expect, it } from "vitest";
import type { Capabilities } from "../../protocol/messages.ts";
import type { NodeView, RoutedModel } from "../../routing/node-view.ts";
import { hasFreeSlot, type LadderPlan, type LadderRequest, type Plan, planLadder } from "../../routing/plan-ladder.ts";
import { DEFAULT_POLICY, type Policy, parsePolicy } from "../../routing/policy.ts";

function model(id: string, parameters: number, contextLength = 4096, tokensPerSecond = 50, capabilities?: Capabilities): RoutedModel {
  return { id, parameters, quantization: "Q4_K_M", contextLength, tokensPerSecond, slots: 8, ...(capabilities ? { capabilities } : {}) };
}

function node(
  id: string,
  models: RoutedModel[],
  load: Partial<Pick<NodeView, "slots" | "active" | "activeByModel" | "draining">> = {},
): NodeView {
  return { id, name: `name-${id}`, slots: 1, active: 0, activeByModel: {}, draining: false, models, ...load };
}

function request(fields: Partial<LadderRequest> = {}): LadderRequest {
  return { model: "auto", promptTokens: 100, maxTokens: 100, needs: { jsonSchema: false, tools: false }, texts: ["hello"], ...fields };
}

function policy(input: unknown): Policy {
  const parsed = parsePolicy(input);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.policy;
}

function ok(plan: Plan): LadderPlan {
  if (!plan.ok) throw new Error(`expected a plan, got ${plan.status} ${plan.code}: ${plan.message}`);
  return plan;
}

/** `model@node,node` per rung, in ladder order. */
function order(plan: Plan): string[] {
  return ok(plan).rungs.map((r) => `${r.model.id}@${r.nodeIds.join(",")}`);
}

const plan = (nodes: NodeView[], fields: Partial<LadderRequest> = {}, p: Policy = DEFAULT_POLICY) => planLadder(request(fields), nodes, p);

// Unknown ids, so quality is estimated from size: the ladder follows parameter count.
const small = model("small-0.5b", 500_000_000, 2048, 120);
const medium = model("medium-1.5b", 1_500_000_000, 4096, 60);
const large = model("large-7b", 7_000_000_000, 8192, 15);
const JSON_ONLY: Capabilities = { jsonSchema: true, tools: false, logprobs: false };
const TOOLS_ONLY: Capabilities = { jsonSchema: false, tools: true, logprobs: false };

describe("planLadder: rung order", () => {
  it("orders rungs by quality, whatever order nodes list them in", () => {
    expect(order(plan([node("n1", [large, small]), node("n2", [medium])]))).toEqual(["small-0.5b@n1", "medium-1.5b@n2", "large-7b@n1"]);
  });

  it("orders by published quality over size: a better small model sits above a worse big one", () => {
    const qwen3b = model("qwen2.5-3b-instruct-q4_k_m", 3_000_000_000);
    const mistral7b = model("mistral-7b-instruct-v0.3", 7_000_000_000);
    expect(order(plan([node("n1", [qwen3b, mistral7b])]))).toEqual(["mistral-7b-instruct-v0.3@n1", "qwen2.5-3b-instruct-q4_k_m@n1"]);
  });

  it("breaks a quality tie by parameter count, then by id", () => {
    const scores = policy({ quality: { zeta: 60, alpha: 60, big: 60 } });
    const nodes = [node("n1", [model("zeta", 1000), model("big", 5000), model("alpha", 1000)])];
    expect(order(plan(nodes, {}, scores))).toEqual(["alpha@n1", "zeta@n1", "big@n1"]);
  });

  it("lists every node of a rung, draining ones left out", () => {
    const nodes = [node("a", [small, large]), node("b", [small, large]), node("c", [small], { draining: true })];
    expect(order(plan(nodes))).toEqual(["small-0.5b@a,b", "large-7b@a,b"]);
  });

  it("drops a rung whose nodes are all draining but keeps the rest", () => {
    expect(order(plan([node("leaving", [small], { draining: true }), node("staying", [large])]))).toEqual(["large-7b@staying"]);
  });

  it("describes each rung with its quality and capabilities", () => {
    const rung = ok(plan([node("n1", [model("qwen2.5-7b-instruct", 7e9, 4096, 20, JSON_ONLY)])])).rungs[0]!;
    expect(rung.model).toMatchObject({
      id: "qwen2.5-7b-instruct",
      parameters: 7e9,
      contextLength: 4096,
      capabilities: JSON_ONLY,
      quality: { score: 74.2 },
    });
    expect(rung.model).not.toHaveProperty("nodes");
  });
});

describe("planLadder: profiles and start", () => {
  const nodes = [node("n1", [small, medium, large])];

  it("auto uses the policy's default profile", () => {
    expect(ok(plan(nodes))).toMatchObject({ profile: "balanced", startIndex: 0, pinned: false, preRouted: [] });
    expect(ok(plan(nodes, {}, policy({ defaultProfile: "quality" })))).toMatchObject({ profile: "quality", startIndex: 2 });
  });

  it("auto:<profile> picks the profile", () => {
    expect(ok(plan(nodes, { model: "auto:quality" }))).toMatchObject({ profile: "quality", startIndex: 2 });
    expect(ok(plan(nodes, { model: "auto:speed" }))).toMatchObject({ profile: "speed", startIndex: 0 });
    expect(ok(plan(nodes, { model: "auto:budget" }))).toMatchObject({ profile: "budget", startIndex: 0 });
  });

  it("refuses an unknown profile with 404, listing the valid ones", () => {
    const refused = plan(nodes, { model: "auto:fastest" });
    expect(refused).toMatchObject({ ok: false, status: 404, code: "model_not_found" });
    expect(!refused.ok && refused.message).toContain("'auto:fastest'");
    expect(!refused.ok && refused.message).toContain("auto:long_context");
  });

  it("long_context starts at the largest context", () => {
    expect(ok(plan(nodes, { model: "auto:long_context" })).startIndex).toBe(2);
  });

  it("starts among the rungs that fit, not the whole catalog", () => {
    // 1500 + 1000 tokens (below the long-prompt mark): only medium and large fit;
    // quality starts at large, balanced at medium.
    const fitting = { promptTokens: 1500, maxTokens: 1000 };
    expect(order(plan(nodes, fitting))).toEqual(["medium-1.5b@n1", "large-7b@n1"]);
    expect(ok(plan(nodes, { ...fitting, model: "auto:quality" })).startIndex).toBe(1);
    expect(ok(plan(nodes, fitting))).toMatchObject({ startIndex: 0, preRouted: [] });
  });

  it("carries the effective escalation settings of the profile and the request", () => {
    const p = policy({ profiles: { quality: { minMeanConfidence: 0.8 } } });
    expect(ok(plan(nodes, { model: "auto:quality" }, p)).escalation).toMatchObject({ enabled: true, minMeanConfidence: 0.8 });
    expect(ok(plan(nodes, {}, p)).escalation.minMeanConfidence).toBe(0.97);
    expect(ok(plan(nodes, { override: { minConfidence: 0.3 } }, p)).escalation.minMeanConfidence).toBe(0.3);
    expect(ok(plan(nodes, { override: { escalate: false } }, p)).escalation.enabled).toBe(false);
  });
});

describe("planLadder: pre-routing", () => {
  const nodes = [node("n1", [small, medium, large])];
  const math = { texts: ["Solve 2x + 3 = 11 step by step"] };

  it("starts a hard-looking request rungsUp higher and says why", () => {
    expect(ok(plan(nodes, math))).toMatchObject({ startIndex: 1, preRouted: ["math", "multi-step"] });
    expect(ok(plan(nodes, math, policy({ preRouting: { rungsUp: 2 } }))).startIndex).toBe(2);
  });

  it("never starts above the top rung", () => {
    expect(ok(plan(nodes, { ...math, model: "auto:quality" })).startIndex).toBe(2);
    expect(ok(plan(nodes, math, policy({ preRouting: { rungsUp: 5 } }))).startIndex).toBe(2);
  });

  it("flags a long prompt from the estimated prompt tokens", () => {
    const wide = [node("n1", [model("s", 5e8, 8192), model("l", 7e9, 8192)])];
    expect(ok(plan(wide, { promptTokens: 2400 }))).toMatchObject({ startIndex: 1, preRouted: ["long prompt (2400 tokens)"] });
  });

  it("does nothing when pre-routing is off, when the request turns escalation off, or when pinned", () => {
    expect(ok(plan(nodes, math, policy({ preRouting: { enabled: false } })))).toMatchObject({ startIndex: 0, preRouted: [] });
    expect(ok(plan(nodes, { ...math, override: { escalate: false } }))).toMatchObject({ startIndex: 0, preRouted: [] });
    expect(ok(plan(nodes, { ...math, model: "small-0.5b" }))).toMatchObject({ startIndex: 0, preRouted: [] });
  });
});

describe("planLadder: maxRung", () => {
  const nodes = [node("n1", [small, medium, large])];

  it("cuts the rungs above the named model", () => {
    expect(order(plan(nodes, { override: { maxRung: "medium-1.5b" } }))).toEqual(["small-0.5b@n1", "medium-1.5b@n1"]);
    expect(ok(plan(nodes, { model: "auto:quality", override: { maxRung: "medium-1.5b" } })).startIndex).toBe(1);
  });

  it("refuses an unknown maxRung with 404 naming it", () => {
    const refused = plan(nodes, { override: { maxRung: "gpt-5" } });
    expect(refused).toMatchObject({ ok: false, status: 404, code: "model_not_found" });
    expect(!refused.ok && refused.message).toContain("'gpt-5'");
  });

  it("refuses with 400 when every rung up to maxRung is too small for the request", () => {
    expect(plan(nodes, { promptTokens: 3000, override: { maxRung: "small-0.5b" } })).toMatchObject({
      ok: false,
      status: 400,
      code: "context_length_exceeded",
    });
  });
});

describe("planLadder: context", () => {
  it("skips models whose context cannot hold prompt plus max_tokens", () => {
    // 3000 + 1500 = 4500 tokens: too many for 2048 and 4096, fits 8192.
    expect(order(plan([node("n1", [small, medium, large])], { promptTokens: 3000, maxTokens: 1500 }))).toEqual(["large-7b@n1"]);
  });

  it("accepts a request that fills the context exactly and refuses one token more", () => {
    const nodes = [node("n1", [small])];
    expect(plan(nodes, { promptTokens: 2000, maxTokens: 48 }).ok).toBe(true);
    expect(plan(nodes, { promptTokens: 2000, maxTokens: 49 }).ok).toBe(false);
  });

  it("reserves one token for the answer when max_tokens is absent", () => {
    const nodes = [node("n1", [small])];
    expect(plan(nodes, { promptTokens: 2047, maxTokens: undefined }).ok).toBe(true);
    expect(plan(nodes, { promptTokens: 2048, maxTokens: undefined }).ok).toBe(false);
  });

  it("refuses with 400 context_length_exceeded naming the need and the largest context when nothing fits", () => {
    const refused = plan([node("n1", [small, large]), node("n2", [medium])], { promptTokens: 9000, maxTokens: 1000 });
    expect(refused).toMatchObject({ ok: false, status: 400, code: "context_length_exceeded" });
    expect(!refused.ok && refused.message).toContain("10000 tokens");
    expect(!refused.ok && refused.message).toContain("8192 tokens");
  });

  it("names the pinned model's context, not a larger model's, when a pinned request does not fit", () => {
    const refused = plan([node("n1", [small, large])], { model: "small-0.5b", promptTokens: 3000 });
    expect(refused).toMatchObject({ ok: false, status: 400, code: "context_length_exceeded" });
    expect(!refused.ok && refused.message).toContain("2048 tokens");
    expect(!refused.ok && refused.message).not.toContain("8192");
  });

  it("offers only the nodes whose own context for the model holds the request", () => {
    const nodes = [node("short", [{ ...medium, contextLength: 2048 }]), node("long", [{ ...medium, contextLength: 8192 }])];
    expect(order(plan(nodes, { promptTokens: 4000 }))).toEqual(["medium-1.5b@long"]);
    expect(order(plan(nodes, { promptTokens: 1000 }))).toEqual(["medium-1.5b@short,long"]);
  });
});

describe("planLadder: capabilities", () => {
  const plain = model("plain-7b", 7e9);
  const json = model("json-0.5b", 5e8, 4096, 100, JSON_ONLY);
  const tools = model("tools-3b", 3e9, 4096, 40, TOOLS_ONLY);

  it("keeps only rungs with a node that honours the needed capability", () => {
    const nodes = [node("n1", [plain, json, tools])];
    expect(order(plan(nodes, { needs: { jsonSchema: true, tools: false } }))).toEqual(["json-0.5b@n1"]);
    expect(order(plan(nodes, { needs: { jsonSchema: false, tools: true } }))).toEqual(["tools-3b@n1"]);
    expect(order(plan(nodes))).toEqual(["json-0.5b@n1", "tools-3b@n1", "plain-7b@n1"]);
  });

  it("offers only the nodes of a model that announced the capability", () => {
    const nodes = [node("old", [{ ...json, capabilities: undefined }]), node("new", [json])] as NodeView[];
    expect(order(plan(nodes, { needs: { jsonSchema: true, tools: false } }))).toEqual(["json-0.5b@new"]);
  });

  it("answers 503 naming the capability when no connected model has it", () => {
    const refused = plan([node("n1", [plain, json])], { needs: { jsonSchema: false, tools: true } });
    expect(refused).toMatchObject({ ok: false, status: 503, code: "no_capable_node" });
    expect(!refused.ok && refused.message).toContain("function calling (tools)");
  });

  it("answers 503 naming both when no single node has both", () => {
    const refused = plan([node("n1", [json, tools])], { needs: { jsonSchema: true, tools: true } });
    expect(refused).toMatchObject({ ok: false, status: 503 });
    expect(!refused.ok && refused.message).toContain("structured output (response_format) and function calling (tools) together");
  });

  it("counts only nodes that also hold the context", () => {
    const nodes = [
      node("short", [{ ...json, contextLength: 1024 }]),
      node("long", [{ ...json, capabilities: undefined, contextLength: 8192 }]),
    ] as NodeView[];
    const refused = plan(nodes, { promptTokens: 2000, needs: { jsonSchema: true, tools: false } });
    expect(refused).toMatchObject({ ok: false, status: 503, code: "no_capable_node" });
    expect(!refused.ok && refused.message).toContain("structured output");
  });

  it("refuses a pinned model that lacks the capability with 400", () => {
    const refused = plan([node("n1", [plain, json])], { model: "plain-7b", needs: { jsonSchema: true, tools: false } });
    expect(refused).toMatchObject({ ok: false, status: 400, code: "capability_unsupported" });
    expect(!refused.ok && refused.message).toContain("'plain-7b'");
    expect(!refused.ok && refused.message).toContain("structured output");
  });
});

describe("planLadder: pinned model", () => {
  it("offers only the pinned model's nodes, as one rung with climbing off", () => {
    const nodes = [node("a", [small, medium]), node("b", [medium]), node("c", [large])];
    const pinned = ok(plan(nodes, { model: "medium-1.5b" }));
    expect(order(pinned)).toEqual(["medium-1.5b@a,b"]);
    expect(pinned).toMatchObject({ pinned: true, profile: undefined, startIndex: 0 });
    expect(pinned.escalation.enabled).toBe(false);
  });

  it("ignores maxRung", () => {
    expect(order(plan([node("a", [small, large])], { model: "large-7b", override: { maxRung: "small-0.5b" } }))).toEqual(["large-7b@a"]);
  });

  it("refuses an unknown model id with 404 model_not_found naming it", () => {
    const refused = plan([node("n1", [small])], { model: "gpt-4o" });
    expect(refused).toMatchObject({ ok: false, status: 404, code: "model_not_found" });
    expect(!refused.ok && refused.message).toContain("'gpt-4o'");
  });

  it("treats a model served only by draining nodes as known: 503, not 404", () => {
    expect(plan([node("n1", [small], { draining: true })], { model: "small-0.5b" })).toMatchObject({
      ok: false,
      status: 503,
      code: "no_capable_node",
    });
  });
});

describe("planLadder: nothing to run on", () => {
  it("refuses with 503 no_capable_node when no node is connected", () => {
    expect(plan([])).toMatchObject({ ok: false, status: 503, code: "no_capable_node" });
  });

  it("refuses with 503 no_capable_node when only draining nodes serve the request", () => {
    const refused = plan([node("leaving", [small, large], { draining: true })]);
    expect(refused).toMatchObject({ ok: false, status: 503, code: "no_capable_node" });
    expect(!refused.ok && refused.message).toContain("shutting down");
  });

  it("does not refuse busy nodes: waiting for a slot is the queue's job", () => {
    expect(order(plan([node("full", [small], { slots: 1, active: 1 })]))).toEqual(["small-0.5b@full"]);
  });
});

describe("hasFreeSlot", () => {
  const oneSlot = { ...small, slots: 1 };

  it("is false when the model's sequences are all busy, though the node has room", () => {
    const busy = node("busy-model", [oneSlot, large], { slots: 4, active: 1, activeByModel: { [small.id]: 1 } });
    expect(hasFreeSlot(busy, large.id)).toBe(true);
    expect(hasFreeSlot(busy, small.id)).toBe(false);
  });

  it("is false when the node is full, draining, or does not serve the model", () => {
    expect(hasFreeSlot(node("full", [small], { slots: 2, active: 2 }), small.id)).toBe(false);
    expect(hasFreeSlot(node("leaving", [small], { draining: true }), small.id)).toBe(false);
    expect(hasFreeSlot(node("other", [large]), small.id)).toBe(false);
    expect(hasFreeSlot(node("free", [small], { slots: 2, active: 1 }), small.id)).toBe(true);
  });
});
