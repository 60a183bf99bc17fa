import type { Fabric } from "./fabric/fabric.ts";

/** Bindings and vars from wrangler.toml; secrets are set with `wrangler secret put`. */
export interface Env {
  FABRIC: DurableObjectNamespace<Fabric>;
  /** Comma-separated API keys clients must send as `Authorization: Bearer`. Unset: the API is open (local dev). */
  RUNG_API_KEYS?: string;
  /** Token nodes must present to join. Unset: any node may join (local dev). */
  RUNG_NODE_TOKEN?: string;
  /** Whole-request deadline in ms (default 120000); past it the client gets 504. */
  RUNG_REQUEST_TIMEOUT_MS?: string;
  /** How long one node may take to send its first token before the next one is tried (default 30000). */
  RUNG_FIRST_TOKEN_TIMEOUT_MS?: string;
}

export type AppEnv = { Bindings: Env; Variables: { requestId: string } };

export const DEFAULT_POOL = "main";
