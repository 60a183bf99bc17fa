import { defineConfig } from "vitest/config";

/** Agent tests run in plain Node: real sockets, real node-llama-cpp on generated models. */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
