import { TIERS, type Tier } from "./caller.ts";
import type { JoinTokenRecord, KeyRecord } from "./key-record.ts";
import { fromHex, ID_PREFIXES, idOfPublicId, toHex } from "./key-secret.ts";

/** A stored key or join token: its record and the SHA-256 of its secret. */
export interface Stored<R> {
  record: R;
  hash: Uint8Array;
}

type KeyRow = {
  id: string;
  hash: string;
  name: string;
  tiers: string;
  pool: string;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  monthly_tokens: number | null;
  models: string | null;
  verify: number;
  created_at: string;
  last_used_at: string | null;
};

type JoinTokenRow = { id: string; hash: string; pool: string; name: string | null; created_at: string };

/**
 * The KeyStore's two tables. Ids are stored bare (12 hex), hashes as 64 hex
 * chars; tiers and models as JSON arrays. No secret is ever written.
 */
export class KeyTables {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS keys (
      id TEXT PRIMARY KEY, hash TEXT NOT NULL, name TEXT NOT NULL, tiers TEXT NOT NULL, pool TEXT NOT NULL,
      rpm INTEGER, tpm INTEGER, concurrency INTEGER, monthly_tokens INTEGER, models TEXT,
      created_at TEXT NOT NULL, last_used_at TEXT, verify INTEGER NOT NULL DEFAULT 0)`);
    // Tables made before keys could demand verified answers lack the column.
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(keys)").toArray();
    if (!columns.some((column) => column.name === "verify")) sql.exec("ALTER TABLE keys ADD COLUMN verify INTEGER NOT NULL DEFAULT 0");
    sql.exec(`CREATE TABLE IF NOT EXISTS join_tokens (
      id TEXT PRIMARY KEY, hash TEXT NOT NULL, pool TEXT NOT NULL, name TEXT, created_at TEXT NOT NULL)`);
    // Every pool ever named, kept when its keys and tokens go: its usage stays readable.
    sql.exec("CREATE TABLE IF NOT EXISTS pools (name TEXT PRIMARY KEY)");
  }

  pools(): string[] {
    return this.sql
      .exec<{ name: string }>("SELECT name FROM pools")
      .toArray()
      .map((row) => row.name);
  }

  addPool(name: string): void {
    this.sql.exec("INSERT OR IGNORE INTO pools (name) VALUES (?)", name);
  }

  keys(): Stored<KeyRecord>[] {
    return this.sql
      .exec<KeyRow>("SELECT * FROM keys")
      .toArray()
      .map((row) => ({ record: keyRecordOf(row), hash: fromHex(row.hash) }));
  }

  joinTokens(): Stored<JoinTokenRecord>[] {
    return this.sql
      .exec<JoinTokenRow>("SELECT * FROM join_tokens")
      .toArray()
      .map((row) => ({
        record: { id: `${ID_PREFIXES.joinToken}${row.id}`, pool: row.pool, name: row.name, createdAt: row.created_at },
        hash: fromHex(row.hash),
      }));
  }

  /** Inserts or replaces the whole row (a PATCH rewrites it with its hash). */
  putKey({ record: r, hash }: Stored<KeyRecord>): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO keys (id, hash, name, tiers, pool, rpm, tpm, concurrency, monthly_tokens, models, verify, created_at, last_used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      bare("key", r.id),
      toHex(hash),
      r.name,
      JSON.stringify(r.tiers),
      r.pool,
      r.rpm,
      r.tpm,
      r.concurrency,
      r.monthlyTokens,
      r.models === null ? null : JSON.stringify(r.models),
      r.verify ? 1 : 0,
      r.createdAt,
      r.lastUsedAt ?? null,
    );
  }

  touchKey(id: string, at: string): void {
    this.sql.exec("UPDATE keys SET last_used_at = ? WHERE id = ?", at, bare("key", id));
  }

  deleteKey(id: string): void {
    this.sql.exec("DELETE FROM keys WHERE id = ?", bare("key", id));
  }

  putJoinToken({ record: r, hash }: Stored<JoinTokenRecord>): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO join_tokens (id, hash, pool, name, created_at) VALUES (?, ?, ?, ?, ?)",
      bare("joinToken", r.id),
      toHex(hash),
      r.pool,
      r.name,
      r.createdAt,
    );
  }

  deleteJoinToken(id: string): void {
    this.sql.exec("DELETE FROM join_tokens WHERE id = ?", bare("joinToken", id));
  }
}

function keyRecordOf(row: KeyRow): KeyRecord {
  const tiers = JSON.parse(row.tiers) as string[];
  const record: KeyRecord = {
    id: `${ID_PREFIXES.key}${row.id}`,
    name: row.name,
    tiers: TIERS.filter((tier: Tier) => tiers.includes(tier)),
    pool: row.pool,
    rpm: row.rpm,
    tpm: row.tpm,
    concurrency: row.concurrency,
    monthlyTokens: row.monthly_tokens,
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    verify: row.verify === 1,
    createdAt: row.created_at,
  };
  if (row.last_used_at !== null) record.lastUsedAt = row.last_used_at;
  return record;
}

function bare(kind: "key" | "joinToken", publicId: string): string {
  const id = idOfPublicId(kind, publicId);
  if (id === null) throw new Error(`not a ${kind} id: ${publicId}`);
  return id;
}
