import { TunnelPath } from "@rung/shared/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { joinVerdict } from "../middleware/auth.ts";
import { poolOf } from "../pool-of.ts";

/** Nodes dial out to the edge here: a WebSocket, or the tunnel transport's HTTPS calls. */
export const nodeRoutes = new Hono<AppEnv>()
  .get("/connect", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError({ status: 400, message: "Nodes connect here with a WebSocket upgrade.", code: "websocket_expected" });
    }
    const pool = await joinedPool(c.env, c.req.raw);
    return fabricFor(c.env, pool).fetch("https://fabric/connect", { headers: c.req.raw.headers });
  })
  .post("/tunnel/register", async (c) => {
    const pool = await joinedPool(c.env, c.req.raw);
    return forwardTunnelCall(c.env, pool, `${TunnelPath.register}?pool=${pool}`, c.req.raw);
  })
  // Heartbeats and leaving are signed with the registration's secret; the Fabric of the pool the welcome named checks them.
  .post("/tunnel/heartbeat", (c) => forwardTunnelCall(c.env, poolOf(c.req.query("pool")), TunnelPath.heartbeat, c.req.raw))
  .post("/tunnel/leave", (c) => forwardTunnelCall(c.env, poolOf(c.req.query("pool")), TunnelPath.leave, c.req.raw));

async function joinedPool(env: AppEnv["Bindings"], request: Request): Promise<string> {
  const verdict = await joinVerdict(env, request);
  if (!verdict.ok) throw verdict.error;
  return verdict.pool;
}

function forwardTunnelCall(env: AppEnv["Bindings"], pool: string, path: string, request: Request): Promise<Response> {
  return fabricFor(env, pool).fetch(`https://fabric${path}`, { method: "POST", headers: request.headers, body: request.body });
}
