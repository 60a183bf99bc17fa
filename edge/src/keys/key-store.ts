import { DurableObject } from "cloudflare:workers";
import { DEFAULT_POOL, type Env } from "../env.ts";
import { audit } from "./audit.ts";
import type { Caller } from "./caller.ts";
import {
  type JoinTokenCreateInput,
  joinTokenCreateSchema,
  type KeyCreateInput,
  type KeyPatchInput,
  keyCreateSchema,
  keyPatchSchema,
} from "./key-input.ts";
import { type CreatedJoinToken, type CreatedKey, callerOf, type JoinTokenRecord, type KeyRecord } from "./key-record.ts";
import { hashSecret, idOfSecret, newId, newSecret, publicId, type SecretKind, sameHash } from "./key-secret.ts";
import { KeyTables, type Stored } from "./key-tables.ts";

/** lastUsedAt is written at most this often per key: a request must not cost a write. */
const TOUCH_EVERY_MS = 60_000;

type CachedKey = Stored<KeyRecord> & { caller: Caller; touchedAt: number };

/**
 * The edge's API keys and join tokens, in one object's SQLite that every pool's
 * requests reach (`KEYS.idFromName("keys")`). Only SHA-256 hashes of secrets are
 * kept; every record is also held in memory, loaded when the object starts, since
 * `authorize` runs on every API request: one hash, one Map lookup, one constant-time compare.
 */
export class KeyStore extends DurableObject<Env> {
  readonly #tables: KeyTables;
  /** By public id (`key_…`, `jt_…`). */
  readonly #keys = new Map<string, CachedKey>();
  readonly #joinTokens = new Map<string, Stored<JoinTokenRecord>>();
  /** Every pool ever named, and `main`. */
  readonly #pools = new Set<string>([DEFAULT_POOL]);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#tables = new KeyTables(ctx.storage.sql);
    for (const stored of this.#tables.keys()) this.#cacheKey(stored);
    for (const stored of this.#tables.joinTokens()) this.#joinTokens.set(stored.record.id, stored);
    for (const pool of this.#tables.pools()) this.#pools.add(pool);
    // Keys and tokens made before the pools table existed name pools too.
    for (const { record } of [...this.#keys.values(), ...this.#joinTokens.values()]) this.#notePool(record.pool);
  }

  /** The caller a key secret stands for; null for an unknown or revoked key. */
  async authorize(secret: string): Promise<Caller | null> {
    const id = idOfSecret("key", secret);
    if (id === null) return null;
    // Hash before the lookup: a revocation that lands during the digest is seen, and an unknown id costs the same time.
    const hash = await hashSecret(secret);
    const cached = this.#keys.get(publicId("key", id));
    if (!cached || !sameHash(hash, cached.hash)) return null;
    const now = Date.now();
    if (now - cached.touchedAt >= TOUCH_EVERY_MS) {
      cached.touchedAt = now;
      cached.record.lastUsedAt = new Date(now).toISOString();
      this.#tables.touchKey(cached.record.id, cached.record.lastUsedAt);
    }
    return cached.caller;
  }

  /** The pool a join token admits nodes to; null for an unknown or revoked token. */
  async joinPool(token: string): Promise<string | null> {
    const id = idOfSecret("joinToken", token);
    if (id === null) return null;
    const hash = await hashSecret(token);
    const stored = this.#joinTokens.get(publicId("joinToken", id));
    return stored && sameHash(hash, stored.hash) ? stored.record.pool : null;
  }

  /** How many live keys exist (a closed edge with none says how to make one). */
  async keyCount(): Promise<number> {
    return this.#keys.size;
  }

  /**
   * Every pool a key or join token ever named (revoked ones included, so a
   * pool's usage and metrics stay readable), those nodes joined on an open
   * edge, and `main`; sorted.
   */
  async pools(): Promise<string[]> {
    return [...this.#pools].sort();
  }

  /** A pool in use that no key or token named (a node on an open edge asked for it). */
  async addPool(pool: string): Promise<void> {
    this.#notePool(pool);
  }

  #notePool(pool: string): void {
    if (this.#pools.has(pool)) return;
    this.#pools.add(pool);
    this.#tables.addPool(pool);
  }

  /** Whether some live key of this pool may reach public (donated) nodes. */
  async poolTakesPublic(pool: string): Promise<boolean> {
    for (const { record } of this.#keys.values()) if (record.pool === pool && record.tiers.includes("public")) return true;
    return false;
  }

  /** A new key; its secret is in the answer and nowhere else. */
  async createKey(input: KeyCreateInput): Promise<CreatedKey> {
    const fields = keyCreateSchema.parse(input);
    const { id, secret: key, hash } = await this.#mint("key", this.#keys);
    const record: KeyRecord = { id, ...fields, createdAt: new Date().toISOString() };
    const stored = { record, hash };
    this.#tables.putKey(stored);
    this.#notePool(stored.record.pool);
    this.#cacheKey(stored);
    audit("key.create", record.id, record.pool);
    return { ...record, key };
  }

  /** Every live key, oldest first. */
  async listKeys(): Promise<KeyRecord[]> {
    return [...this.#keys.values()].map(({ record }) => record).sort(byCreation);
  }

  /** One key by its `key_…` id; null when there is none. */
  async getKey(id: string): Promise<KeyRecord | null> {
    return this.#keys.get(id)?.record ?? null;
  }

  /** Changes the given fields (null clears a limit or the model list); the next `authorize` sees them. Null for an unknown id. */
  async updateKey(id: string, patch: KeyPatchInput): Promise<KeyRecord | null> {
    const changes = keyPatchSchema.parse(patch);
    const cached = this.#keys.get(id);
    if (!cached) return null;
    const record: KeyRecord = { ...cached.record, ...changes };
    const stored = { record, hash: cached.hash };
    this.#tables.putKey(stored);
    this.#notePool(stored.record.pool);
    this.#cacheKey(stored, cached.touchedAt);
    audit("key.update", id, record.pool);
    return record;
  }

  /** Deletes a key for good; the next `authorize` of its secret is null. False for an unknown id. */
  async revokeKey(id: string): Promise<boolean> {
    const cached = this.#keys.get(id);
    if (!cached) return false;
    this.#keys.delete(id);
    this.#tables.deleteKey(id);
    audit("key.revoke", id, cached.record.pool);
    return true;
  }

  /** A new join token for one pool; its secret is in the answer and nowhere else. */
  async createJoinToken(input: JoinTokenCreateInput): Promise<CreatedJoinToken> {
    const { pool, name } = joinTokenCreateSchema.parse(input);
    const { id, secret: token, hash } = await this.#mint("joinToken", this.#joinTokens);
    const record: JoinTokenRecord = { id, pool, name, createdAt: new Date().toISOString() };
    const stored = { record, hash };
    this.#tables.putJoinToken(stored);
    this.#notePool(stored.record.pool);
    this.#joinTokens.set(record.id, stored);
    audit("join_token.create", record.id, pool);
    return { ...record, token };
  }

  /** Every live join token, oldest first. */
  async listJoinTokens(): Promise<JoinTokenRecord[]> {
    return [...this.#joinTokens.values()].map(({ record }) => record).sort(byCreation);
  }

  /** Deletes a join token for good: no node joins with it again. False for an unknown id. */
  /** Revokes the token at once; its record (to find its pool), or null for an unknown id. */
  async revokeJoinToken(id: string): Promise<JoinTokenRecord | null> {
    const stored = this.#joinTokens.get(id);
    if (!stored) return null;
    this.#joinTokens.delete(id);
    this.#tables.deleteJoinToken(id);
    audit("join_token.revoke", id, stored.record.pool);
    return stored.record;
  }

  #cacheKey(stored: Stored<KeyRecord>, touchedAt = stored.record.lastUsedAt ? Date.parse(stored.record.lastUsedAt) : 0): void {
    this.#keys.set(stored.record.id, { ...stored, caller: callerOf(stored.record), touchedAt });
  }

  /**
   * A new public id, secret and hash. 48 random bits make an id clash unlikely, not impossible, and
   * a clash would replace the other record; checked after the digest, which lets other calls run.
   */
  async #mint(kind: SecretKind, taken: Map<string, unknown>): Promise<{ id: string; secret: string; hash: Uint8Array }> {
    for (;;) {
      const id = newId();
      const secret = newSecret(kind, id);
      const hash = await hashSecret(secret);
      if (!taken.has(publicId(kind, id))) return { id: publicId(kind, id), secret, hash };
    }
  }
}

function byCreation(a: { createdAt: string; id: string }, b: { createdAt: string; id: string }): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
