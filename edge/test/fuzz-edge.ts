import { env, SELF } from "cloudflare:test";
import app from "../src/index.ts";

/**
 * Calls the edge's Worker, in-process or through `SELF`. In-process runs the same handler (the Worker's
 * default export is the Hono app) against the same Durable Objects, at a constant cost per call; through
 * `SELF` each call costs more than the one before it in the same file (in @cloudflare/vitest-pool-workers
 * 0.15: 100 requests took 0.4 s at first and 4 s after 400 others), so a fuzz run of hundreds of calls sends
 * only some of them that way, for the real request path (a declared content length, a streamed body).
 */
export function callEdge(path: string, init: RequestInit, viaSelf: boolean): Promise<Response> {
  return viaSelf ? SELF.fetch(`http://edge${path}`, init) : Promise.resolve(app.request(path, init, env));
}
