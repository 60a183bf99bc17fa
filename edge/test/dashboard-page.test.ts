import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { cspOf } from "./test-node.ts";

// The page comes from web-node/dist/dashboard (`npm run build -w web-node`). As in donate-page.test.ts,
// SELF reaches the Worker directly: wrangler.toml's run_worker_first sends /dashboard/* to it in production.

describe("the dashboard page", () => {
  it("is served under the pages' isolation and a CSP with no eval, wasm or workers", async () => {
    const response = await SELF.fetch("https://edge.example/dashboard/");
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/<script type="module"[^>]* src="\/dashboard\/assets\//);
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const csp = cspOf(response);
    expect(csp.get("script-src")).toEqual(["'self'"]);
    expect(csp.get("connect-src")).toEqual(["'self'", "wss://edge.example"]);
    expect(csp.get("worker-src")).toBeUndefined();
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("leads /dashboard to the page, keeping the query; an unknown file is a 404 in OpenAI's shape", async () => {
    const response = await SELF.fetch("http://edge/dashboard?pool=lab", { redirect: "manual" });
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe("/dashboard/?pool=lab");
    const missing = await SELF.fetch("http://edge/dashboard/assets/nothing.js");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe(
      "The dashboard has no file /dashboard/assets/nothing.js",
    );
  });
});
