import type { Env } from "../env.ts";

/** The one KeyStore object of the edge. */
export function keyStoreOf(env: Env) {
  return env.KEYS.get(env.KEYS.idFromName("keys"));
}
