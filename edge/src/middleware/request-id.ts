import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

/** Every response carries `x-request-id`, so a client's report can be found in the logs. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = `req_${crypto.randomUUID().replaceAll("-", "")}`;
  c.set("requestId", id);
  await next();
  if (c.res.status === 101) return;
  // Responses relayed from the Durable Object have immutable headers: copy before stamping.
  c.res = new Response(c.res.body, c.res);
  c.res.headers.set("x-request-id", id);
});
