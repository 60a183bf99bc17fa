import { DEFAULT_POOL, type Env } from "../env.ts";

/** The pool's Durable Object: one `Fabric` per pool name, addressed by name. */
export function fabricFor(env: Env, pool: string = DEFAULT_POOL) {
  return env.FABRIC.get(env.FABRIC.idFromName(pool));
}
