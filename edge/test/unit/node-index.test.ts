import type { NodeView } from "@rung/shared/routing";
import { describe, expect, it } from "vitest";
import { SlotCounts } from "../../src/fabric/slot-counts.ts";
import { NodeIndex } from "../../src/fabric/transports/node-index.ts";

function view(id: string, ...modelIds: string[]): NodeView {
  const models = modelIds.map((modelId) => ({
    id: modelId,
    parameters: 1,
    quantization: "F32",
    contextLength: 512,
    tokensPerSecond: 1,
    slots: 1,
  }));
  return { id, name: id, slots: 1, active: 0, activeByModel: {}, draining: false, models };
}

describe("NodeIndex", () => {
  it("lists views in the order they joined, and by model", () => {
    const index = new NodeIndex();
    const a = view("a", "small");
    const b = view("b", "small", "large");
    const c = view("c", "large");
    for (const v of [a, b, c]) index.add(v);
    expect(index.views()).toEqual([a, b, c]);
    expect(index.views("small")).toEqual([a, b]);
    expect(index.views("large")).toEqual([b, c]);
    expect(index.views("unknown")).toEqual([]);
  });

  it("keeps a list until the nodes of its model change, and files a removed view under the models it joined with", () => {
    const index = new NodeIndex();
    const a = view("a", "small");
    const b = view("b", "large");
    index.add(a);
    index.add(b);
    const small = index.views("small");
    expect(index.views("small")).toBe(small);
    const large = index.views("large");
    // A view whose announcement was forgotten first says it serves nothing; it still leaves its model's list.
    (a as { models: NodeView["models"] }).models = [];
    index.remove(a);
    expect(index.views("small")).toEqual([]);
    expect(index.views("large")).toBe(large);
    expect(index.views()).toEqual([b]);
    index.remove(a);
    expect(index.views()).toEqual([b]);
  });
});

describe("SlotCounts", () => {
  it("counts jobs per node and model, read live and without copies", () => {
    const slots = new SlotCounts();
    slots.take("n", "small");
    slots.take("n", "small");
    slots.take("n", "large");
    const byModel = slots.activeByModel("n");
    expect(slots.active("n")).toBe(3);
    expect(byModel).toEqual({ small: 2, large: 1 });
    slots.release("n", "small");
    expect(byModel).toEqual({ small: 1, large: 1 });
    slots.release("n", "small");
    slots.release("n", "large");
    expect(slots.active("n")).toBe(0);
    expect(slots.activeByModel("n")).toEqual({});
    // A release the edge never took (a job that ended twice) changes nothing.
    slots.release("n", "small");
    expect(slots.active("n")).toBe(0);
  });
});
