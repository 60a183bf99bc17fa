import { parsePolicy } from "@rung/shared/routing";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import type { UsageQuery } from "../fabric/usage-ledger.ts";
import { audit } from "../keys/audit.ts";
import { keyStoreOf } from "../keys/key-store-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { adminKeyAuth } from "../middleware/auth.ts";
import { poolOf } from "../pool-of.ts";
import { readCappedText } from "../read-capped-text.ts";
import { adminKeyRoutes } from "./admin-keys.ts";

/** A policy is a few KB; anything far larger is a mistake or an attack. */
const MAX_POLICY_BYTES = 256 * 1024;

/**
 * The operator's control: each pool's routing policy (`?pool=`, default
 * `main`), keys and join tokens, and usage. PUT replaces a policy whole
 * (unset fields take their defaults) and takes effect for the next request;
 * an invalid policy is refused with the bad field named, and the old one stays.
 * Every change writes an audit line.
 */
export const adminRoutes = new Hono<AppEnv>()
  .use("*", adminKeyAuth)
  .get("/policy", async (c) => c.json(await fabricFor(c.env, poolOf(c.req.query("pool"))).policy()))
  .put("/policy", async (c) => {
    const text = await readCappedText(c.req.raw, MAX_POLICY_BYTES);
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (error) {
      throw new ApiError({ status: 400, message: `The policy is not valid JSON: ${(error as Error).message}`, code: "invalid_json" });
    }
    const pool = poolOf(c.req.query("pool"));
    // Validated here first: only a policy crosses to the object (an input nested thousands deep cannot be cloned to it).
    const parsed = parsePolicy(input);
    if (!parsed.ok)
      throw new ApiError({ status: 400, message: `Invalid policy, the old one stays: ${parsed.message}`, code: "invalid_policy" });
    const change = await fabricFor(c.env, pool).setPolicy(parsed.policy);
    if (!change.ok)
      throw new ApiError({ status: 400, message: `Invalid policy, the old one stays: ${change.message}`, code: "invalid_policy" });
    audit("policy.replace", "policy", pool);
    return c.json(change.policy);
  })
  .delete("/policy", async (c) => {
    const pool = poolOf(c.req.query("pool"));
    const policy = await fabricFor(c.env, pool).resetPolicy();
    audit("policy.reset", "policy", pool);
    return c.json(policy);
  })
  // Public nodes quarantined because their answers differed from a trusted node's, with both texts as evidence.
  .get("/quarantine", async (c) => c.json({ object: "list", data: await fabricFor(c.env, poolOf(c.req.query("pool"))).quarantines() }))
  // Usage of every pool's keys by day, key and model: `?key=key_…&from=YYYY-MM-DD&to=YYYY-MM-DD`, each optional.
  .get("/usage", async (c) => {
    const query = usageQueryOf(c.req.query("key"), c.req.query("from"), c.req.query("to"));
    const pools = await keyStoreOf(c.env).pools();
    const perPool = await Promise.all(
      pools.map(async (pool) => (await fabricFor(c.env, pool).usage(query)).map((row) => ({ pool, ...row }))),
    );
    return c.json({ object: "list", data: perPool.flat() });
  })
  .route("/", adminKeyRoutes);

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function usageQueryOf(key: string | undefined, from: string | undefined, to: string | undefined): UsageQuery {
  for (const [name, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (value !== undefined && !(DAY.test(value) && !Number.isNaN(Date.parse(value)))) {
      throw new ApiError({ status: 400, message: `'${name}' must be a day as YYYY-MM-DD (UTC).`, param: name, code: "invalid_value" });
    }
  }
  return { ...(key && { keyId: key }), ...(from && { from }), ...(to && { to }) };
}
