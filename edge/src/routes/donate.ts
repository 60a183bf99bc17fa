import { DONATE_CONNECT_PATH, donateConfig } from "@rung/shared/protocol";
import { Hono } from "hono";
import type { AppEnv, Env } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { keyStoreOf } from "../keys/key-store-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { isOpenEdge } from "../middleware/auth.ts";
import { poolOf } from "../pool-of.ts";
import { serveDonatePage } from "./donate-page.ts";

const NO_KEY_TAKES_PUBLIC = "No key of this pool may send its prompts to donated tabs, so there is no work here for a tab.";

/**
 * The donate page and its two calls. All public: a donated tab has no token.
 * `?pool=` picks the pool (default `main`). A pool takes tabs when its policy
 * opens the page and some key of the pool may use public nodes (or the edge is
 * open): a tab nobody may send prompts to would only wait.
 * wrangler.toml runs the Worker first for /donate and /donate/*, so the page's
 * files come through here too, and get their isolation headers.
 */
export const donateRoutes = new Hono<AppEnv>()
  // What the page offers the donor, from the pool's current policy (RUNG_POLICY or the admin's).
  .get("/config", async (c) => {
    const pool = poolOf(c.req.query("pool"));
    const [{ donate }, wanted] = await Promise.all([fabricFor(c.env, pool).policy(), publicNodesWanted(c.env, pool)]);
    const accepting = donate.acceptPublicNodes && wanted;
    const config = donateConfig({
      accepting,
      ggufModels: donate.ggufModels,
      webllmModels: donate.webllmModels,
      pool,
      ...(!accepting && { reason: donate.acceptPublicNodes ? NO_KEY_TAKES_PUBLIC : "The operator has closed this pool's donate page." }),
    });
    return c.json(config, 200, { "cache-control": "no-store" });
  })
  // The open entrance. The Fabric knows a socket came this way by the path the Worker
  // calls it on, which no client chooses: /v1/nodes/connect always calls /connect.
  .get("/connect", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError({ status: 400, message: "Donated tabs connect here with a WebSocket upgrade.", code: "websocket_expected" });
    }
    const pool = poolOf(c.req.query("pool"));
    if (!(await publicNodesWanted(c.env, pool)))
      throw new ApiError({ status: 403, message: NO_KEY_TAKES_PUBLIC, code: "donations_closed" });
    return fabricFor(c.env, pool).fetch(`https://fabric${DONATE_CONNECT_PATH}`, { headers: c.req.raw.headers });
  })
  .get("*", (c) => serveDonatePage(c.env.ASSETS, c.req.raw));

function publicNodesWanted(env: Env, pool: string): Promise<boolean> | boolean {
  return isOpenEdge(env) || keyStoreOf(env).poolTakesPublic(pool);
}
