import { defineConfig } from "vitest/config";

/** The browser node's pure parts (model choice, error wording, figures) run in Node; the page itself is tested in Chromium from tests/browser. */
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
