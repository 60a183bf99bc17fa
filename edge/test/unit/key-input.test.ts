import { describe, expect, it } from "vitest";
import { joinTokenCreateSchema, keyCreateSchema, keyPatchSchema } from "../../src/keys/key-input.ts";
import { callerOf, type KeyRecord } from "../../src/keys/key-record.ts";

describe("key input", () => {
  it("fills the defaults of a new key and keeps tiers and models free of repeats", () => {
    expect(keyCreateSchema.parse({ name: "a" })).toEqual({
      name: "a",
      tiers: ["private"],
      pool: "main",
      rpm: null,
      tpm: null,
      concurrency: null,
      monthlyTokens: null,
      models: null,
      verify: false,
    });
    const parsed = keyCreateSchema.parse({ name: "a", tiers: ["public", "private", "public"], models: ["m", "m", "auto"] });
    expect(parsed.tiers).toEqual(["private", "public"]);
    expect(parsed.models).toEqual(["m", "auto"]);
  });

  it("takes only the fields a patch names, and null to clear", () => {
    expect(keyPatchSchema.parse({})).toEqual({});
    expect(keyPatchSchema.parse({ rpm: null, models: null })).toEqual({ rpm: null, models: null });
    expect(keyPatchSchema.safeParse({ tiers: [] }).success).toBe(false);
    expect(keyPatchSchema.safeParse({ createdAt: "now" }).success).toBe(false);
  });

  it("checks pool names", () => {
    for (const pool of ["main", "a", "team-1", "0", "a".repeat(32)])
      expect(joinTokenCreateSchema.safeParse({ pool }).success, pool).toBe(true);
    for (const pool of ["", "-a", "A", "a_b", "a b", "a".repeat(33), "ü"])
      expect(joinTokenCreateSchema.safeParse({ pool }).success, pool).toBe(false);
    expect(joinTokenCreateSchema.parse({})).toEqual({ pool: "main", name: null });
  });

  it("makes a Caller with only the limits a key sets, and models only when it restricts them", () => {
    const record: KeyRecord = {
      id: "key_0123456789ab",
      name: "n",
      tiers: ["public"],
      pool: "p",
      rpm: null,
      tpm: 10,
      concurrency: null,
      monthlyTokens: 100,
      models: null,
      verify: false,
      createdAt: "2026-01-01T00:00:00.000Z",
    };
    expect(callerOf(record)).toEqual({
      keyId: record.id,
      name: "n",
      pool: "p",
      tiers: ["public"],
      limits: { tpm: 10, monthlyTokens: 100 },
    });
    expect(callerOf({ ...record, models: ["auto"] }).models).toEqual(["auto"]);
    expect(callerOf({ ...record, verify: true }).verify).toBe(true);
  });
});
