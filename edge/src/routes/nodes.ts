import { TunnelPath } from "@rung/shared/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { nodeTokenAccepted } from "../middleware/auth.ts";

/** Nodes dial out to the edge here: a WebSocket, or the tunnel transport's HTTPS calls. */
export const nodeRoutes = new Hono<AppEnv>()
  .get("/connect", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError({ status: 400, message: "Nodes connect here with a WebSocket upgrade.", code: "websocket_expected" });
    }
    requireJoinToken(c.env.RUNG_NODE_TOKEN, c.req.raw);
    return fabricFor(c.env).fetch("https://fabric/connect", { headers: c.req.raw.headers });
  })
  .post("/tunnel/register", async (c) => {
    requireJoinToken(c.env.RUNG_NODE_TOKEN, c.req.raw);
    return forwardTunnelCall(c.env, TunnelPath.register, c.req.raw);
  })
  // Heartbeats and leaving are signed with the registration's secret; the Fabric checks them.
  .post("/tunnel/heartbeat", (c) => forwardTunnelCall(c.env, TunnelPath.heartbeat, c.req.raw))
  .post("/tunnel/leave", (c) => forwardTunnelCall(c.env, TunnelPath.leave, c.req.raw));

function requireJoinToken(expected: string | undefined, request: Request): void {
  if (!nodeTokenAccepted(expected, request)) {
    throw new ApiError({
      status: 401,
      message: "Invalid node token. Start the node with --token <join token>.",
      code: "invalid_node_token",
    });
  }
}

function forwardTunnelCall(env: AppEnv["Bindings"], path: string, request: Request): Promise<Response> {
  return fabricFor(env).fetch(`https://fabric${path}`, { method: "POST", headers: request.headers, body: request.body });
}
