import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";

export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const models = await fabricFor(c.env).catalog();
  return c.json({ status: "ok", models: models.map((m) => m.id) });
});
