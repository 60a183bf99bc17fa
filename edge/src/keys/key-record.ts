import type { Caller, KeyLimits, Tier } from "./caller.ts";

/** A key as the admin API shows it: never its secret or hash; `null` for a limit not set. */
export interface KeyRecord {
  /** `key_<12 hex>`. */
  id: string;
  name: string;
  tiers: Tier[];
  pool: string;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  monthlyTokens: number | null;
  /** The model ids the key may ask for; null: any. */
  models: string[] | null;
  /** Answers from public nodes commit only once a second node answered the same (greedy requests); sampled ones stay off public nodes. */
  verify: boolean;
  /** ISO time. */
  createdAt: string;
  /** ISO time of the last request it authorized, to the minute; absent: never used. */
  lastUsedAt?: string;
}

/** A new key, with its secret shown this once. */
export type CreatedKey = KeyRecord & { key: string };

/** A join token as the admin API shows it: never its secret or hash. */
export interface JoinTokenRecord {
  /** `jt_<12 hex>`. */
  id: string;
  /** The pool the nodes that present it join. */
  pool: string;
  name: string | null;
  createdAt: string;
}

/** A new join token, with its secret shown this once. */
export type CreatedJoinToken = JoinTokenRecord & { token: string };

/** The Caller a key's record stands for: only the limits it sets, models only when it restricts them. */
export function callerOf(record: KeyRecord): Caller {
  const limits: KeyLimits = {};
  if (record.rpm !== null) limits.rpm = record.rpm;
  if (record.tpm !== null) limits.tpm = record.tpm;
  if (record.concurrency !== null) limits.concurrency = record.concurrency;
  if (record.monthlyTokens !== null) limits.monthlyTokens = record.monthlyTokens;
  const caller: Caller = { keyId: record.id, name: record.name, pool: record.pool, tiers: [...record.tiers], limits };
  if (record.models !== null) caller.models = [...record.models];
  if (record.verify) caller.verify = true;
  return caller;
}
