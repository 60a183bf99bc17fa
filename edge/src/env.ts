import type { Fabric } from "./fabric/fabric.ts";

/** Bindings and vars from wrangler.toml; secrets are set with `wrangler secret put`. */
export interface Env {
  FABRIC: DurableObjectNamespace<Fabric>;
  /** The donate page, built by Vite into web-node/dist (wrangler.toml `[assets]`); the Worker serves it under /donate. */
  ASSETS: Fetcher;
  /** Comma-separated API keys clients must send as `Authorization: Bearer`. Unset: the API is open (local dev). */
  RUNG_API_KEYS?: string;
  /** Token nodes must present to join. Unset: every node may join (local dev). */
  RUNG_NODE_TOKEN?: string;
  /**
   * How long an answer may take to commit, in ms (default 600000, the OpenAI SDKs' own
   * timeout): a stream's first token, a whole answer's end. Past it the client gets 504.
   */
  RUNG_REQUEST_TIMEOUT_MS?: string;
  /**
   * The longest a node may stay silent, in ms (default 30000): before its first token it
   * means the next candidate is tried; mid-stream, the stream ends with an error event.
   */
  RUNG_TOKEN_TIMEOUT_MS?: string;
  /**
   * The routing policy as JSON (profiles, escalation thresholds, breakers, hedging, queue,
   * upstreams; see README). Unset or `{}`: the defaults. The admin route can replace it at run time.
   */
  RUNG_POLICY?: string;
  /** Bearer key for `/admin/*`. Unset: the admin routes refuse every call. */
  RUNG_ADMIN_KEY?: string;
}

export type AppEnv = { Bindings: Env; Variables: { requestId: string } };

export const DEFAULT_POOL = "main";
