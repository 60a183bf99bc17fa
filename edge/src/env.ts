/**
 * The Worker's bindings and vars. Those in wrangler.toml are typed by `npm run types`
 * (`wrangler types`, into edge/worker-configuration.d.ts: generated, never edited by hand);
 * secrets (`wrangler secret put NAME`) and the optional vars below are not in wrangler.toml,
 * so wrangler cannot see them: they are declared here and merge into the same `Cloudflare.Env`.
 * Vars are typed `string`, not their wrangler.toml literals (`--strict-vars=false`): tests and
 * deploys set other values.
 */
declare global {
  namespace Cloudflare {
    interface Env {
      /** Comma-separated API keys clients must send as `Authorization: Bearer`. Unset: the API is open (local dev). */
      RUNG_API_KEYS?: string;
      /** Token nodes must present to join. Unset: every node may join (local dev). */
      RUNG_NODE_TOKEN?: string;
      /**
       * How long an answer may take to commit, in ms (default 600000, the OpenAI SDKs' own
       * timeout): a stream's first token, a whole answer's end. Past it the client gets 504.
       */
      RUNG_REQUEST_TIMEOUT_MS: string;
      /**
       * The longest a node may stay silent, in ms (default 30000): before its first token it
       * means the next candidate is tried; mid-stream, the stream ends with an error event.
       */
      RUNG_TOKEN_TIMEOUT_MS: string;
      /**
       * The routing policy as JSON (profiles, escalation thresholds, breakers, hedging, queue,
       * upstreams; see docs/ladder.md). Unset or `{}`: the defaults. The admin route can replace it at run time.
       */
      RUNG_POLICY?: string;
      /** Bearer key for `/admin/*`. Unset: the admin routes refuse every call. */
      RUNG_ADMIN_KEY?: string;
      /** Tests only: makes node choice repeatable. A number seeds the router's random source; unset: `Math.random`. */
      RUNG_RANDOM_SEED?: string;
    }
  }
}

/**
 * Bindings, vars and secrets: `FABRIC` (the pool's Durable Object) and `ASSETS` (the donate
 * page, built by Vite into web-node/dist, served under /donate) come from wrangler.toml.
 */
export type Env = Cloudflare.Env;

export type AppEnv = { Bindings: Env; Variables: { requestId: string } };

export const DEFAULT_POOL = "main";
