import { describe, expect, it } from "vitest";
import { buildCatalog, NO_CAPABILITIES } from "../../routing/catalog.ts";
import type { NodeView, RoutedModel } from "../../routing/node-view.ts";
import { DEFAULT_POLICY } from "../../routing/policy.ts";

function model(id: string, fields: Partial<RoutedModel> = {}): RoutedModel {
  return { id, parameters: 1_500_000_000, quantization: "Q4_K_M", contextLength: 4096, tokensPerSecond: 50, slots: 4, ...fields };
}

function node(id: string, models: RoutedModel[], fields: Partial<NodeView> = {}): NodeView {
  return { id, name: `name-${id}`, kind: "native", slots: 4, active: 0, activeByModel: {}, draining: false, models, ...fields };
}

describe("buildCatalog", () => {
  it("lists each model once, with every node that serves it and that node's own figures", () => {
    const catalog = buildCatalog(
      [
        node("a", [model("m1", { tokensPerSecond: 80, contextLength: 2048 }), model("m2")], { activeByModel: { m1: 2 } }),
        node("b", [model("m1", { tokensPerSecond: 20, contextLength: 8192 })], { kind: "browser", draining: true }),
      ],
      DEFAULT_POLICY,
    );
    expect(catalog.map((e) => e.id)).toEqual(["m1", "m2"]);
    expect(catalog[0]!.nodes).toEqual([
      {
        id: "a",
        name: "name-a",
        kind: "native",
        tokensPerSecond: 80,
        slots: 4,
        active: 2,
        contextLength: 2048,
        capabilities: NO_CAPABILITIES,
        draining: false,
      },
      {
        id: "b",
        name: "name-b",
        kind: "browser",
        tokensPerSecond: 20,
        slots: 4,
        active: 0,
        contextLength: 8192,
        capabilities: NO_CAPABILITIES,
        draining: true,
      },
    ]);
  });

  it("takes the largest context, whichever order nodes report it in", () => {
    const short = model("m", { contextLength: 2048 });
    const long = model("m", { contextLength: 16384 });
    expect(buildCatalog([node("a", [short]), node("b", [long])], DEFAULT_POLICY)[0]?.contextLength).toBe(16384);
    expect(buildCatalog([node("b", [long]), node("a", [short])], DEFAULT_POLICY)[0]?.contextLength).toBe(16384);
  });

  it("unions capabilities across nodes; a node that announces none has none", () => {
    const json = model("m", { capabilities: { jsonSchema: true, tools: false, logprobs: true } });
    const tools = model("m", { capabilities: { jsonSchema: false, tools: true, logprobs: false } });
    expect(buildCatalog([node("a", [json]), node("b", [tools])], DEFAULT_POLICY)[0]?.capabilities).toEqual({
      jsonSchema: true,
      tools: true,
      logprobs: true,
    });
    expect(buildCatalog([node("a", [model("m")])], DEFAULT_POLICY)[0]?.capabilities).toEqual(NO_CAPABILITIES);
    // The union survives a later node with a larger context replacing the description.
    const wide = model("m", { contextLength: 32768 });
    expect(buildCatalog([node("a", [json]), node("b", [wide])], DEFAULT_POLICY)[0]?.capabilities.jsonSchema).toBe(true);
  });

  it("scores quality from the table, the operator's policy, or an upstream's own figure", () => {
    const nodes = [
      node("a", [model("qwen2.5-7b-instruct-q4_k_m"), model("mystery", { parameters: 7e9 }), model("cloud-big", { quality: 88 })]),
    ];
    const [qwen, mystery, cloud] = buildCatalog(nodes, DEFAULT_POLICY);
    expect(qwen?.quality.score).toBe(74.2);
    expect(mystery?.quality.source).toContain("estimated from parameter count");
    expect(cloud?.quality).toEqual({ score: 88, source: "operator policy" });
    const overridden = buildCatalog(nodes, { ...DEFAULT_POLICY, quality: { mystery: 70, "cloud-big": 60 } });
    expect(overridden.map((e) => e.quality.score)).toEqual([74.2, 70, 60]);
  });

  it("prices a model from the policy first, then from its upstream's figure, else not at all", () => {
    const nodes = [node("a", [model("local"), model("cloud", { pricePerMillionTokens: 0.6 })])];
    const [local, cloud] = buildCatalog(nodes, DEFAULT_POLICY);
    expect(local).not.toHaveProperty("pricePerMillionTokens");
    expect(cloud?.pricePerMillionTokens).toBe(0.6);
    const priced = buildCatalog(nodes, { ...DEFAULT_POLICY, prices: { local: 0.01, cloud: 0.5 } });
    expect(priced.map((e) => e.pricePerMillionTokens)).toEqual([0.01, 0.5]);
  });

  it("is empty with no nodes", () => {
    expect(buildCatalog([], DEFAULT_POLICY)).toEqual([]);
  });
});
