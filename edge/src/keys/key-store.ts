import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import type { Caller } from "./caller.ts";

/**
 * SKELETON (being built): the edge's API keys and join tokens, hashed, in one
 * object's SQLite that every pool's requests reach (`KEYS.idFromName("keys")`).
 */
export class KeyStore extends DurableObject<Env> {
  /** The caller a key secret stands for; null for an unknown or revoked key. */
  async authorize(_secret: string): Promise<Caller | null> {
    return null;
  }

  /** The pool a join token admits nodes to; null for an unknown or revoked token. */
  async joinPool(_token: string): Promise<string | null> {
    return null;
  }

  /** How many live keys exist (a closed edge with none says how to make one). */
  async keyCount(): Promise<number> {
    return 0;
  }

  /** Every pool some live key or join token names, `main` always included. */
  async pools(): Promise<string[]> {
    return ["main"];
  }

  /** Whether some live key of this pool may reach public (donated) nodes. */
  async poolTakesPublic(_pool: string): Promise<boolean> {
    return false;
  }
}
