import { describe, expect, it } from "vitest";
import type { NodeView } from "../../routing/node-view.ts";
import { JSON_ONLY, large, medium, model, node, order, plan, small, TOOLS_ONLY } from "./plan-ladder-fixtures.ts";

// Rungs left out because they cannot hold the request (context) or cannot honour it (capabilities).
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
