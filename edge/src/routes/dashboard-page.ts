import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { servePage } from "./serve-page.ts";

/**
 * The operator's dashboard (web-node/dist/dashboard), public as files: it holds
 * nothing until the admin key, typed in or given in the URL fragment, opens its
 * feed. wrangler.toml runs the Worker first for /dashboard and /dashboard/*, so
 * its files get these headers.
 */
export const dashboardPageRoutes = new Hono<AppEnv>().get("*", (c) =>
  servePage(c.env.ASSETS, c.req.raw, { path: "/dashboard/", name: "dashboard", csp: dashboardPageCsp }),
);

/**
 * Tighter than the donate page's: no WebAssembly, no workers, and connections
 * only to this origin and its WebSocket (named, as older browsers do not count
 * ws/wss as `'self'`). The page draws with canvas and SVG from its own scripts
 * and styles; no inline script or style, no eval, no framing.
 */
export function dashboardPageCsp(url: URL): string {
  const socketOrigin = `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    `connect-src 'self' ${socketOrigin}`,
    "img-src 'self' data:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
