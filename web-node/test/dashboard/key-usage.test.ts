import { describe, expect, it } from "vitest";
import { type KeyInfo, keyUsage } from "../../src/dashboard/key-usage.ts";

const key = (id: string, monthlyTokens: number | null = null): KeyInfo => ({
  id,
  name: id,
  pool: "main",
  tiers: ["private"],
  rpm: null,
  tpm: null,
  concurrency: null,
  monthlyTokens,
});
const row = (keyId: string, date: string, tokens: number) => ({
  date,
  keyId,
  requests: 1,
  promptTokens: tokens,
  completionTokens: 0,
  cost: 0.5,
});

describe("keys and their usage", () => {
  it("adds up this month per key, busiest first, with the share of a monthly budget used", () => {
    const usage = keyUsage(
      [key("key_a", 1_000), key("key_b"), key("key_unused")],
      [
        row("key_a", "2026-12-01", 100),
        row("key_a", "2026-12-02", 150),
        row("key_a", "2026-11-30", 999),
        row("key_b", "2026-12-02", 300),
        row("key_gone", "2026-12-02", 5),
      ],
      "2026-12-02",
    );
    expect(usage.map((u) => [u.key.id, u.requests, u.tokens, u.todayTokens, u.cost, u.monthlyUsed])).toEqual([
      ["key_b", 1, 300, 300, 0.5, undefined],
      ["key_a", 2, 250, 150, 1, 0.25],
      ["key_unused", 0, 0, 0, 0, undefined],
    ]);
  });
});
