import { defineConfig } from "vitest/config";

/** Pure logic: no runtime beyond Node, no sockets, no models. */
export default defineConfig({
  test: { include: ["**/*.test.ts"], exclude: ["**/node_modules/**"], environment: "node" },
});
