import { defineConfig } from "vite";

/**
 * The donate page is served by the edge's static assets under /donate/
 * (wrangler.toml `[assets]` points at web-node/dist), next to the Worker routes
 * /donate/config and /donate/connect.
 */
export default defineConfig({
  base: "/donate/",
  build: { outDir: "dist/donate", emptyOutDir: true, target: "es2022" },
  worker: { format: "es" },
  // shared/ and web-node/ each install zod: one copy in the bundle, the one zod-without-eval.ts configures.
  resolve: { dedupe: ["zod"] },
});
