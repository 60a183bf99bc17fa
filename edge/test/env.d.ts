import type { Env as RungEnv } from "../src/env.ts";

// `env` from cloudflare:test is typed as Cloudflare.Env; give it the edge's bindings.
declare global {
  namespace Cloudflare {
    interface Env extends RungEnv {}
  }
}
