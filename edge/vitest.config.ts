import { existsSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { tunnelNodeStandIns } from "./test/tunnel-node-stand-ins.ts";
import { upstreamStandIn } from "./test/upstream-stand-in.ts";

// wrangler.toml's [assets] points at the built donate page; without it wrangler refuses the whole config.
if (!existsSync(new URL("../web-node/dist/donate/index.html", import.meta.url))) {
  throw new Error("The edge serves the donate page from web-node/dist: run `npm run build -w web-node` first (npm test does).");
}

/** Edge tests run inside workerd with the real Worker and Durable Object from wrangler.toml. */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: {
        // Short timeouts so timeout paths are tested in milliseconds, not minutes.
        bindings: { RUNG_TOKEN_TIMEOUT_MS: "1000", RUNG_REQUEST_TIMEOUT_MS: "6000", RUNG_ADMIN_KEY: "admin-key-for-tests" },
        // Calls to tunnel nodes and upstreams land here (Node side), not on the network.
        outboundService: (request) =>
          new URL(request.url).hostname.endsWith(".upstream.test") ? upstreamStandIn(request) : tunnelNodeStandIns(request),
      },
    }),
  ],
  test: { include: ["test/**/*.test.ts"], testTimeout: 15_000 },
});
