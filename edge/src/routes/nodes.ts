import { TunnelPath } from "@rung/shared/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { JOIN_TOKEN_HEADER } from "../fabric/transports/transport.ts";
import { ApiError } from "../middleware/api-error.ts";
import { joinVerdict } from "../middleware/auth.ts";
import { poolOf } from "../pool-of.ts";

/** Nodes dial out to the edge here: a WebSocket, or the tunnel transport's HTTPS calls. */
export const nodeRoutes = new Hono<AppEnv>()
  .get("/connect", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError({ status: 400, message: "Nodes connect here with a WebSocket upgrade.", code: "websocket_expected" });
    }
    const { pool, headers } = await admitted(c.env, c.req.raw);
    return fabricFor(c.env, pool).fetch("https://fabric/connect", { headers });
  })
  .post("/tunnel/register", async (c) => {
    const { pool, headers } = await admitted(c.env, c.req.raw);
    return fabricFor(c.env, pool).fetch(`https://fabric${TunnelPath.register}?pool=${pool}`, {
      method: "POST",
      headers,
      body: c.req.raw.body,
    });
  })
  // Heartbeats and leaving are signed with the registration's secret; the Fabric of the pool the welcome named checks them.
  .post("/tunnel/heartbeat", (c) => forwardTunnelCall(c.env, poolOf(c.req.query("pool")), TunnelPath.heartbeat, c.req.raw))
  .post("/tunnel/leave", (c) => forwardTunnelCall(c.env, poolOf(c.req.query("pool")), TunnelPath.leave, c.req.raw));

/** The pool a node may join, and the headers its way in carries: the join token's id set by the Worker alone. */
async function admitted(env: AppEnv["Bindings"], request: Request): Promise<{ pool: string; headers: Headers }> {
  const verdict = await joinVerdict(env, request);
  if (!verdict.ok) throw verdict.error;
  const headers = new Headers(request.headers);
  headers.delete(JOIN_TOKEN_HEADER);
  if (verdict.joinTokenId) headers.set(JOIN_TOKEN_HEADER, verdict.joinTokenId);
  return { pool: verdict.pool, headers };
}

function forwardTunnelCall(env: AppEnv["Bindings"], pool: string, path: string, request: Request): Promise<Response> {
  return fabricFor(env, pool).fetch(`https://fabric${path}`, { method: "POST", headers: request.headers, body: request.body });
}
