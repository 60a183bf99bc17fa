import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { nodeTokenAccepted } from "../middleware/auth.ts";

/** Nodes dial out to the edge here; the pool's Durable Object keeps the socket. */
export const nodeRoutes = new Hono<AppEnv>().get("/connect", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError({ status: 400, message: "Nodes connect here with a WebSocket upgrade.", code: "websocket_expected" });
  }
  if (!nodeTokenAccepted(c.env.RUNG_NODE_TOKEN, c.req.raw)) {
    throw new ApiError({ status: 401, message: "Invalid node token. Start the node with --token <join token>.", code: "invalid_node_token" });
  }
  return fabricFor(c.env).fetch("https://fabric/connect", { headers: c.req.raw.headers });
});
