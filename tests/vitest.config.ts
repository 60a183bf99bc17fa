import { defineConfig } from "vitest/config";

/**
 * End-to-end and fixture tests in Node: a real edge in workerd (wrangler),
 * real rung-agent processes on generated models, the official openai client.
 * Files run one at a time: each starts its own edge and agents on 2 cores.
 */
export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
