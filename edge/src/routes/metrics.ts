import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { keyStoreOf } from "../keys/key-store-stub.ts";
import { mergeFamilies, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../metrics/index.ts";
import { ApiError } from "../middleware/api-error.ts";
import { isMetricsReader } from "../middleware/auth.ts";

/**
 * Prometheus' scrape target: every pool's metrics on one page, each series
 * labelled with its pool. Behind `RUNG_METRICS_KEY` or the admin key (bearer);
 * with neither configured it is closed, as the admin routes are.
 */
export const metricsRoutes = new Hono<AppEnv>().get("/", async (c) => {
  if (!isMetricsReader(c.env, c.req.raw)) {
    throw new ApiError({
      status: 401,
      message: "Metrics need a key: send RUNG_METRICS_KEY (or the admin key) as 'Authorization: Bearer <key>'.",
      code: "invalid_api_key",
    });
  }
  const pools = await keyStoreOf(c.env).pools();
  const perPool = await Promise.all(pools.map((pool) => fabricFor(c.env, pool).metrics(pool)));
  return c.body(renderPrometheus(mergeFamilies(perPool)), 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
});
