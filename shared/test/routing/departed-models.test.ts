import { describe, expect, it } from "vitest";
import { awaitingPlan, DEFAULT_POLICY, type DepartedModel, DepartedModels } from "../../routing/index.ts";

const model = (id: string): DepartedModel => ({
  id,
  parameters: 1_000_000,
  quantization: "F32",
  contextLength: 2048,
  capabilities: { jsonSchema: false, tools: false, logprobs: false },
  quality: { score: 10, source: "estimate" },
});

describe("DepartedModels", () => {
  it("remembers a model whose last node left for the window, then forgets it", () => {
    const departed = new DepartedModels(60_000);
    departed.left(model("small"), 1_000);
    expect(departed.recent("small", 61_000)?.id).toBe("small");
    expect(departed.recent("small", 61_001)).toBeUndefined();
    expect(departed.recent("never", 1_000)).toBeUndefined();
  });

  it("counts the window from the latest departure, and a window of 0 remembers nothing", () => {
    const departed = new DepartedModels(10_000);
    departed.left(model("small"), 0);
    departed.left(model("small"), 8_000);
    expect(departed.recent("small", 17_000)?.id).toBe("small");
    departed.reconfigure(0);
    departed.left(model("large"), 20_000);
    expect(departed.recent("large", 20_000)).toBeUndefined();
  });

  it("prunes what left before the window as new departures come, oldest first", () => {
    const departed = new DepartedModels(1_000);
    for (let i = 0; i < 1_000; i++) departed.left(model(`m${i}`), i * 10);
    departed.left(model("last"), 100_000);
    departed.reconfigure(1_000_000);
    // Pruned at the last departure: none of the old ones is remembered any longer, whatever the window now.
    expect(departed.recent("m999", 100_000)).toBeUndefined();
    expect(departed.recent("last", 100_000)?.id).toBe("last");
  });
});

describe("awaitingPlan", () => {
  it("is the pinned plan of the one departed model with no node yet, never climbing", () => {
    const plan = awaitingPlan(model("small"), DEFAULT_POLICY);
    expect(plan).toMatchObject({ ok: true, rungs: [{ model: { id: "small" }, nodeIds: [] }], startIndex: 0, pinned: true, preRouted: [] });
    expect(plan.escalation.enabled).toBe(false);
  });
});
