/** The node tiers a prompt may reach: `private` are owners' agents that joined with a join token (and the operator's upstreams), `public` are donated tabs. */
export const TIERS = ["private", "public"] as const;
export type Tier = (typeof TIERS)[number];

/** A key's limits; an absent field is no limit. */
export interface KeyLimits {
  /** Requests per minute, sliding window. */
  rpm?: number;
  /** Tokens (prompt and completion) per minute, sliding window. */
  tpm?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Tokens per calendar month (UTC). */
  monthlyTokens?: number;
}

/**
 * Who is asking, as the Worker resolved it from the request's key: where its
 * prompts go (pool), who may see them (tiers), and what it may spend. The
 * Worker builds it; the pool's object trusts it as it trusts the job.
 */
export interface Caller {
  /** `key_…` for a key made with the admin API, `static:N` for the Nth of `RUNG_API_KEYS`, `anonymous` on an open edge. */
  keyId: string;
  name: string;
  pool: string;
  tiers: readonly Tier[];
  limits: KeyLimits;
  /** The model ids (virtual `auto` ones included) the key may ask for; absent: any. */
  models?: readonly string[];
  /** Its answers from public nodes commit only once a second node (a private one when free) answered the same. */
  verify?: boolean;
}
