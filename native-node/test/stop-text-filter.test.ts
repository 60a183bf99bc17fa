import type { GeneratedPiece } from "@rung/shared/node";
import { describe, expect, it } from "vitest";
import { StopTextFilter } from "../src/engines/stop-text-filter.ts";

function run(stops: string[], pieces: GeneratedPiece[]) {
  const filter = new StopTextFilter(stops);
  const out: GeneratedPiece[] = [];
  for (const piece of pieces) {
    const { ready, stopped } = filter.push(piece);
    out.push(...ready);
    if (stopped) return { out, stopped };
  }
  out.push(...filter.flush());
  return { out, stopped: false };
}

const p = (text: string, confidence = 0.5): GeneratedPiece => ({ text, confidence });

describe("StopTextFilter", () => {
  it("passes text through when no stop string can match", () => {
    expect(run(["END"], [p("a"), p("b")])).toEqual({ out: [p("a"), p("b")], stopped: false });
  });

  it("stops at a stop string split across pieces, without sending any of it", () => {
    const filter = new StopTextFilter(["<END>"]);
    expect(filter.push(p("hi <E", 0.9))).toEqual({ ready: [p("hi ", 0.9)], stopped: false });
    expect(filter.push(p("N", 0.8))).toEqual({ ready: [], stopped: false });
    expect(filter.push(p("D> tail", 0.7))).toEqual({ ready: [], stopped: true });
  });

  it("releases held text once it can no longer become a stop string", () => {
    expect(run(["<END>"], [p("a<E", 0.9), p("X", 0.2)])).toEqual({ out: [p("a", 0.9), p("<E", 0.9), p("X", 0.2)], stopped: false });
  });

  it("keeps a split piece's margin and entropy on both of its parts", () => {
    const signalled = { text: "a<E", confidence: 0.9, margin: 0.3, entropy: 1.5 };
    expect(run(["<END>"], [signalled, p("X", 0.2)]).out).toEqual([
      { text: "a", confidence: 0.9, margin: 0.3, entropy: 1.5 },
      { text: "<E", confidence: 0.9, margin: 0.3, entropy: 1.5 },
      p("X", 0.2),
    ]);
  });

  it("stops at the earliest of several stop strings", () => {
    expect(run(["cd", "b"], [p("abcd", 0.4)])).toEqual({ out: [p("a", 0.4)], stopped: true });
  });

  it("flushes a held prefix when generation ends for another reason", () => {
    expect(run(["###"], [p("x#", 0.3), p("#", 0.6)])).toEqual({ out: [p("x", 0.3), p("#", 0.3), p("#", 0.6)], stopped: false });
  });
});
