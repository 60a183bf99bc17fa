import { describe, expect, it } from "vitest";
import type { CatalogEntry } from "../../routing/catalog.ts";
import { NO_CAPABILITIES } from "../../routing/catalog.ts";
import { DEFAULT_POLICY } from "../../routing/policy.ts";
import { PROFILE_NAMES } from "../../routing/profile-names.ts";
import { DEFAULT_PROFILE_WEIGHTS } from "../../routing/profile-weights.ts";
import { type StartRequest, startRung } from "../../routing/profiles.ts";

function entry(
  id: string,
  parameters: number,
  score: number,
  tokensPerSecond: number,
  contextLength = 32768,
  price?: number,
): CatalogEntry {
  return {
    id,
    parameters,
    quantization: "Q4_K_M",
    contextLength,
    capabilities: NO_CAPABILITIES,
    quality: { score, source: "test" },
    ...(price === undefined ? {} : { pricePerMillionTokens: price }),
    nodes: [
      {
        id: `node-${id}`,
        name: id,
        kind: "native",
        tokensPerSecond,
        slots: 4,
        active: 0,
        contextLength,
        capabilities: NO_CAPABILITIES,
        draining: false,
      },
    ],
  };
}

// A typical home ladder: Qwen2.5 0.5B / 3B / 7B at the speeds one GPU gives them.
const ladder = [entry("0.5b", 0.5e9, 47.5, 120), entry("3b", 3e9, 65.6, 40), entry("7b", 7e9, 74.2, 15)];
const request: StartRequest = { promptTokens: 200, maxTokens: 300 };
const start = (profile: (typeof PROFILE_NAMES)[number], entries = ladder, req = request) =>
  startRung(entries, DEFAULT_POLICY.profiles[profile], req);

describe("startRung on a 0.5B/3B/7B ladder", () => {
  it("balanced and budget start at the smallest", () => {
    expect(start("balanced")).toBe(0);
    expect(start("budget")).toBe(0);
  });

  it("quality starts at the top", () => {
    expect(start("quality")).toBe(2);
  });

  it("speed starts at the fastest, wherever it is on the ladder", () => {
    expect(start("speed")).toBe(0);
    const fastMiddle = [entry("0.5b", 0.5e9, 47.5, 30), entry("3b", 3e9, 65.6, 90), entry("7b", 7e9, 74.2, 15)];
    expect(start("speed", fastMiddle)).toBe(1);
  });

  it("long_context starts at the largest context, and at the cheapest when contexts are equal", () => {
    const contexts = [entry("0.5b", 0.5e9, 47.5, 120, 4096), entry("3b", 3e9, 65.6, 40, 131072), entry("7b", 7e9, 74.2, 15, 32768)];
    expect(start("long_context", contexts)).toBe(1);
    expect(start("long_context")).toBe(0);
  });

  it("does not depend on the answer length or max_tokens being absent", () => {
    for (const profile of PROFILE_NAMES) {
      expect(start(profile, ladder, { promptTokens: 10, maxTokens: undefined })).toBe(start(profile));
      expect(start(profile, ladder, { promptTokens: 3000, maxTokens: 2000 })).toBe(start(profile));
    }
  });
});

describe("startRung: cost and speed", () => {
  it("balanced climbs past a small rung that is both slower and pricier than the next", () => {
    const odd = [entry("small-api", 1e9, 50, 10, 32768, 5), entry("local-3b", 3e9, 65, 60)];
    expect(start("balanced", odd)).toBe(1);
  });

  it("budget starts at a cheap upstream above a pricier local model", () => {
    const mixed = [entry("local-7b", 7e9, 70, 20, 32768, 1), entry("cheap-api", 70e9, 79, 50, 131072, 0.1)];
    expect(start("budget", mixed)).toBe(1);
  });

  it("counts an unmeasured speed as the median of the measured ones, neither fastest nor slowest", () => {
    // a counts as 45 tok/s: slower than c, faster than b.
    const unmeasured = [entry("a", 1e9, 50, 0), entry("b", 1e9, 50, 30), entry("c", 1e9, 50, 60)];
    expect(start("speed", unmeasured)).toBe(2);
    expect(start("speed", [entry("a", 1e9, 50, 0), entry("b", 1e9, 50, 30)])).toBe(0);
    // The balanced profile starts on the cheapest rung whichever models a node could measure.
    const trained = [entry("s", 5e4, 25, 0), entry("m", 1e5, 25, 250), entry("l", 1.6e5, 25, 0)];
    expect(start("balanced", trained)).toBe(0);
  });

  it("breaks a tie toward the lower rung", () => {
    const twins = [entry("a", 1e9, 50, 30), entry("b", 1e9, 50, 30)];
    for (const profile of PROFILE_NAMES) expect(start(profile, twins)).toBe(0);
  });

  it("honours operator weights", () => {
    expect(startRung(ladder, { quality: 1, latency: 0, cost: 0, context: 0 }, request)).toBe(2);
    expect(startRung(ladder, { quality: 0, latency: 0, cost: 0, context: 0 }, request)).toBe(0);
  });

  it("answers 0 for one rung or none", () => {
    expect(start("quality", [ladder[1]!])).toBe(0);
    expect(start("quality", [])).toBe(0);
  });

  it("ships weights for every profile, all non-negative", () => {
    expect(Object.keys(DEFAULT_PROFILE_WEIGHTS).sort()).toEqual([...PROFILE_NAMES].sort());
    for (const weights of Object.values(DEFAULT_PROFILE_WEIGHTS))
      for (const w of Object.values(weights)) expect(w).toBeGreaterThanOrEqual(0);
  });
});
