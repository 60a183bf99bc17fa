import { DONATE_CONNECT_PATH, donateConfig } from "@rung/shared/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { serveDonatePage } from "./donate-page.ts";

/**
 * The donate page and its two calls. All public: a donated tab has no token.
 * wrangler.toml runs the Worker first for /donate and /donate/*, so the page's
 * files come through here too, and get their isolation headers.
 */
export const donateRoutes = new Hono<AppEnv>()
  // What the page offers the donor, from the pool's current policy (RUNG_POLICY or the admin's).
  .get("/config", async (c) => {
    const { donate } = await fabricFor(c.env).policy();
    const config = donateConfig({ accepting: donate.acceptPublicNodes, ggufModels: donate.ggufModels, webllmModels: donate.webllmModels });
    return c.json(config, 200, { "cache-control": "no-store" });
  })
  // The open entrance. The Fabric knows a socket came this way by the path the Worker
  // calls it on, which no client chooses: /v1/nodes/connect always calls /connect.
  .get("/connect", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError({ status: 400, message: "Donated tabs connect here with a WebSocket upgrade.", code: "websocket_expected" });
    }
    return fabricFor(c.env).fetch(`https://fabric${DONATE_CONNECT_PATH}`, { headers: c.req.raw.headers });
  })
  .get("*", (c) => serveDonatePage(c.env.ASSETS, c.req.raw));
