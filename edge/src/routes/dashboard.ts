import { DASHBOARD_CONNECT_PATH } from "@rung/shared/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { poolOf } from "../pool-of.ts";

/**
 * The dashboard's live feed, `GET /admin/dashboard/connect?pool=`. Mounted
 * before `/admin` and outside its bearer check: a browser cannot set headers
 * on a WebSocket, so the pool's object takes the admin key as the first frame
 * and refuses a wrong one in words (an upgrade refused here would reach the
 * page as a bare failure).
 */
export const dashboardRoutes = new Hono<AppEnv>().get("/connect", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError({ status: 400, message: "The dashboard feed expects a WebSocket upgrade.", code: "websocket_expected" });
  }
  const pool = poolOf(c.req.query("pool"));
  return fabricFor(c.env, pool).fetch(`https://fabric${DASHBOARD_CONNECT_PATH}`, { headers: c.req.raw.headers });
});
