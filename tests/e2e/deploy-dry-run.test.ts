import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./harness/paths.ts";

describe("wrangler deploy --dry-run", () => {
  it("bundles the edge with its Durable Object binding, ready to deploy", async () => {
    const outdir = join(repoRoot, ".cache", "deploy-dry-run");
    const { stdout } = await promisify(execFile)("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
      cwd: repoRoot,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        XDG_CONFIG_HOME: join(repoRoot, ".cache", "xdg"),
      },
    });
    expect(stdout).toMatch(/env\.FABRIC \(Fabric\)\s+Durable Object/);
    expect(stdout).toMatch(/--dry-run: exiting now/);
  }, 120_000);
});
