import { env, runInDurableObject, SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { afterEach, describe, expect, it, vi } from "vitest";
import app from "../src/index.ts";
import type { CreatedJoinToken, CreatedKey, JoinTokenRecord, KeyRecord } from "../src/keys/key-record.ts";
import { KeyStore } from "../src/keys/key-store.ts";
import { keyStoreOf } from "../src/keys/key-store-stub.ts";

// Other test files may keep keys in the same store: every assertion here is about its own keys, or relative.

afterEach(() => vi.restoreAllMocks());

function admin(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<Response> {
  const body = init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  return SELF.fetch(`http://edge/admin${path}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers: { authorization: `Bearer ${init.key ?? "admin-key-for-tests"}`, "content-type": "application/json" },
    ...(body !== undefined && { body }),
  });
}

async function created<T>(response: Response): Promise<T> {
  expect(response.status).toBe(201);
  return (await response.json()) as T;
}

async function createKey(body: unknown): Promise<CreatedKey> {
  return created<CreatedKey>(await admin("/keys", { body }));
}

async function expectError(response: Response, status: number, code?: string) {
  expect(response.status).toBe(status);
  const body = errorBodySchema.parse(await response.json());
  if (code) expect(body.error.code).toBe(code);
  return body.error;
}

describe("admin key API", () => {
  it("creates a key whose secret authorizes at once, lists it without secret or hash, patches it and revokes it", async () => {
    const store = keyStoreOf(env);
    const before = await store.keyCount();
    const key = await createKey({ name: "alice", tiers: ["private", "public"], pool: "team-a", rpm: 60, models: ["auto", "rung-small"] });
    expect(key.key).toMatch(/^rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.id).toBe(`key_${key.key.slice(3, 15)}`);
    expect(key).toMatchObject({ name: "alice", tiers: ["private", "public"], pool: "team-a", rpm: 60, tpm: null, concurrency: null });
    expect(new Date(key.createdAt).toISOString()).toBe(key.createdAt);
    expect(await store.keyCount()).toBe(before + 1);

    expect(await store.authorize(key.key)).toEqual({
      keyId: key.id,
      name: "alice",
      pool: "team-a",
      tiers: ["private", "public"],
      limits: { rpm: 60 },
      models: ["auto", "rung-small"],
    });
    expect(await store.authorize(`${key.key.slice(0, -1)}${key.key.endsWith("A") ? "B" : "A"}`)).toBeNull();

    const list = (await (await admin("/keys")).json()) as { object: string; data: KeyRecord[] };
    expect(list.object).toBe("list");
    const listed = list.data.find((k) => k.id === key.id)!;
    const { key: secret, ...record } = key;
    expect(listed).toMatchObject(record);
    expect(listed.lastUsedAt).toBeDefined();
    const text = JSON.stringify(list);
    expect(text).not.toContain(secret.slice(16));
    expect(text).not.toMatch(/"(key|hash|secret)"/);
    expect(await (await admin(`/keys/${key.id}`)).json()).toMatchObject(record);

    const patched = await admin(`/keys/${key.id}`, {
      method: "PATCH",
      body: { name: "alice2", tiers: ["public"], rpm: null, tpm: 1000, concurrency: 2, monthlyTokens: 5_000_000, models: null },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: key.id, name: "alice2", tiers: ["public"], rpm: null, tpm: 1000, models: null });
    expect(await store.authorize(key.key)).toEqual({
      keyId: key.id,
      name: "alice2",
      pool: "team-a",
      tiers: ["public"],
      limits: { tpm: 1000, concurrency: 2, monthlyTokens: 5_000_000 },
    });

    expect(await (await admin(`/keys/${key.id}`, { method: "DELETE" })).json()).toEqual({ id: key.id, object: "key", deleted: true });
    expect(await store.authorize(key.key)).toBeNull();
    expect(await store.keyCount()).toBe(before);
    await expectError(await admin(`/keys/${key.id}`), 404, "key_not_found");
    await expectError(await admin(`/keys/${key.id}`, { method: "DELETE" }), 404, "key_not_found");
    await expectError(await admin(`/keys/${key.id}`, { method: "PATCH", body: { name: "x" } }), 404, "key_not_found");
    await expectError(await admin("/keys/nonsense"), 404);
  });

  it("gives a key the private tier, the main pool, no limits and any model by default", async () => {
    const key = await createKey({ name: "plain" });
    expect(key).toMatchObject({
      tiers: ["private"],
      pool: "main",
      rpm: null,
      tpm: null,
      concurrency: null,
      monthlyTokens: null,
      models: null,
    });
    expect(key.lastUsedAt).toBeUndefined();
    expect(await keyStoreOf(env).authorize(key.key)).toEqual({
      keyId: key.id,
      name: "plain",
      pool: "main",
      tiers: ["private"],
      limits: {},
    });
  });

  it("refuses bad input with 400 naming the field, and leaves the key as it was", async () => {
    const cases: [unknown, string][] = [
      [{}, "name"],
      [{ name: "" }, "name"],
      [{ name: "x", tierz: ["public"] }, "tierz"],
      [{ name: "x", tiers: [] }, "tiers"],
      [{ name: "x", tiers: ["secret"] }, "tiers.0"],
      [{ name: "x", pool: "Team A" }, "pool"],
      [{ name: "x", pool: "-a" }, "pool"],
      [{ name: "x", rpm: 0 }, "rpm"],
      [{ name: "x", tpm: 1.5 }, "tpm"],
      [{ name: "x", monthlyTokens: "lots" }, "monthlyTokens"],
      [{ name: "x", models: [] }, "models"],
      [{ name: "x".repeat(129) }, "name"],
    ];
    for (const [body, param] of cases) {
      const error = await expectError(await admin("/keys", { body }), 400, "invalid_request");
      expect({ body, param: error.param }).toEqual({ body, param });
      expect(error.message).toContain(`'${param}'`);
    }
    await expectError(await admin("/keys", { body: "{nope" }), 400, "invalid_json");
    await expectError(await admin("/keys", { body: "x".repeat(70_000) }), 413, "body_too_large");

    const key = await createKey({ name: "steady", rpm: 5 });
    const error = await expectError(await admin(`/keys/${key.id}`, { method: "PATCH", body: { rpm: -1 } }), 400);
    expect(error.param).toBe("rpm");
    expect((await expectError(await admin(`/keys/${key.id}`, { method: "PATCH", body: { id: "key_x" } }), 400)).param).toBe("id");
    expect((await expectError(await admin("/join-tokens", { body: { pool: "UP" } }), 400)).param).toBe("pool");
    expect(await (await admin(`/keys/${key.id}`)).json()).toMatchObject({ name: "steady", rpm: 5 });
  });

  it("refuses every admin key route without the admin key", async () => {
    const key = await createKey({ name: "guarded" });
    for (const [path, method] of [
      ["/keys", "GET"],
      ["/keys", "POST"],
      [`/keys/${key.id}`, "GET"],
      [`/keys/${key.id}`, "PATCH"],
      [`/keys/${key.id}`, "DELETE"],
      ["/join-tokens", "GET"],
      ["/join-tokens", "POST"],
      ["/join-tokens/jt_000000000000", "DELETE"],
    ] as const) {
      const body = method === "POST" || method === "PATCH" ? { name: "evil" } : undefined;
      await expectError(await admin(path, { method, body, key: "wrong" }), 401, "invalid_api_key");
    }
    // An edge without an admin key has no admin routes at all.
    await expectError(await app.request("/admin/keys", { headers: { authorization: "Bearer " } }, {}), 403, "admin_disabled");
    // A key of the API is no admin key.
    await expectError(await admin("/keys", { key: key.key }), 401);
    expect(await keyStoreOf(env).authorize(key.key)).toMatchObject({ name: "guarded" });
  });

  it("binds each join token to its pool, lists it without the secret and revokes it", async () => {
    const store = keyStoreOf(env);
    const token = await created<CreatedJoinToken>(await admin("/join-tokens", { body: { pool: "gpu-farm", name: "rack 1" } }));
    expect(token).toMatchObject({ pool: "gpu-farm", name: "rack 1" });
    expect(token.id).toMatch(/^jt_[0-9a-f]{12}$/);
    expect(token.token).toMatch(/^rj_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const plain = await created<CreatedJoinToken>(await admin("/join-tokens", { method: "POST" }));
    expect(plain).toMatchObject({ pool: "main", name: null });

    expect(await store.joinPool(token.token)).toBe("gpu-farm");
    expect(await store.joinPool(plain.token)).toBe("main");
    expect(await store.joinPool(`rj_${token.token.slice(3, 15)}_${"A".repeat(43)}`)).toBeNull();
    // A join token is no API key, nor the other way round.
    expect(await store.authorize(token.token)).toBeNull();
    expect(await store.pools()).toContain("gpu-farm");

    const list = (await (await admin("/join-tokens")).json()) as { object: string; data: JoinTokenRecord[] };
    expect(list.object).toBe("list");
    const { token: secret, ...record } = token;
    expect(list.data).toContainEqual(record);
    expect(JSON.stringify(list)).not.toContain(secret.slice(16));

    const deleted = await admin(`/join-tokens/${token.id}`, { method: "DELETE" });
    expect(await deleted.json()).toEqual({ id: token.id, object: "join_token", deleted: true, nodesDropped: 0 });
    expect(await store.joinPool(token.token)).toBeNull();
    await expectError(await admin(`/join-tokens/${token.id}`, { method: "DELETE" }), 404, "join_token_not_found");
  });

  it("names every pool a key or join token ever used, and which pools take public nodes", async () => {
    const store = keyStoreOf(env);
    expect(await store.pools()).toContain("main");
    await createKey({ name: "z", pool: "zz-pool" });
    const open = await createKey({ name: "o", pool: "aa-pool", tiers: ["public"] });
    await created(await admin("/join-tokens", { body: { pool: "mm-pool" } }));
    const pools = await store.pools();
    expect(pools).toEqual([...pools].sort());
    expect(pools).toEqual(expect.arrayContaining(["aa-pool", "main", "mm-pool", "zz-pool"]));
    expect(await store.poolTakesPublic("aa-pool")).toBe(true);
    expect(await store.poolTakesPublic("zz-pool")).toBe(false);
    expect(await store.poolTakesPublic("mm-pool")).toBe(false);
    await admin(`/keys/${open.id}`, { method: "PATCH", body: { tiers: ["private"] } });
    expect(await store.poolTakesPublic("aa-pool")).toBe(false);
    await admin(`/keys/${open.id}`, { method: "DELETE" });
    // Revoked, the pool's usage and metrics stay readable.
    expect(await store.pools()).toContain("aa-pool");
  });

  it("writes one audit line per change, naming action, target and pool, never a secret", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    const key = await createKey({ name: "audited", pool: "audit-pool" });
    await admin(`/keys/${key.id}`, { method: "PATCH", body: { rpm: 1 } });
    await admin(`/keys/${key.id}`, { method: "DELETE" });
    const token = await created<CreatedJoinToken>(await admin("/join-tokens", { body: { pool: "audit-pool" } }));
    await admin(`/join-tokens/${token.id}`, { method: "DELETE" });
    const audits = lines
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.audit === true);
    expect(audits.map((a) => [a.action, a.target, a.pool])).toEqual([
      ["key.create", key.id, "audit-pool"],
      ["key.update", key.id, "audit-pool"],
      ["key.revoke", key.id, "audit-pool"],
      ["join_token.create", token.id, "audit-pool"],
      ["join_token.revoke", token.id, "audit-pool"],
    ]);
    for (const a of audits) expect(a).toMatchObject({ level: "info", actor: "admin", at: expect.stringMatching(/^\d{4}-.*Z$/) });
    const all = lines.join("\n");
    expect(all).not.toContain(key.key.slice(16));
    expect(all).not.toContain(token.token.slice(16));
  });

  it("keeps only a SHA-256 hash in SQLite, and a new instance of the object loads the keys from it", async () => {
    const key = await createKey({ name: "durable", pool: "kept", tpm: 7 });
    const token = await created<CreatedJoinToken>(await admin("/join-tokens", { body: { pool: "kept" } }));
    await runInDurableObject(keyStoreOf(env), async (_instance, state) => {
      const rows = state.storage.sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM keys WHERE id = ?", key.id.slice(4)).toArray();
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
      const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key.key)));
      expect(row.hash).toBe(Array.from(expected, (b) => b.toString(16).padStart(2, "0")).join(""));
      const everything = JSON.stringify([
        ...state.storage.sql.exec("SELECT * FROM keys").toArray(),
        ...state.storage.sql.exec("SELECT * FROM join_tokens").toArray(),
      ]);
      expect(everything).not.toContain(key.key.slice(16));
      expect(everything).not.toContain(token.token.slice(16));

      const fresh = new KeyStore(state, env);
      expect(await fresh.authorize(key.key)).toMatchObject({ keyId: key.id, pool: "kept", limits: { tpm: 7 } });
      expect(await fresh.joinPool(token.token)).toBe("kept");
      expect(await fresh.pools()).toContain("kept");
    });
  });

  it("keeps keys across the object's restart", async () => {
    // An object of its own, so aborting it disturbs no other test.
    const stub = () => env.KEYS.get(env.KEYS.idFromName("admin-keys-restart"));
    const key = await stub().createKey({ name: "restart", pool: "after" });
    const before = await runInDurableObject(stub(), (instance) => instance);
    await runInDurableObject(stub(), (_instance, state) => state.abort("restart for the test")).catch(() => {});
    const after = await runInDurableObject(stub(), (instance) => instance);
    expect(after).not.toBe(before);
    expect(await stub().authorize(key.key)).toMatchObject({ keyId: key.id, pool: "after" });
    await stub().revokeKey(key.id);
    expect(await stub().authorize(key.key)).toBeNull();
  });
});
