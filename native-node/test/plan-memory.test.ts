import { describe, expect, it } from "vitest";
import { type ModelToFit, planMemory } from "../src/engines/plan-memory.ts";

const MB = 1e6;

/** A model of `weights` MB whose context costs `base` MB plus `perSlot` MB per sequence. */
function fake(id: string, weights: number, base: number, perSlot: number): ModelToFit {
  return { id, weightsBytes: weights * MB, contextSize: 4096, contextBytes: async (n) => (base + perSlot * n) * MB };
}

describe("planMemory", () => {
  it("gives every model the slots wanted when they all fit", async () => {
    const plan = await planMemory([fake("a", 100, 10, 5), fake("b", 200, 10, 5)], {
      budgetBytes: 1000 * MB,
      budgetName: "free RAM",
      slots: 4,
    });
    expect(plan).toEqual({
      ok: true,
      models: [
        { id: "a", slots: 4, bytes: 130 * MB },
        { id: "b", slots: 4, bytes: 230 * MB },
      ],
    });
  });

  it("cuts slots to what fits, keeping one for every model", async () => {
    // a: 100 + 10 + 5n, b: 200 + 10 + 5n. One slot each: 330; 20 left buys a 4 more slots, b none.
    const plan = await planMemory([fake("a", 100, 10, 5), fake("b", 200, 10, 5)], {
      budgetBytes: 350 * MB,
      budgetName: "free RAM",
      slots: 8,
    });
    expect(plan).toMatchObject({
      ok: true,
      models: [
        { id: "a", slots: 5 },
        { id: "b", slots: 1 },
      ],
    });
  });

  it("refuses the model that does not fit, saying what it needs, what is free and what to try", async () => {
    const plan = await planMemory([fake("small", 100, 10, 5), fake("huge", 900, 10, 5)], {
      budgetBytes: 500 * MB,
      budgetName: "free VRAM",
      slots: 2,
    });
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.modelId).toBe("huge");
    expect(plan.message).toContain("huge does not fit: it needs about 915.0 MB (weights 900.0 MB, one slot of 4096 tokens 15.0 MB)");
    expect(plan.message).toContain("only 385.0 MB of free VRAM is left after the 115.0 MB the models before it take");
    expect(plan.message).toMatch(/smaller quantization.*--slots.*--context-size/);
  });
});
