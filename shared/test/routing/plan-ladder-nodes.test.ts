import { describe, expect, it } from "vitest";
import { hasFreeSlot } from "../../routing/plan-ladder.ts";
import { large, medium, node, ok, order, plan, small } from "./plan-ladder-fixtures.ts";

// A pinned model, no node to run on at all, and whether a node has a free slot for a model.
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
