import { execFileSync } from "node:child_process";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { tunnelNodeStandIns } from "./test/tunnel-node-stand-ins.ts";
import { upstreamStandIn } from "./test/upstream-stand-in.ts";

// wrangler.toml's [assets] points at the built donate page, and without it wrangler refuses the whole config.
// The pool reads the config but does not run its [build] command, so run it here (it skips an up-to-date page).
execFileSync("node", [new URL("../scripts/build-donate-page.mjs", import.meta.url).pathname], { stdio: "inherit" });

/** Edge tests run inside workerd with the real Worker and Durable Object from wrangler.toml. */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: {
        // Short timeouts so timeout paths are tested in milliseconds, not minutes.
        bindings: {
          RUNG_TOKEN_TIMEOUT_MS: "1000",
          RUNG_REQUEST_TIMEOUT_MS: "6000",
          RUNG_ADMIN_KEY: "admin-key-for-tests",
          RUNG_OPEN_EDGE: "true",
        },
        // Calls to tunnel nodes and upstreams land here (Node side), not on the network.
        outboundService: (request) =>
          new URL(request.url).hostname.endsWith(".upstream.test") ? upstreamStandIn(request) : tunnelNodeStandIns(request),
      },
    }),
  ],
  // The fuzz tests' seed and counts (RUNG_FUZZ_SEED, …) reach the tests in workerd only through Vite's env prefix.
  envPrefix: ["VITE_", "RUNG_FUZZ_"],
  test: { include: ["test/**/*.test.ts"], testTimeout: 15_000 },
});
