import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./harness/paths.ts";
import { freePort } from "./harness/upgrade-refusing-proxy.ts";

const run = promisify(execFile);
const workspaces = ["", "shared", "edge", "native-node", "web-node", "tests"];

/**
 * What a newcomer has after `git clone` and `npm install`: the files git knows
 * (so no built donate page, no caches), and the installed packages, linked
 * from this checkout rather than downloaded again.
 */
let clone: string;
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  XDG_CONFIG_HOME: join(repoRoot, ".cache", "xdg"),
};

beforeAll(async () => {
  clone = mkdtempSync(join(tmpdir(), "rung-clone-"));
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    maxBuffer: 1 << 24,
  });
  for (const file of stdout.split("\0")) {
    if (!file || !existsSync(join(repoRoot, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(clone, file));
  }
  for (const workspace of workspaces) {
    const modules = join(repoRoot, workspace, "node_modules");
    if (existsSync(modules)) symlinkSync(modules, join(clone, workspace, "node_modules"));
  }
  expect(existsSync(join(clone, "web-node", "dist"))).toBe(false);
}, 60_000);

afterAll(() => {
  if (clone) rmSync(clone, { recursive: true, force: true });
});

describe("a fresh clone", () => {
  it("deploys: wrangler builds the donate page itself, then bundles the edge with its Durable Object", async () => {
    const { stdout } = await run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", join(clone, ".cache", "deploy")], {
      cwd: clone,
      env,
    });
    expect(stdout).toMatch(/env\.FABRIC \(Fabric\)\s+Durable Object/);
    expect(stdout).toMatch(/--dry-run: exiting now/);
    expect(existsSync(join(clone, "web-node", "dist", "donate", "index.html"))).toBe(true);
  }, 180_000);

  it("runs: wrangler dev serves /health and the donate page", async () => {
    rmSync(join(clone, "web-node", "dist"), { recursive: true, force: true });
    const port = await freePort();
    const dev = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port)], {
      cwd: clone,
      env,
      stdio: "ignore",
      detached: true,
    });
    try {
      const health = await waitFor(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      const donate = await fetch(`http://127.0.0.1:${port}/donate`);
      expect(donate.status).toBe(200);
      expect(await donate.text()).toContain("<html");
    } finally {
      stop(dev);
    }
  }, 180_000);
});

/** The first answer from a server that is still starting. */
async function waitFor(url: string, timeoutMs = 150_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** wrangler dev runs a tree of processes (npx, wrangler, workerd): end the whole group. */
function stop(child: ChildProcess): void {
  if (child.pid) process.kill(-child.pid, "SIGTERM");
}
