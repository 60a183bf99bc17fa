import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { repoRoot } from "../../../tests/e2e/harness/paths.ts";
import { childPids } from "./process-stats.ts";

export interface BundleOptions {
  /** Override the toml's vars. */
  vars?: Record<string, string>;
  /** Opens workerd's V8 inspector on this port (for CPU profiles). */
  inspectorPort?: number;
}

export interface WorkerdBundle {
  /** Base URL on loopback, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The workerd process serving it, for its CPU time and memory in /proc; undefined if it could not be told apart. */
  pid: number | undefined;
  /** The bundle it runs (its source map beside it, `<script>.map`). */
  script: string;
  dispose(): Promise<void>;
}

/**
 * A Worker as it would deploy: the bundle `wrangler deploy --dry-run` writes for this
 * wrangler.toml, run by Miniflare directly in its own workerd process on loopback.
 * Not `wrangler dev`, whose proxy in front (a Node process and a second workerd) costs
 * several times the Worker's own latency and throughput.
 */
export async function startWorkerdBundle(config: string, options: BundleOptions = {}): Promise<WorkerdBundle> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const outdir = join(repoRoot, ".cache", "bench", "bundles", workerOptions.name ?? "worker");
  rmSync(outdir, { recursive: true, force: true });
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: join(repoRoot, ".cache", "xdg") };
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir, "-c", config], { cwd: repoRoot, env, stdio: "ignore" });
  const script = readdirSync(outdir).find((file) => file.endsWith(".js"));
  if (!script) throw new Error(`wrangler wrote no bundle for ${config}`);
  const before = childPids("workerd");
  const mf = new Miniflare({
    ...workerOptions,
    // Open, as `npm start`'s edge: the figures are of routing and relaying, not of key checks.
    bindings: { ...workerOptions.bindings, RUNG_OPEN_EDGE: "true", ...options.vars },
    host: "127.0.0.1",
    port: 0,
    modules: true,
    scriptPath: join(outdir, script),
    modulesRoot: outdir,
    ...(options.inspectorPort !== undefined && { inspectorPort: options.inspectorPort }),
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = (await mf.ready).origin;
  const started = [...childPids("workerd")].filter((pid) => !before.has(pid));
  return { url, pid: started.length === 1 ? started[0] : undefined, script: join(outdir, script), dispose: () => mf.dispose() };
}
