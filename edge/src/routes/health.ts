import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";

/** Liveness, and what the pool offers: the models served and the nodes taking jobs. */
export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const fabric = fabricFor(c.env);
  const [models, nodes] = await Promise.all([fabric.catalog(), fabric.nodeNames()]);
  return c.json({ status: "ok", models: models.map((m) => m.id), nodes });
});
