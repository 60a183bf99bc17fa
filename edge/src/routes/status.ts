import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { accessOf } from "../fabric/visible-nodes.ts";
import { apiKeyAuth } from "../middleware/auth.ts";
import { apiCors } from "../middleware/cors.ts";

/**
 * The key's pool as the router sees it: every catalog model with its quality
 * score and source, capabilities and first-token p95; each node's tier, load,
 * speed and breaker; open breakers; the queue; answers served per tier; and
 * where the policy came from.
 */
export const statusRoutes = new Hono<AppEnv>().use("*", apiCors, apiKeyAuth).get("/", async (c) => {
  const caller = c.get("caller");
  return c.json({ pool: caller.pool, ...(await fabricFor(c.env, caller.pool).status(accessOf(caller))) });
});
