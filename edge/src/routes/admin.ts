import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { adminKeyAuth } from "../middleware/auth.ts";
import { readCappedText } from "../read-capped-text.ts";
import { adminKeyRoutes } from "./admin-keys.ts";

/** A policy is a few KB; anything far larger is a mistake or an attack. */
const MAX_POLICY_BYTES = 256 * 1024;

/**
 * The operator's control of the pool's routing policy. PUT replaces it whole
 * (unset fields take their defaults) and takes effect for the next request;
 * an invalid policy is refused with the bad field named, and the old one stays.
 */
export const adminRoutes = new Hono<AppEnv>()
  .use("*", adminKeyAuth)
  .get("/policy", async (c) => c.json(await fabricFor(c.env).policy()))
  .put("/policy", async (c) => {
    const text = await readCappedText(c.req.raw, MAX_POLICY_BYTES);
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (error) {
      throw new ApiError({ status: 400, message: `The policy is not valid JSON: ${(error as Error).message}`, code: "invalid_json" });
    }
    const change = await fabricFor(c.env).setPolicy(input);
    if (!change.ok)
      throw new ApiError({ status: 400, message: `Invalid policy, the old one stays: ${change.message}`, code: "invalid_policy" });
    return c.json(change.policy);
  })
  .delete("/policy", async (c) => c.json(await fabricFor(c.env).resetPolicy()))
  .route("/", adminKeyRoutes);
