import { DASHBOARD_CONNECT_PATH, type DashboardFrame, DEFAULT_POOL, wireError } from "@rung/shared/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { keyStoreOf } from "../keys/key-store-stub.ts";
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
  // Refused here, before any pool's object wakes: strangers may knock, but not make objects (one per pool name) answer.
  if (!c.env.RUNG_ADMIN_KEY) return refusal("admin_disabled", "This edge has no dashboard: set the RUNG_ADMIN_KEY secret to enable it.");
  const pool = poolOf(c.req.query("pool"));
  if (pool !== DEFAULT_POOL && !(await keyStoreOf(c.env).pools()).includes(pool)) {
    return refusal("unknown_pool", `No pool '${pool}': no key or join token names it.`);
  }
  return fabricFor(c.env, pool).fetch(`https://fabric${DASHBOARD_CONNECT_PATH}`, { headers: c.req.raw.headers });
});

/** The upgrade accepted only to say why in a frame the page reads (a refused upgrade reaches a browser as a bare failure), then closed. */
function refusal(code: string, message: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const frame: DashboardFrame = { type: "error", error: wireError(code, message, false) };
  server.send(JSON.stringify(frame));
  server.close(1008, code);
  return new Response(null, { status: 101, webSocket: client });
}
