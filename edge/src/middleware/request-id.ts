import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

export const REQUEST_ID_HEADER = "x-request-id";

/** Every response carries `x-request-id`, so a client's report can be found in the logs. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = `req_${crypto.randomUUID().replaceAll("-", "")}`;
  c.set("requestId", id);
  await next();
  // Answers the Durable Object wrote carry it already: copying a response costs a stream's every chunk a hop.
  if (c.res.status === 101 || c.res.headers.get(REQUEST_ID_HEADER) === id) return;
  // Responses relayed from the Durable Object have immutable headers: copy before stamping.
  c.res = new Response(c.res.body, c.res);
  c.res.headers.set(REQUEST_ID_HEADER, id);
});
