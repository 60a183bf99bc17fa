import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { bearerOf, callerOf, isAdmin } from "../middleware/auth.ts";
import { poolOf } from "../pool-of.ts";

/**
 * Liveness for everyone; what the pool offers (the models served, the nodes
 * taking jobs, whose names are often host names) only to a key: an API key sees
 * its own pool, the admin key any pool (`?pool=`). On an open edge everyone is a key.
 */
export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const pool = isAdmin(c.env, c.req.raw)
    ? poolOf(c.req.query("pool"))
    : (await callerOf(c.env, bearerOf(c.req.header("authorization"))))?.pool;
  if (pool === undefined) return c.json({ status: "ok" });
  const fabric = fabricFor(c.env, pool);
  const [models, nodes] = await Promise.all([fabric.catalog(), fabric.nodeNames()]);
  return c.json({ status: "ok", pool, models: models.map((m) => m.id), nodes });
});
