import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";

/**
 * CORS for browser clients of the API: an origin the `main` pool's policy lists
 * (`cors.allowedOrigins`) may call it from a visitor's browser and read the
 * answer's headers. Requests without an `Origin` (servers, SDKs in Node) cost
 * nothing: they skip Hono's middleware, which sets its headers on every request
 * and so copies each answer's Response twice; a browser's cost one read of the policy.
 */
export const apiCors = createMiddleware<AppEnv>((c, next) => (c.req.header("origin") ? browserCors(c, next) : next()));

const browserCors = cors({
  origin: async (origin, c) => {
    const { allowedOrigins } = (await fabricFor(c.env as AppEnv["Bindings"]).policy()).cors;
    if (allowedOrigins.includes("*")) return "*";
    return allowedOrigins.includes(origin) ? origin : null;
  },
  allowMethods: ["GET", "POST", "OPTIONS"],
  exposeHeaders: [
    "x-request-id",
    "x-rung-model",
    "x-rung-node",
    "x-rung-attempts",
    "x-rung-escalations",
    "retry-after",
    "retry-after-ms",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
  ],
  maxAge: 600,
});
