import { describe, expect, it } from "vitest";
import { SHIPPED_BAR } from "../../routing/judge.ts";
import { JSON_ONLY, large, medium, model, node, ok, order, plan, policy, small } from "./plan-ladder-fixtures.ts";

// Which rungs the ladder has, in what order, and where a request starts on it (profile, pre-routing, maxRung).
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
    expect(ok(plan(nodes, {}, p)).escalation.minMeanConfidence).toBe(SHIPPED_BAR);
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
