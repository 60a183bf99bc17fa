import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { accessOf } from "../fabric/visible-nodes.ts";
import { bearerOf, callerOf, isAdmin } from "../middleware/auth.ts";
import { poolOf } from "../pool-of.ts";

/**
 * Liveness for everyone; what the pool offers (the models served, the nodes
 * taking jobs, whose names are often host names) only to a key: an API key sees
 * its own pool's nodes of its tiers, the admin key any whole pool (`?pool=`).
 * On an open edge everyone is a key.
 */
export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const admin = isAdmin(c.env, c.req.raw);
  const caller = admin ? undefined : await callerOf(c.env, bearerOf(c.req.header("authorization")));
  if (!admin && !caller) return c.json({ status: "ok" });
  const pool = caller ? caller.pool : poolOf(c.req.query("pool"));
  const access = caller && accessOf(caller);
  const fabric = fabricFor(c.env, pool);
  const [models, nodes] = await Promise.all([fabric.catalog(access), fabric.nodeNames(access)]);
  return c.json({ status: "ok", pool, models: models.map((m) => m.id), nodes });
});
