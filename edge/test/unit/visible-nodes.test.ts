import type { NodeView } from "@rung/shared/routing";
import { describe, expect, it } from "vitest";
import { mayReach, visibleNodes } from "../../src/fabric/visible-nodes.ts";

const model = (id: string) => ({ id, parameters: 1, quantization: "F32", contextLength: 2048, tokensPerSecond: 10, slots: 1 });
const node = (id: string, trust: NodeView["trust"], models: string[]): NodeView => ({
  id,
  name: id,
  ...(trust && { trust }),
  slots: 1,
  active: 0,
  activeByModel: {},
  draining: false,
  models: models.map(model),
});

const views = [node("agent", undefined, ["s", "m"]), node("tab", "public", ["s", "l"]), node("upstream", "private", ["xl"])];
const ids = (list: readonly NodeView[]) => list.map((v) => `${v.id}:${v.models.map((m) => m.id).join("+")}`);

describe("visibleNodes", () => {
  it("hands an every-tier key without a model list the list itself, unfiltered", () => {
    expect(visibleNodes(views, { tiers: ["private", "public"] })).toBe(views);
  });

  it("keeps a private key to owned nodes (a node without a tier is private) and a public one to tabs", () => {
    expect(ids(visibleNodes(views, { tiers: ["private"] }))).toEqual(["agent:s+m", "upstream:xl"]);
    expect(ids(visibleNodes(views, { tiers: ["public"] }))).toEqual(["tab:s+l"]);
  });

  it("leaves each node only the models the key lists, and drops nodes left with none", () => {
    expect(ids(visibleNodes(views, { tiers: ["private", "public"], models: ["s"] }))).toEqual(["agent:s", "tab:s"]);
    expect(views[0]!.models).toHaveLength(2);
  });
});

describe("mayReach", () => {
  it("checks tier and model together", () => {
    expect(mayReach({ tiers: ["private"] }, views[0]!, "s")).toBe(true);
    expect(mayReach({ tiers: ["private"] }, views[1]!, "s")).toBe(false);
    expect(mayReach({ tiers: ["private", "public"], models: ["l"] }, views[1]!, "s")).toBe(false);
  });
});
