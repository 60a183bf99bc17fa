import { describe, expect, it } from "vitest";
import { fromHex, hashSecret, idOfPublicId, idOfSecret, newId, newSecret, publicId, sameHash, toHex } from "../../src/keys/key-secret.ts";

describe("key secrets", () => {
  it("makes ids of 12 lowercase hex chars and secrets of 32 random bytes in base64url", () => {
    const id = newId();
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(newSecret("key", id)).toMatch(new RegExp(`^rk_${id}_[A-Za-z0-9_-]{43}$`));
    expect(newSecret("joinToken", id)).toMatch(new RegExp(`^rj_${id}_[A-Za-z0-9_-]{43}$`));
    expect(newSecret("key", id)).not.toBe(newSecret("key", id));
    expect(new Set(Array.from({ length: 100 }, newId)).size).toBe(100);
  });

  it("parses the id out of a secret of its own kind only", () => {
    const secret = "rk_0123456789ab_-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN_";
    expect(idOfSecret("key", secret)).toBe("0123456789ab");
    expect(idOfSecret("joinToken", secret)).toBeNull();
    expect(idOfSecret("joinToken", `rj${secret.slice(2)}`)).toBe("0123456789ab");
    for (const bad of [
      "",
      "sk-static",
      secret.slice(0, -1),
      `${secret}x`,
      secret.replace("0123456789ab", "0123456789AB"),
      secret.replace("0123456789ab", "0123456789a"),
      secret.replace("_-_", "_+_"),
      ` ${secret}`,
    ]) {
      expect(idOfSecret("key", bad), bad).toBeNull();
    }
  });

  it("shows records as key_<id> and jt_<id>, and reads them back", () => {
    expect(publicId("key", "0123456789ab")).toBe("key_0123456789ab");
    expect(publicId("joinToken", "0123456789ab")).toBe("jt_0123456789ab");
    expect(idOfPublicId("key", "key_0123456789ab")).toBe("0123456789ab");
    expect(idOfPublicId("joinToken", "key_0123456789ab")).toBeNull();
    expect(idOfPublicId("key", "key_0123456789abc")).toBeNull();
    expect(idOfPublicId("key", "0123456789ab")).toBeNull();
  });

  it("hashes with SHA-256 and compares hashes of any length safely", async () => {
    const hash = await hashSecret("abc");
    expect(toHex(hash)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(fromHex(toHex(hash))).toEqual(hash);
    expect(sameHash(hash, await hashSecret("abc"))).toBe(true);
    expect(sameHash(hash, await hashSecret("abd"))).toBe(false);
    expect(sameHash(hash, hash.slice(0, 31))).toBe(false);
  });
});
