import { defineConfig } from "vite";

/**
 * The operator's dashboard, a second page beside the donate page: served by the
 * edge's static assets under /dashboard/ (web-node/dist/dashboard). Its own
 * build, because each page has its own `base`.
 */
export default defineConfig({
  root: "dashboard",
  base: "/dashboard/",
  build: { outDir: "../dist/dashboard", emptyOutDir: true, target: "es2022" },
  // shared/ and web-node/ each install zod: one copy in the bundle, the one zod-without-eval.ts configures.
  resolve: { dedupe: ["zod"] },
});
