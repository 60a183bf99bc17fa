import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { pageCsp, servePage } from "./serve-page.ts";

/**
 * The operator's dashboard (web-node/dist/dashboard), public as files: it holds
 * nothing until the admin key, typed in or given in the URL fragment, opens its
 * feed. wrangler.toml runs the Worker first for /dashboard and /dashboard/*, so
 * its files get these headers. Its CSP is every page's and nothing more (tighter
 * than the donate page's): no WebAssembly, no workers, connections only to this
 * origin and its WebSocket; it draws with canvas and SVG from its own files.
 */
export const dashboardPageRoutes = new Hono<AppEnv>().get("*", (c) =>
  servePage(c.env.ASSETS, c.req.raw, { path: "/dashboard/", name: "dashboard", csp: (url) => pageCsp(url) }),
);
