import { describe, expect, it } from "vitest";
import type { ModelInfo } from "../../protocol/messages.ts";
import type { NodeView } from "../../routing/node-view.ts";
import { type PickOptions, pickNode } from "../../routing/pick-node.ts";

const MODEL = "m";

function model(tokensPerSecond: number, slots = 4, id = MODEL): ModelInfo {
  return { id, parameters: 1_000_000_000, quantization: "Q4_K_M", contextLength: 4096, tokensPerSecond, slots };
}

function node(
  id: string,
  tokensPerSecond: number,
  load: Partial<Pick<NodeView, "slots" | "active" | "activeByModel" | "draining">> = {},
  models = [model(tokensPerSecond)],
): NodeView {
  return { id, name: `name-${id}`, slots: 4, active: 0, activeByModel: {}, draining: false, models, ...load };
}

/** mulberry32: a small seeded generator, so the many-trials tests are repeatable. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns the given values in turn. */
function sequence(...values: number[]): () => number {
  return () => {
    const value = values.shift();
    if (value === undefined) throw new Error("random called more often than expected");
    return value;
  };
}

function options(random: () => number, extra: Partial<PickOptions> = {}): PickOptions {
  return { random, available: () => true, ...extra };
}

function tally(nodes: NodeView[], trials: number, extra: Partial<PickOptions> = {}): Map<string | undefined, number> {
  const random = seeded(42);
  const counts = new Map<string | undefined, number>();
  for (let i = 0; i < trials; i++) {
    const id = pickNode(nodes, MODEL, options(random, extra))?.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe("pickNode", () => {
  it("never picks a full, draining, unavailable or excluded node, nor one without the model", () => {
    const nodes = [
      node("full", 100, { slots: 2, active: 2 }),
      node("model-full", 100, { activeByModel: { [MODEL]: 4 }, active: 4, slots: 8 }),
      node("draining", 100, { draining: true }),
      node("broken", 100),
      node("tried", 100),
      node("other-model", 100, {}, [model(100, 4, "other")]),
      node("ok", 1, { active: 3 }),
    ];
    const extra = { available: (id: string) => id !== "broken", exclude: new Set(["tried"]) };
    expect(tally(nodes, 500, extra)).toEqual(new Map([["ok", 500]]));
  });

  it("gives undefined when no node is eligible", () => {
    expect(pickNode([], MODEL, options(sequence()))).toBeUndefined();
    expect(pickNode([node("a", 10, { draining: true })], MODEL, options(sequence()))).toBeUndefined();
  });

  it("takes the only eligible node without drawing", () => {
    const nodes = [node("a", 10), node("b", 10)];
    expect(pickNode(nodes, MODEL, options(sequence(), { exclude: new Set(["a"]) }))?.id).toBe("b");
  });

  it("over many trials prefers the idle fast node, and never the worst", () => {
    const nodes = [node("slow-idle", 20), node("fast-busy", 100, { active: 3, activeByModel: { [MODEL]: 3 } }), node("fast-idle", 100)];
    const counts = tally(nodes, 3000);
    // The best node wins whenever it is one of the two drawn: 2 draws in 3.
    expect(counts.get("fast-idle")! / 3000).toBeGreaterThan(0.6);
    expect(counts.get("fast-idle")! / 3000).toBeLessThan(0.73);
    // fast-busy waits (3+1)/4/100 = 0.01, slow-idle 1/4/20 = 0.0125: the busy fast node beats the idle slow one.
    expect(counts.get("slow-idle")).toBeUndefined();
  });

  it("picks the same node for the same draws", () => {
    const nodes = [node("a", 50, { active: 2 }), node("b", 50, { active: 1 }), node("c", 50)];
    // Draws 0 and 0 compare a and b; 0.999 and 0.999 compare c and b.
    expect(pickNode(nodes, MODEL, options(sequence(0, 0)))?.id).toBe("b");
    expect(pickNode(nodes, MODEL, options(sequence(0.999, 0.999)))?.id).toBe("c");
    expect(pickNode(nodes, MODEL, options(seeded(7)))?.id).toBe(pickNode(nodes, MODEL, options(seeded(7)))?.id);
  });

  it("weighs load against the model's own slots as well as the node's", () => {
    // Node-wide a is emptier, but its model has 1 slot of 2 taken: (1+1)/2 = 1 against b's (0+1)/4.
    const a = node("a", 50, { slots: 16, active: 1, activeByModel: { [MODEL]: 1 } }, [model(50, 2)]);
    const b = node("b", 50, { slots: 4, active: 0 });
    expect(pickNode([a, b], MODEL, options(sequence(0, 0)))?.id).toBe("b");
  });

  it("treats a node without a measured speed as the median of the others", () => {
    // unmeasured counts as 75 tokens/s, faster than the measured 50.
    const nodes = [node("unmeasured", 0), node("medium", 50), node("fast", 100)];
    expect(pickNode(nodes, MODEL, options(sequence(0, 0)))?.id).toBe("unmeasured");
    expect(pickNode(nodes, MODEL, options(sequence(0, 0.999)))?.id).toBe("fast");
  });

  it("breaks ties by speed, then for whichever was drawn first", () => {
    // Equal waits: (0+1)/4/50 = (1+1)/4/100.
    const slowIdle = node("slow", 50);
    const fastBusy = node("fast", 100, { active: 1, activeByModel: { [MODEL]: 1 } });
    expect(pickNode([slowIdle, fastBusy], MODEL, options(sequence(0, 0)))?.id).toBe("fast");
    expect(pickNode([slowIdle, fastBusy], MODEL, options(sequence(0.999, 0.999)))?.id).toBe("fast");
    // Identical idle nodes share the work rather than one taking every job.
    const twins = [node("y", 50), node("x", 50)];
    expect(pickNode(twins, MODEL, options(sequence(0, 0)))?.id).toBe("y");
    expect(pickNode(twins, MODEL, options(sequence(0.999, 0.999)))?.id).toBe("x");
    const shares = tally(twins, 1000);
    expect(shares.get("x")! / 1000).toBeGreaterThan(0.4);
    expect(shares.get("y")! / 1000).toBeGreaterThan(0.4);
  });

  it("weighs each node's recent first-token time: a node that starts late loses short answers to a slower, prompt one", () => {
    const lateButFast = node("late", 1000);
    const promptButSlow = node("prompt", 130);
    const firstTokenMs = (id: string) => (id === "late" ? 1500 : 20);
    // 32 tokens: late needs 1.5 + 0.03 s, prompt 0.02 + 0.25 s.
    expect(pickNode([lateButFast, promptButSlow], MODEL, options(sequence(0, 0), { firstTokenMs, answerTokens: 32 }))?.id).toBe("prompt");
    // 4,000 tokens: decoding speed dominates again.
    expect(pickNode([lateButFast, promptButSlow], MODEL, options(sequence(0, 0), { firstTokenMs, answerTokens: 4000 }))?.id).toBe("late");
    // Unmeasured first tokens count as the median of the measured ones, not as instant.
    const unknown = node("unknown", 130);
    expect(
      pickNode(
        [lateButFast, unknown],
        MODEL,
        options(sequence(0, 0), { firstTokenMs: (id) => (id === "late" ? 1500 : undefined), answerTokens: 32 }),
      )?.id,
    ).toBe("late");
  });
});
