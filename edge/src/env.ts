import type { Caller } from "./keys/caller.ts";

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
      /** Comma-separated static API keys (tier `private`, pool `main`, no limits), beside the keys made with the admin API. */
      RUNG_API_KEYS?: string;
      /** The `main` pool's static join token for owned nodes, beside the join tokens made with the admin API. */
      RUNG_NODE_TOKEN?: string;
      /**
       * "true" opens the edge: a request without a known key is served (as `anonymous`, every tier,
       * pool `main`, no limits) and nodes join `main` without a join token. Unset: closed, as a
       * deployed edge must be. `npm start` sets it, and says so.
       */
      RUNG_OPEN_EDGE?: string;
      /** Bearer key for `GET /metrics`, for a Prometheus scraper that should not hold the admin key. */
      RUNG_METRICS_KEY?: string;
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

export type AppEnv = { Bindings: Env; Variables: { requestId: string; caller: Caller } };

export { DEFAULT_POOL } from "@rung/shared/protocol";
