import { describe, expect, it } from "vitest";
import type { ModelInfo } from "../protocol/messages.ts";
import { catalogModels, hasFreeSlot, planLadder, type LadderRequest, type NodeView, type Plan } from "./plan-ladder.ts";

function model(id: string, parameters: number, contextLength = 4096, tokensPerSecond = 50): ModelInfo {
  return { id, parameters, quantization: "Q4_K_M", contextLength, tokensPerSecond, slots: 8 };
}

function node(id: string, models: ModelInfo[], load: Partial<Pick<NodeView, "slots" | "active" | "activeByModel" | "draining">> = {}): NodeView {
  return { id, name: `name-${id}`, slots: 1, active: 0, activeByModel: {}, draining: false, models, ...load };
}

function auto(promptTokens = 100, maxTokens = 100): LadderRequest {
  return { model: "auto", promptTokens, maxTokens };
}

function pinned(modelId: string, promptTokens = 100, maxTokens = 100): LadderRequest {
  return { model: modelId, promptTokens, maxTokens };
}

/** `model@node` for each candidate, in ladder order. */
function order(plan: Plan): string[] {
  if (!plan.ok) throw new Error(`expected a plan, got ${plan.status} ${plan.code}: ${plan.message}`);
  return plan.candidates.map((c) => `${c.model.id}@${c.nodeId}`);
}

const small = model("small-0.5b", 500_000_000, 2048);
const medium = model("medium-1.5b", 1_500_000_000, 4096);
const large = model("large-7b", 7_000_000_000, 8192);

describe("planLadder: climbing order", () => {
  it("orders models smallest first by parameter count, whatever order nodes list them in", () => {
    const nodes = [node("n1", [large, small]), node("n2", [medium])];
    expect(order(planLadder(auto(), nodes))).toEqual(["small-0.5b@n1", "medium-1.5b@n2", "large-7b@n1"]);
  });

  it("breaks a tie in parameter count by model id so the order is stable", () => {
    const zeta = model("zeta", 1_000);
    const alpha = model("alpha", 1_000);
    expect(order(planLadder(auto(), [node("n1", [zeta, alpha])]))).toEqual(["alpha@n1", "zeta@n1"]);
  });

  it("lists every free node of a model before climbing to the next model", () => {
    const nodes = [node("a", [small, large]), node("b", [small, large])];
    expect(order(planLadder(auto(), nodes))).toEqual(["small-0.5b@a", "small-0.5b@b", "large-7b@a", "large-7b@b"]);
  });

  it("hands back the node's own model info, not the merged catalog entry", () => {
    const fast = { ...medium, tokensPerSecond: 99 };
    const plan = planLadder(auto(), [node("n1", [fast])]);
    expect(plan.ok && plan.candidates[0]?.model).toEqual(fast);
  });
});

describe("planLadder: context", () => {
  it("skips models whose context cannot hold prompt plus max_tokens", () => {
    const nodes = [node("n1", [small, medium, large])];
    // 3000 + 1500 = 4500 tokens: too many for 2048 and 4096, fits 8192.
    expect(order(planLadder(auto(3000, 1500), nodes))).toEqual(["large-7b@n1"]);
  });

  it("accepts a request that fills the context exactly and refuses one token more", () => {
    const nodes = [node("n1", [small])];
    expect(planLadder(auto(2000, 48), nodes).ok).toBe(true);
    expect(planLadder(auto(2000, 49), nodes).ok).toBe(false);
  });

  it("reserves one token for the answer when max_tokens is absent", () => {
    const nodes = [node("n1", [small])];
    // Built inline: a default parameter would turn an explicit `undefined` into a number.
    expect(planLadder({ model: "auto", promptTokens: 2047, maxTokens: undefined }, nodes).ok).toBe(true);
    expect(planLadder({ model: "auto", promptTokens: 2048, maxTokens: undefined }, nodes).ok).toBe(false);
  });

  it("refuses with 400 context_length_exceeded naming the need and the largest context when nothing fits", () => {
    const plan = planLadder(auto(9000, 1000), [node("n1", [small, large]), node("n2", [medium])]);
    expect(plan).toMatchObject({ ok: false, status: 400, code: "context_length_exceeded" });
    expect(!plan.ok && plan.message).toContain("10000 tokens");
    expect(!plan.ok && plan.message).toContain("8192 tokens");
  });

  it("names the pinned model's context, not a larger model's, when a pinned request does not fit", () => {
    const plan = planLadder(pinned("small-0.5b", 3000, 100), [node("n1", [small, large])]);
    expect(plan).toMatchObject({ ok: false, status: 400, code: "context_length_exceeded" });
    expect(!plan.ok && plan.message).toContain("2048 tokens");
    expect(!plan.ok && plan.message).not.toContain("8192");
  });

  it("does not offer a node whose own context for the model is too small", () => {
    const shortContext = { ...medium, contextLength: 2048 };
    const longContext = { ...medium, contextLength: 8192 };
    const nodes = [node("short", [shortContext]), node("long", [longContext])];
    expect(order(planLadder(auto(4000, 100), nodes))).toEqual(["medium-1.5b@long"]);
  });
});

describe("planLadder: pinned model", () => {
  it("offers only the pinned model's nodes and never climbs to another model", () => {
    const nodes = [node("a", [small, medium]), node("b", [medium]), node("c", [large])];
    expect(order(planLadder(pinned("medium-1.5b"), nodes))).toEqual(["medium-1.5b@a", "medium-1.5b@b"]);
  });

  it("refuses an unknown model id with 404 model_not_found naming it", () => {
    const plan = planLadder(pinned("gpt-4o"), [node("n1", [small])]);
    expect(plan).toMatchObject({ ok: false, status: 404, code: "model_not_found" });
    expect(!plan.ok && plan.message).toContain("'gpt-4o'");
  });

  it("treats a model served only by draining nodes as known: 503, not 404", () => {
    const plan = planLadder(pinned("small-0.5b"), [node("n1", [small], { draining: true })]);
    expect(plan).toMatchObject({ ok: false, status: 503, code: "no_capable_node" });
  });
});

describe("planLadder: nodes and load", () => {
  it("puts the least loaded node first, by share of slots in use", () => {
    const nodes = [
      node("half", [small], { slots: 2, active: 1 }),
      node("idle", [small], { slots: 2, active: 0 }),
      node("quarter", [small], { slots: 4, active: 1 }),
    ];
    expect(order(planLadder(auto(), nodes))).toEqual(["small-0.5b@idle", "small-0.5b@quarter", "small-0.5b@half"]);
  });

  it("prefers a node with more free share over one with fewer jobs but fewer slots", () => {
    const nodes = [node("tiny", [small], { slots: 2, active: 1 }), node("big", [small], { slots: 8, active: 2 })];
    expect(order(planLadder(auto(), nodes))).toEqual(["small-0.5b@big", "small-0.5b@tiny"]);
  });

  it("breaks a load tie by the node's measured speed, fastest first", () => {
    const nodes = [
      node("slow", [{ ...small, tokensPerSecond: 10 }]),
      node("fast", [{ ...small, tokensPerSecond: 80 }]),
      node("mid", [{ ...small, tokensPerSecond: 40 }]),
    ];
    expect(order(planLadder(auto(), nodes))).toEqual(["small-0.5b@fast", "small-0.5b@mid", "small-0.5b@slow"]);
  });

  it("skips saturated nodes", () => {
    const nodes = [node("full", [small], { slots: 2, active: 2 }), node("free", [small], { slots: 2, active: 1 })];
    expect(order(planLadder(auto(), nodes))).toEqual(["small-0.5b@free"]);
  });

  it("climbs past a model whose nodes are all saturated", () => {
    const nodes = [node("full", [small], { active: 1 }), node("free", [large])];
    expect(order(planLadder(auto(), nodes))).toEqual(["large-7b@free"]);
  });

  it("refuses with 429 nodes_busy when every capable node is saturated", () => {
    const nodes = [node("a", [small], { active: 1 }), node("b", [large], { slots: 3, active: 3 })];
    expect(planLadder(auto(), nodes)).toMatchObject({ ok: false, status: 429, code: "nodes_busy" });
  });

  it("counts only nodes whose model fits the context when deciding busy", () => {
    // The only free node serves a model too small for the request: still busy, not a candidate.
    const nodes = [node("free-small", [small]), node("full-large", [large], { active: 1 })];
    expect(planLadder(auto(5000, 100), nodes)).toMatchObject({ ok: false, status: 429, code: "nodes_busy" });
  });

  it("excludes draining nodes", () => {
    const nodes = [node("leaving", [small], { draining: true }), node("staying", [small])];
    expect(order(planLadder(auto(), nodes))).toEqual(["small-0.5b@staying"]);
  });

  it("refuses with 503 no_capable_node when only draining nodes serve the request", () => {
    const plan = planLadder(auto(), [node("leaving", [small, large], { draining: true })]);
    expect(plan).toMatchObject({ ok: false, status: 503, code: "no_capable_node" });
  });

  it("answers 429, not 503, when some capable nodes are saturated and the rest draining", () => {
    const nodes = [node("leaving", [small], { draining: true }), node("full", [small], { active: 1 })];
    expect(planLadder(auto(), nodes)).toMatchObject({ ok: false, status: 429, code: "nodes_busy" });
  });

  it("refuses with 503 no_capable_node when no node is connected", () => {
    expect(planLadder(auto(), [])).toMatchObject({ ok: false, status: 503, code: "no_capable_node" });
  });
});

describe("catalogModels", () => {
  it("lists each model id once across nodes", () => {
    const catalog = catalogModels([node("a", [small, medium]), node("b", [medium, large])]);
    expect([...catalog.keys()].sort()).toEqual(["large-7b", "medium-1.5b", "small-0.5b"]);
  });

  it("keeps the entry with the largest context, in whichever order nodes report it", () => {
    const short = { ...medium, contextLength: 2048 };
    const long = { ...medium, contextLength: 16384 };
    expect(catalogModels([node("a", [short]), node("b", [long])]).get(medium.id)?.contextLength).toBe(16384);
    expect(catalogModels([node("b", [long]), node("a", [short])]).get(medium.id)?.contextLength).toBe(16384);
  });

  it("includes the models of draining nodes", () => {
    expect(catalogModels([node("leaving", [small], { draining: true })]).has(small.id)).toBe(true);
  });

  it("is empty with no nodes", () => {
    expect(catalogModels([]).size).toBe(0);
  });
});

describe("per-model slots", () => {
  const oneSlot = { ...small, slots: 1 };

  it("skips a node whose sequences for the model are all busy, though the node has room", () => {
    const nodes = [node("busy-model", [oneSlot, large], { slots: 4, active: 1, activeByModel: { [small.id]: 1 } }), node("spare", [oneSlot])];
    expect(order(planLadder(pinned(small.id), nodes))).toEqual([`${small.id}@spare`]);
    expect(hasFreeSlot(nodes[0]!, large.id)).toBe(true);
    expect(hasFreeSlot(nodes[0]!, small.id)).toBe(false);
  });

  it("ranks by the fuller of the model's share and the node's", () => {
    const nodes = [
      node("model-half-full", [{ ...small, slots: 2 }], { slots: 8, active: 1, activeByModel: { [small.id]: 1 } }),
      node("node-quarter-full", [{ ...small, slots: 8 }], { slots: 4, active: 1, activeByModel: {} }),
    ];
    expect(order(planLadder(pinned(small.id), nodes))).toEqual([`${small.id}@node-quarter-full`, `${small.id}@model-half-full`]);
  });
});
